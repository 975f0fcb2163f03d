# The report: Snakemake's own HTML report (`snakemake --report report.html <target>`) of one
# experiment (target exp/<corpus>_<model>/report/done) or of every backend of a corpus side by
# side (target results/report/<corpus>/done). Build the target first (or add --report-after-run).
#
#   report_samples     a fixed set of eval sentences per emotion: the real recording, the floor,
#                      the synthesis in each emotion and the intensity sweep, through the one
#                      synthesis function (pytorch_backend/synth), plus real-vs-synthesized mels
#   report_experiment  the report items of one experiment / of a corpus: listen.html (players
#   report_corpus      side by side), tables.html, the samples and the plots, with categories,
#                      subcategories, labels and captions (report/*.rst include one per item)
# Inputs and arguments: pipeline/report_paths.py. None of this is an input of
# exp/<exp>/done or results/<corpus>.md.

from pipeline.report_paths import ReportPaths

REPORTS = ReportPaths(CONFS)
R = P.REPORT_PARTS
SAMPLE_LABELS = {"sentence": "{sentence}", "speech": "{speech}", "vocoder": "{vocoder}", "intensity": "{intensity}"}


rule report_samples:
    input:
        assets=P.ASSETS,
        floors=REPORTS.floors,
        data=REPORTS.validated,
    output:
        P.SAMPLES_JSON,
    params:
        model=P.of_job(P.EXP),
        data_dir=REPORTS.data_dir,
        vocoders=REPORTS.vocoders_arg,
        floors=REPORTS.floor_args,
        pipes=REPORTS.pipes_arg,
        out=P.of_job(P.SAMPLES),
    threads: 2
    log:
        P.fill(P.EXP_LOG, stage="report_samples"),
    shell:
        "python -m steps.report_samples --model {params.model} --data-dir {params.data_dir}"
        " --vocoders {params.vocoders} {params.floors} {params.pipes} --threads {threads}"
        " --out {params.out} --log {log}"


rule report_experiment:
    input:
        samples=P.SAMPLES_JSON,
        done=P.DONE,
    output:
        listen=report(P.REPORT + R["listen"], caption="../report/listen.rst", category="{corpus}_{model}",
                      subcategory="listen"),
        tables=report(P.REPORT + R["tables"], caption="../report/tables.rst", category="{corpus}_{model}",
                      subcategory="results"),
        samples=report(directory(P.REPORT + R["samples"]), patterns=[P.REPORT_SAMPLE],
                       caption="../report/sample.rst", category="{corpus}_{model}",
                       subcategory="samples: {emotion}", labels=SAMPLE_LABELS),
        figures=report(directory(P.REPORT + R["figures"]), patterns=[P.REPORT_FIGURE],
                       caption="../report/figure.rst", category="{corpus}_{model}", subcategory="{kind}",
                       labels={"figure": "{figure}"}),
        captions=directory(P.REPORT + R["captions"]),
        done=touch(P.REPORT + R["done"]),
    params:
        vocoders=REPORTS.vocoders_arg,
        split=REPORTS.eval_split,
        floor=REPORTS.floor_flag,
        tables=REPORTS.exp_tables_arg,
        out=P.of_job(P.REPORT),
    log:
        P.fill(P.EXP_LOG, stage="report"),
    shell:
        "python -m steps.make_report --corpus {wildcards.corpus} --models {wildcards.model}"
        " --vocoders {params.vocoders} --split {params.split} {params.floor} {params.tables}"
        " --out {params.out} --log {log}"


rule report_corpus:
    input:
        table=P.TABLE_MD,
        samples=REPORTS.corpus_samples,
    output:
        listen=report(P.TABLE_REPORT + R["listen"], caption="../report/listen.rst",
                      category="{corpus}: every backend", subcategory="listen"),
        tables=report(P.TABLE_REPORT + R["tables"], caption="../report/tables.rst",
                      category="{corpus}: every backend", subcategory="results"),
        samples=report(directory(P.TABLE_REPORT + R["samples"]), patterns=[P.REPORT_SAMPLE],
                       caption="../report/sample.rst", category="{corpus}: every backend",
                       subcategory="samples: {emotion}", labels=SAMPLE_LABELS),
        figures=report(directory(P.TABLE_REPORT + R["figures"]), patterns=[P.REPORT_FIGURE],
                       caption="../report/figure.rst", category="{corpus}: every backend",
                       subcategory="{kind}", labels={"figure": "{figure}"}),
        captions=directory(P.TABLE_REPORT + R["captions"]),
        done=touch(P.TABLE_REPORT + R["done"]),
    params:
        models=REPORTS.models_arg,
        vocoders=REPORTS.corpus_vocoders_arg,
        split=REPORTS.corpus_split,
        tables=REPORTS.corpus_tables_arg,
        out=P.of_job(P.TABLE_REPORT),
    log:
        P.TABLE_REPORT_LOG,
    shell:
        "python -m steps.make_report --corpus {wildcards.corpus} --models {params.models}"
        " --vocoders {params.vocoders} --split {params.split} {params.tables} --out {params.out} --log {log}"

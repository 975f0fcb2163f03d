# Data preparation of every corpus, driven by its recipe package local/<recipe>/ (the conf's
# `recipe`, default its name; see local/prepare.py): SOURCE in __init__.py says where the corpus
# comes from, corpus.py reads it. Adding a corpus is local/<name>/ + conf/corpus/<name>.yaml: no
# rule file.
#   public corpora:    download_corpus fetches and verifies the corpus into the conf's root (or only
#                      checks its layout when it is already there), then prepare_corpus runs;
#   licence-gated:     nothing is downloaded; when root does not hold the corpus, building the DAG
#                      (dry runs too) stops with where to get it and the conf key to set;
#   generated here:    prepare_corpus waits for the recipe's own generator rule (recipes/<recipe>.smk).

from local.prepare import corpus_prepare_input, corpus_source, downloaded_corpora


rule download_corpus:
    output:
        P.DOWNLOAD_DONE,
    wildcard_constraints:
        corpus=P.alternation(downloaded_corpora(CONFS)),
    params:
        conf=lambda wc: SLICES.download(wc, corpus_source(CONFS, wc.corpus).layout),
        archives=P.of_job(P.ARCHIVES),
    log:
        P.fill(P.DATA_LOG, stage="download"),
    shell:
        "python -m steps.download_corpus --conf {params.conf:q} --archives {params.archives}"
        " --touch {output} --log {log}"


rule prepare_corpus:
    input:
        lambda wc: corpus_prepare_input(CONFS, wc.corpus),
    output:
        expand(P.DATA_FILE, split=P.SPLITS, file=P.DATA_FILES, allow_missing=True),
    params:
        conf=SLICES.prep,
        recipe=lambda wc: CONFS.corpus_conf(wc.corpus)["recipe"],
        root=lambda wc: SLICES.corpus_root(wc.corpus),
        data_dir=P.of_job(P.DATA),
    threads: 2
    log:
        P.fill(P.DATA_LOG, stage="prepare"),
    shell:
        "python -m local.prepare --recipe {params.recipe} --conf {params.conf:q} --root {params.root:q}"
        " --data-dir {params.data_dir} --no-progress --log {log}"

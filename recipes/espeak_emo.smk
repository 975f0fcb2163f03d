# The embedded eSpeak NG emotional corpus (local/espeak_emo/) is generated here, offline, into
# downloads/<corpus>/ (metadata.tsv written last), for every corpus conf whose `recipe` is
# espeak_emo (e.g. a smaller slice); prepare_corpus (recipes/corpus.smk) then writes its data dirs.


rule espeak_emo_generate:
    output:
        P.GENERATED,
    wildcard_constraints:
        corpus=P.alternation(CONFS.corpora_of_recipe("espeak_emo")),
    params:
        conf=SLICES.generated,
        root=P.of_job(P.DOWNLOADS),
    threads: 2
    log:
        P.fill(P.DATA_LOG, stage="generate"),
    shell:
        "python -m local.espeak_emo.generate --conf {params.conf:q} --root {params.root} --log {log}"

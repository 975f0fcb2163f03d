# Data preparation of the embedded eSpeak NG emotional corpus (and of any corpus conf whose
# `recipe` is espeak_emo, e.g. a smaller slice). Generates the corpus offline into
# downloads/<corpus>/ and turns it into the Kaldi data dirs data/<corpus>/{train,dev,eval}/.


rule espeak_emo_generate:
    output:
        "downloads/{corpus}/metadata.tsv",
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("espeak_emo")),
    params:
        conf=CONFS.generated_corpus_conf,
    threads: 2
    log:
        "data/{corpus}/log/generate.log",
    shell:
        "python -m local.espeak_emo.generate --conf {params.conf:q}"
        " --root downloads/{wildcards.corpus} --log {log}"


rule espeak_emo_prepare:
    input:
        "downloads/{corpus}/metadata.tsv",
    output:
        expand("data/{{corpus}}/{split}/{name}", split=SPLITS, name=DATA_FILES),
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("espeak_emo")),
    params:
        conf=CONFS.generated_corpus_conf,
    log:
        "data/{corpus}/log/prepare.log",
    shell:
        "python -m local.espeak_emo.prepare --conf {params.conf:q}"
        " --root downloads/{wildcards.corpus} --data-dir data/{wildcards.corpus} --log {log}"

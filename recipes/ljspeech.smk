# Data preparation of LJSpeech 1.1 (public domain, one English reader), for every corpus conf whose
# `recipe` is ljspeech.
# ljspeech_download fetches and verifies the corpus into the conf's root (or only checks the layout
# when it is already there); ljspeech_prepare writes data/<corpus>/{train,dev,eval}/ (local/ljspeech/).

from local.common.source import corpus_input, corpus_root
from local.ljspeech import SOURCE as LJSPEECH_SOURCE


rule ljspeech_download:
    output:
        "downloads/{corpus}/.download.done",
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("ljspeech")),
    params:
        conf=lambda wc: CONFS.download_slice(wc, LJSPEECH_SOURCE.layout),
    log:
        "data/{corpus}/log/download.log",
    shell:
        "python -m steps.download_corpus --conf {params.conf:q}"
        " --archives downloads/.archives/{wildcards.corpus} --touch {output} --log {log}"


rule ljspeech_prepare:
    input:
        lambda wc: corpus_input(LJSPEECH_SOURCE, CONFS.corpus_conf(wc.corpus),
                                CONFS.conf_dir / "corpus" / f"{wc.corpus}.yaml"),
    output:
        expand("data/{{corpus}}/{split}/{name}", split=SPLITS, name=DATA_FILES),
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("ljspeech")),
    params:
        conf=CONFS.prep_slice,
        root=lambda wc: str(corpus_root(CONFS.corpus_conf(wc.corpus))),
    threads: 2
    log:
        "data/{corpus}/log/prepare.log",
    shell:
        "python -m local.ljspeech.prepare --conf {params.conf:q} --root {params.root:q}"
        " --data-dir data/{wildcards.corpus} --no-progress --log {log}"

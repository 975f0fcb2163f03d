# Data preparation of THCHS-30 (OpenSLR 18, Mandarin), for every corpus conf whose `recipe` is
# thchs30.
# thchs30_download fetches and verifies the corpus into the conf's root (or only checks the layout
# when it is already there); thchs30_prepare writes data/<corpus>/{train,dev,eval}/ (local/thchs30/).

from local.common.source import corpus_input, corpus_root
from local.thchs30 import SOURCE as THCHS30_SOURCE


rule thchs30_download:
    output:
        "downloads/{corpus}/.download.done",
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("thchs30")),
    params:
        conf=lambda wc: CONFS.download_slice(wc, THCHS30_SOURCE.layout),
    log:
        "data/{corpus}/log/download.log",
    shell:
        "python -m steps.download_corpus --conf {params.conf:q}"
        " --archives downloads/.archives/{wildcards.corpus} --touch {output} --log {log}"


rule thchs30_prepare:
    input:
        lambda wc: corpus_input(THCHS30_SOURCE, CONFS.corpus_conf(wc.corpus),
                                CONFS.conf_dir / "corpus" / f"{wc.corpus}.yaml"),
    output:
        expand("data/{{corpus}}/{split}/{name}", split=SPLITS, name=DATA_FILES),
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("thchs30")),
    params:
        conf=CONFS.prep_slice,
        root=lambda wc: str(corpus_root(CONFS.corpus_conf(wc.corpus))),
    threads: 2
    log:
        "data/{corpus}/log/prepare.log",
    shell:
        "python -m local.thchs30.prepare --conf {params.conf:q} --root {params.root:q}"
        " --data-dir data/{wildcards.corpus} --no-progress --log {log}"

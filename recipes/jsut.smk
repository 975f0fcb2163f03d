# Data preparation of JSUT 1.1 (Japanese, one speaker), for every corpus conf whose `recipe` is
# jsut.
# jsut_download fetches and verifies the corpus into the conf's root (or only checks the layout
# when it is already there); jsut_prepare writes data/<corpus>/{train,dev,eval}/ (local/jsut/).

from local.common.source import corpus_input, corpus_root
from local.jsut import SOURCE as JSUT_SOURCE


rule jsut_download:
    output:
        "downloads/{corpus}/.download.done",
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("jsut")),
    params:
        conf=lambda wc: CONFS.download_slice(wc, JSUT_SOURCE.layout),
    log:
        "data/{corpus}/log/download.log",
    shell:
        "python -m steps.download_corpus --conf {params.conf:q}"
        " --archives downloads/.archives/{wildcards.corpus} --touch {output} --log {log}"


rule jsut_prepare:
    input:
        lambda wc: corpus_input(JSUT_SOURCE, CONFS.corpus_conf(wc.corpus),
                                CONFS.conf_dir / "corpus" / f"{wc.corpus}.yaml"),
    output:
        expand("data/{{corpus}}/{split}/{name}", split=SPLITS, name=DATA_FILES),
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("jsut")),
    params:
        conf=CONFS.prep_slice,
        root=lambda wc: str(corpus_root(CONFS.corpus_conf(wc.corpus))),
    threads: 2
    log:
        "data/{corpus}/log/prepare.log",
    shell:
        "python -m local.jsut.prepare --conf {params.conf:q} --root {params.root:q}"
        " --data-dir data/{wildcards.corpus} --no-progress --log {log}"

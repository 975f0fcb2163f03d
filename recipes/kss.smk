# Data preparation of KSS (behind a Kaggle login, Korean, one speaker), for every corpus conf whose
# `recipe` is kss.
# Nothing is downloaded: when the conf's root does not hold the corpus, building the DAG stops
# with where to get it and the conf key to set; kss_prepare writes data/<corpus>/{train,dev,eval}/.

from local.common.source import corpus_input, corpus_root
from local.kss import SOURCE as KSS_SOURCE


rule kss_prepare:
    input:
        lambda wc: corpus_input(KSS_SOURCE, CONFS.corpus_conf(wc.corpus),
                                CONFS.conf_dir / "corpus" / f"{wc.corpus}.yaml"),
    output:
        expand("data/{{corpus}}/{split}/{name}", split=SPLITS, name=DATA_FILES),
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("kss")),
    params:
        conf=CONFS.prep_slice,
        root=lambda wc: str(corpus_root(CONFS.corpus_conf(wc.corpus))),
    threads: 2
    log:
        "data/{corpus}/log/prepare.log",
    shell:
        "python -m local.kss.prepare --conf {params.conf:q} --root {params.root:q}"
        " --data-dir data/{wildcards.corpus} --no-progress --log {log}"

# Data preparation of IEMOCAP (licence-gated, English, categorical emotion labels), for every corpus
# conf whose `recipe` is iemocap.
# Nothing is downloaded: when the conf's root does not hold the corpus, building the DAG stops
# with where to get it and the conf key to set; iemocap_prepare writes data/<corpus>/{train,dev,eval}/.

from local.common.source import corpus_input, corpus_root
from local.iemocap import SOURCE as IEMOCAP_SOURCE


rule iemocap_prepare:
    input:
        lambda wc: corpus_input(IEMOCAP_SOURCE, CONFS.corpus_conf(wc.corpus),
                                CONFS.conf_dir / "corpus" / f"{wc.corpus}.yaml"),
    output:
        expand("data/{{corpus}}/{split}/{name}", split=SPLITS, name=DATA_FILES),
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("iemocap")),
    params:
        conf=CONFS.prep_slice,
        root=lambda wc: str(corpus_root(CONFS.corpus_conf(wc.corpus))),
    threads: 2
    log:
        "data/{corpus}/log/prepare.log",
    shell:
        "python -m local.iemocap.prepare --conf {params.conf:q} --root {params.root:q}"
        " --data-dir data/{wildcards.corpus} --no-progress --log {log}"

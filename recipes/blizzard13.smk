# Data preparation of Blizzard Challenge 2013 segmented audiobooks (licence-gated, English,
# expressive), for every corpus conf whose `recipe` is blizzard13.
# Nothing is downloaded: when the conf's root does not hold the corpus, building the DAG stops
# with where to get it and the conf key to set; blizzard13_prepare writes data/<corpus>/{train,dev,eval}/.

from local.common.source import corpus_input, corpus_root
from local.blizzard13 import SOURCE as BLIZZARD13_SOURCE


rule blizzard13_prepare:
    input:
        lambda wc: corpus_input(BLIZZARD13_SOURCE, CONFS.corpus_conf(wc.corpus),
                                CONFS.conf_dir / "corpus" / f"{wc.corpus}.yaml"),
    output:
        expand("data/{{corpus}}/{split}/{name}", split=SPLITS, name=DATA_FILES),
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("blizzard13")),
    params:
        conf=CONFS.prep_slice,
        root=lambda wc: str(corpus_root(CONFS.corpus_conf(wc.corpus))),
    threads: 2
    log:
        "data/{corpus}/log/prepare.log",
    shell:
        "python -m local.blizzard13.prepare --conf {params.conf:q} --root {params.root:q}"
        " --data-dir data/{wildcards.corpus} --no-progress --log {log}"

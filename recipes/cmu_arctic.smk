# Data preparation of CMU ARCTIC (free, English speakers reading the ARCTIC prompts), for every
# corpus conf whose `recipe` is cmu_arctic.
# cmu_arctic_download fetches and verifies the corpus into the conf's root (or only checks the layout
# when it is already there); cmu_arctic_prepare writes data/<corpus>/{train,dev,eval}/ (local/cmu_arctic/).

from local.common.source import corpus_input, corpus_root
from local.cmu_arctic import SOURCE as CMU_ARCTIC_SOURCE


rule cmu_arctic_download:
    output:
        "downloads/{corpus}/.download.done",
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("cmu_arctic")),
    params:
        conf=lambda wc: CONFS.download_slice(wc, CMU_ARCTIC_SOURCE.layout),
    log:
        "data/{corpus}/log/download.log",
    shell:
        "python -m steps.download_corpus --conf {params.conf:q}"
        " --archives downloads/.archives/{wildcards.corpus} --touch {output} --log {log}"


rule cmu_arctic_prepare:
    input:
        lambda wc: corpus_input(CMU_ARCTIC_SOURCE, CONFS.corpus_conf(wc.corpus),
                                CONFS.conf_dir / "corpus" / f"{wc.corpus}.yaml"),
    output:
        expand("data/{{corpus}}/{split}/{name}", split=SPLITS, name=DATA_FILES),
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("cmu_arctic")),
    params:
        conf=CONFS.prep_slice,
        root=lambda wc: str(corpus_root(CONFS.corpus_conf(wc.corpus))),
    threads: 2
    log:
        "data/{corpus}/log/prepare.log",
    shell:
        "python -m local.cmu_arctic.prepare --conf {params.conf:q} --root {params.root:q}"
        " --data-dir data/{wildcards.corpus} --no-progress --log {log}"

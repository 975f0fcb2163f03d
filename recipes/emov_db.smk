# Data preparation of EmoV-DB (OpenSLR 115, English, 5 speaking styles), for every corpus conf whose
# `recipe` is emov_db.
# emov_db_download fetches and verifies the corpus into the conf's root (or only checks the layout
# when it is already there); emov_db_prepare writes data/<corpus>/{train,dev,eval}/ (local/emov_db/).

from local.common.source import corpus_input, corpus_root
from local.emov_db import SOURCE as EMOV_DB_SOURCE


rule emov_db_download:
    output:
        "downloads/{corpus}/.download.done",
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("emov_db")),
    params:
        conf=lambda wc: CONFS.download_slice(wc, EMOV_DB_SOURCE.layout),
    log:
        "data/{corpus}/log/download.log",
    shell:
        "python -m steps.download_corpus --conf {params.conf:q}"
        " --archives downloads/.archives/{wildcards.corpus} --touch {output} --log {log}"


rule emov_db_prepare:
    input:
        lambda wc: corpus_input(EMOV_DB_SOURCE, CONFS.corpus_conf(wc.corpus),
                                CONFS.conf_dir / "corpus" / f"{wc.corpus}.yaml"),
    output:
        expand("data/{{corpus}}/{split}/{name}", split=SPLITS, name=DATA_FILES),
    wildcard_constraints:
        corpus=alternation(CONFS.corpora_of_recipe("emov_db")),
    params:
        conf=CONFS.prep_slice,
        root=lambda wc: str(corpus_root(CONFS.corpus_conf(wc.corpus))),
    threads: 2
    log:
        "data/{corpus}/log/prepare.log",
    shell:
        "python -m local.emov_db.prepare --conf {params.conf:q} --root {params.root:q}"
        " --data-dir data/{wildcards.corpus} --no-progress --log {log}"

# Data preparation of the embedded eSpeak NG emotional corpus (and of any corpus conf whose
# `recipe` is espeak_emo, e.g. a smaller slice for tests). Generates the corpus offline into
# downloads/<corpus>/ and turns it into the Kaldi data dirs data/<corpus>/{train,dev,eval}/.

ESPEAK_EMO_CORPORA = corpora_of_recipe("espeak_emo")


def espeak_emo_conf(wc):
    conf = corpus_conf(wc.corpus)
    expected = f"downloads/{wc.corpus}"
    if conf["root"] not in (None, expected):
        raise ConfigError(CONF_DIR / "corpus" / f"{wc.corpus}.yaml",
                          f"the generated corpus lives in {expected}; set root to it or leave it out",
                          key="root")
    return as_json(conf)


rule espeak_emo_generate:
    output:
        "downloads/{corpus}/metadata.tsv",
    wildcard_constraints:
        corpus=alternation(ESPEAK_EMO_CORPORA),
    params:
        conf=espeak_emo_conf,
    threads: 2
    log:
        "data/{corpus}/log/generate.log",
    shell:
        "{PY} {REPO}/local/espeak_emo/generate.py --conf {params.conf:q}"
        " --root downloads/{wildcards.corpus} --log {log}"


rule espeak_emo_prepare:
    input:
        "downloads/{corpus}/metadata.tsv",
    output:
        expand("data/{{corpus}}/{split}/{name}", split=SPLITS, name=DATA_FILES),
    wildcard_constraints:
        corpus=alternation(ESPEAK_EMO_CORPORA),
    params:
        conf=espeak_emo_conf,
    log:
        "data/{corpus}/log/prepare.log",
    shell:
        "{PY} {REPO}/local/espeak_emo/prepare.py --conf {params.conf:q}"
        " --root downloads/{wildcards.corpus} --data-dir data/{wildcards.corpus} --log {log}"

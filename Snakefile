# emotts: the generic DAG of an emotional TTS experiment.
#
#   data prep (recipes/<recipe>.smk) -> validate -> features + stats -> tokens
#   -> train TTS -> decode -> vocode -> evaluate (+ shared emotion classifier) -> done
#
# Targets: exp/<corpus>_<model>/done for any conf/corpus/<corpus>.yaml x conf/tts/<model>.yaml.
# Each rule gets only the slice of the resolved config it depends on as `params`, so editing
# a conf re-runs exactly the stages that read it.

import functools
import json
import sys
from pathlib import Path

REPO = Path(workflow.basedir)
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pytorch_backend import config as cfg  # noqa: E402
from pytorch_backend.errors import ConfigError  # noqa: E402

CONF_DIR = Path(config.get("conf_dir", REPO / "conf"))
CORPORA = cfg.list_confs(CONF_DIR, "corpus")
MODELS = cfg.list_confs(CONF_DIR, "tts")
SPLITS = ["train", "dev", "eval"]
DATA_FILES = ["wav.scp", "text", "utt2spk", "spk2utt", "utt2emo", "utt2dur"]
PY = sys.executable
STEPS = REPO / "steps"
for _reserved in ("ser", "results"):
    if _reserved in MODELS:
        raise ConfigError(CONF_DIR / "tts" / f"{_reserved}.yaml",
                          f"'{_reserved}' is reserved for exp/<corpus>_{_reserved}; rename the model conf")


def alternation(names):
    return "|".join(sorted(names, key=len, reverse=True)) or "(?!x)x"


wildcard_constraints:
    corpus=alternation(CORPORA),
    model=alternation(MODELS),
    split="train|dev|eval",
    token_type="char|phn|bpe",
    feats=r"[A-Za-z0-9_.-]+",
    vocoder=r"[A-Za-z0-9_]+",


@functools.cache
def corpus_conf(corpus):
    return cfg.load_corpus_conf(CONF_DIR, corpus)


@functools.cache
def feats_conf(name):
    return cfg.load_checked(CONF_DIR / "feats" / f"{name}.yaml", cfg.FEATS_SCHEMA)


@functools.cache
def exp_conf(corpus, model):
    return cfg.resolve_experiment(CONF_DIR, corpus, model)


def as_json(data):
    return json.dumps(data, sort_keys=True)


def exp_of(wc):
    return exp_conf(wc.corpus, wc.model)


def dump_dir(wc):
    return f"dump/{wc.corpus}/{corpus_conf(wc.corpus)['feats']}"


def token_dir(wc):
    return f"data/{wc.corpus}/tokens/{corpus_conf(wc.corpus)['token_type']}"


def corpora_of_recipe(recipe):
    return [c for c in CORPORA if corpus_conf(c)["recipe"] == recipe]


include: "recipes/espeak_emo.smk"


rule all:
    input:
        "exp/espeak_emo_gst/done",
    default_target: True


rule validate_data_dir:
    input:
        expand("data/{{corpus}}/{{split}}/{name}", name=DATA_FILES),
    output:
        "data/{corpus}/{split}/.validated",
    params:
        conf=lambda wc: as_json({"emotions": corpus_conf(wc.corpus)["emotions"],
                                 "allow_pipes": corpus_conf(wc.corpus)["allow_pipes"]}),
    log:
        "data/{corpus}/log/validate_{split}.log",
    shell:
        "{PY} {STEPS}/validate_data_dir.py --conf {params.conf:q}"
        " --data-dir data/{wildcards.corpus}/{wildcards.split} --touch {output} --log {log}"


rule make_feats:
    input:
        wav_scp="data/{corpus}/{split}/wav.scp",
        validated="data/{corpus}/{split}/.validated",
    output:
        scp="dump/{corpus}/{feats}/{split}/feats.scp",
        num_frames="dump/{corpus}/{feats}/{split}/utt2num_frames",
    params:
        conf=lambda wc: as_json(feats_conf(wc.feats)),
        pipes=lambda wc: "--allow-pipes" if corpus_conf(wc.corpus)["allow_pipes"] else "",
    threads: lambda wc: int(feats_conf(wc.feats)["nj"])
    log:
        "dump/{corpus}/{feats}/log/make_feats_{split}.log",
    shell:
        "{PY} {STEPS}/make_feats.py --conf {params.conf:q} --data-dir data/{wildcards.corpus}/{wildcards.split}"
        " --out dump/{wildcards.corpus}/{wildcards.feats}/{wildcards.split} --nj {threads} {params.pipes}"
        " --log {log}"


rule compute_stats:
    input:
        "dump/{corpus}/{feats}/train/feats.scp",
    output:
        "dump/{corpus}/{feats}/stats.npz",
    log:
        "dump/{corpus}/{feats}/log/compute_stats.log",
    shell:
        "{PY} {STEPS}/compute_stats.py --feats-scp {input} --out {output} --log {log}"


rule make_tokens:
    input:
        text=expand("data/{{corpus}}/{split}/text", split=SPLITS),
        validated=expand("data/{{corpus}}/{split}/.validated", split=SPLITS),
    output:
        token_list="data/{corpus}/tokens/{token_type}/token_list",
        text_tokens=expand("data/{{corpus}}/tokens/{{token_type}}/{split}/text_tokens", split=SPLITS),
    params:
        conf=lambda wc: as_json({"token_type": wc.token_type,
                                 "bpe_vocab_size": corpus_conf(wc.corpus)["bpe_vocab_size"],
                                 "language": corpus_conf(wc.corpus)["language"]}),
    log:
        "data/{corpus}/log/make_tokens_{token_type}.log",
    shell:
        "{PY} {STEPS}/make_tokens.py --conf {params.conf:q} --data-root data/{wildcards.corpus}"
        " --out data/{wildcards.corpus}/tokens/{wildcards.token_type} --log {log}"


def feats_inputs(wc, splits=SPLITS):
    return [f"{dump_dir(wc)}/{s}/feats.scp" for s in splits] + [f"{dump_dir(wc)}/stats.npz"]


rule train_ser:
    input:
        feats=feats_inputs,
        validated=expand("data/{{corpus}}/{split}/.validated", split=SPLITS),
    output:
        "exp/{corpus}_ser/done",
    params:
        conf=lambda wc: as_json(cfg.resolve_ser(CONF_DIR, wc.corpus)),
        dump=dump_dir,
    threads: 2
    resources:
        gpu=1,
    log:
        "exp/{corpus}_ser/log/train_ser.log",
    shell:
        "{PY} {STEPS}/train_ser.py --conf {params.conf:q} --data-root data/{wildcards.corpus}"
        " --dump {params.dump} --out exp/{wildcards.corpus}_ser --log {log}"


rule write_config:
    output:
        "exp/{corpus}_{model}/config.yaml",
    params:
        conf=lambda wc: as_json(exp_of(wc)),
    log:
        "exp/{corpus}_{model}/log/write_config.log",
    shell:
        "{PY} {STEPS}/write_config.py --conf {params.conf:q} --out {output} --log {log}"


def train_slice(wc):
    exp = exp_of(wc)
    tts = {k: v for k, v in exp["tts"].items() if k != "decode"}
    return as_json({"tts": tts, "emotions": exp["corpus"]["emotions"], "feats": exp["feats"],
                    "token_type": exp["corpus"]["token_type"]})


def decode_slice(wc):
    exp = exp_of(wc)
    tts = {k: v for k, v in exp["tts"].items() if k != "train"}
    return as_json({"tts": tts, "emotions": exp["corpus"]["emotions"], "feats": exp["feats"],
                    "token_type": exp["corpus"]["token_type"]})


rule train_tts:
    input:
        tokens=lambda wc: [f"{token_dir(wc)}/token_list"]
        + [f"{token_dir(wc)}/{s}/text_tokens" for s in ("train", "dev")],
        feats=lambda wc: feats_inputs(wc, ["train", "dev"]),
    output:
        "exp/{corpus}_{model}/train/train.done",
    params:
        conf=train_slice,
        tokens=token_dir,
        dump=dump_dir,
        source=lambda wc: CONF_DIR / "tts" / f"{wc.model}.yaml",
    threads: 2
    resources:
        gpu=lambda wc: int(exp_of(wc)["tts"]["train"]["ngpu"]),
    log:
        "exp/{corpus}_{model}/log/train_tts.log",
    shell:
        "{PY} {STEPS}/train_tts.py --conf {params.conf:q} --data-root data/{wildcards.corpus}"
        " --tokens {params.tokens} --dump {params.dump} --out exp/{wildcards.corpus}_{wildcards.model}/train"
        " --gpus {resources.gpu} --threads {threads} --source {params.source:q} --log {log}"


rule decode:
    input:
        done="exp/{corpus}_{model}/train/train.done",
        tokens=lambda wc: f"{token_dir(wc)}/{wc.split}/text_tokens",
        feats=lambda wc: feats_inputs(wc, ["train"]),
    output:
        "exp/{corpus}_{model}/decode/{split}/feats.scp",
    params:
        conf=decode_slice,
        tokens=token_dir,
        dump=dump_dir,
    threads: 2
    log:
        "exp/{corpus}_{model}/log/decode_{split}.log",
    shell:
        "{PY} {STEPS}/decode.py --conf {params.conf:q} --model-dir exp/{wildcards.corpus}_{wildcards.model}/train"
        " --data-root data/{wildcards.corpus} --split {wildcards.split} --tokens {params.tokens}"
        " --dump {params.dump} --out exp/{wildcards.corpus}_{wildcards.model}/decode/{wildcards.split}"
        " --log {log}"


def vocoder_slice(wc):
    exp = exp_of(wc)
    if wc.vocoder not in exp["vocoders"]:
        raise ConfigError(CONF_DIR / "corpus" / f"{wc.corpus}.yaml",
                          f"vocoder '{wc.vocoder}' is not listed for this experiment", key="vocoders")
    return as_json({"vocoder": exp["vocoders"][wc.vocoder], "feats": exp["feats"]})


def vocoder_input(wc):
    if wc.name == "floor":  # the analysis-synthesis floor: real eval mels through the vocoder
        split = exp_of(wc)["eval"]["split"]
        return f"{dump_dir(wc)}/{split}/feats.scp"
    return f"exp/{wc.corpus}_{wc.model}/decode/{wc.name}/feats.scp"


rule vocode:
    input:
        vocoder_input,
    output:
        "exp/{corpus}_{model}/synth/{vocoder}/{name}/wav.scp",
    wildcard_constraints:
        name="train|dev|eval|floor",
    params:
        conf=vocoder_slice,
    threads: 2
    log:
        "exp/{corpus}_{model}/log/vocode_{vocoder}_{name}.log",
    shell:
        "{PY} {STEPS}/vocode.py --conf {params.conf:q} --feats-scp {input}"
        " --out exp/{wildcards.corpus}_{wildcards.model}/synth/{wildcards.vocoder}/{wildcards.name}"
        " --log {log}"


def eval_split(wc):
    return exp_of(wc)["eval"]["split"] if wc.name == "floor" else wc.name


rule evaluate:
    input:
        wav_scp="exp/{corpus}_{model}/synth/{vocoder}/{name}/wav.scp",
        ser="exp/{corpus}_ser/done",
        stats=lambda wc: f"{dump_dir(wc)}/stats.npz",
        ref=lambda wc: f"data/{wc.corpus}/{eval_split(wc)}/.validated",
    output:
        "exp/{corpus}_{model}/eval/{vocoder}/{name}/metrics.json",
    wildcard_constraints:
        name="train|dev|eval|floor",
    params:
        conf=lambda wc: as_json({"eval": exp_of(wc)["eval"], "feats": exp_of(wc)["feats"],
                                 "emotions": exp_of(wc)["corpus"]["emotions"],
                                 "allow_pipes": exp_of(wc)["corpus"]["allow_pipes"]}),
        ref_split=eval_split,
        dump=dump_dir,
    threads: 2
    log:
        "exp/{corpus}_{model}/log/evaluate_{vocoder}_{name}.log",
    shell:
        "{PY} {STEPS}/evaluate.py --conf {params.conf:q} --synth-wav-scp {input.wav_scp}"
        " --ref-data-dir data/{wildcards.corpus}/{params.ref_split} --ser-dir exp/{wildcards.corpus}_ser"
        " --dump {params.dump} --out exp/{wildcards.corpus}_{wildcards.model}/eval/{wildcards.vocoder}/{wildcards.name}"
        " --log {log}"


def summary_inputs(wc):
    exp = exp_of(wc)
    split = exp["eval"]["split"]
    names = [split] + (["floor"] if exp["eval"]["floor"] else [])
    return [f"exp/{wc.corpus}_{wc.model}/eval/{voc}/{name}/metrics.json"
            for voc in exp["vocoders"] for name in names]


rule summarize:
    input:
        config="exp/{corpus}_{model}/config.yaml",
        train="exp/{corpus}_{model}/train/train.done",
        metrics=summary_inputs,
    output:
        summary="exp/{corpus}_{model}/summary.json",
        results="exp/{corpus}_{model}/results.md",
        done="exp/{corpus}_{model}/done",
    params:
        vocoders=lambda wc: " ".join(exp_of(wc)["vocoders"]),
        split=lambda wc: exp_of(wc)["eval"]["split"],
    log:
        "exp/{corpus}_{model}/log/summarize.log",
    shell:
        "{PY} {STEPS}/summarize.py --exp-dir exp/{wildcards.corpus}_{wildcards.model}"
        " --ser-dir exp/{wildcards.corpus}_ser --vocoders {params.vocoders} --split {params.split}"
        " --log {log}"

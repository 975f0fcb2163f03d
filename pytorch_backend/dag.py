"""What the Snakefile needs to know about configs: which corpora and models exist, and the
config slice each rule depends on (passed as JSON `params`, so an edit re-runs exactly the
rules that read it)."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

from pytorch_backend import config as cfg
from pytorch_backend.errors import ConfigError

SPLITS = ["train", "dev", "eval"]
DATA_FILES = ["wav.scp", "text", "utt2spk", "spk2utt", "utt2emo", "utt2dur"]
RESERVED_MODEL_NAMES = ("ser",)  # exp/<corpus>_ser is the shared emotion classifier
PROSODY_MODELS = ("fastspeech2",)  # registry names that train on pitch.scp/energy.scp (NEEDS_PROSODY)
RESERVED_MODEL_PREFIXES = ("voc_",)  # exp/<corpus>_voc_<vocoder> are the shared trained vocoders


def as_json(data) -> str:
    return json.dumps(data, sort_keys=True)


def alternation(names) -> str:
    """A regex matching exactly one of ``names`` (longest first); matches nothing when empty."""
    return "|".join(sorted(names, key=len, reverse=True)) or "(?!x)x"


def export_job_environment(repo: Path) -> None:
    """Jobs run ``python -m steps.<stage>``: put this interpreter first on PATH, the repo on PYTHONPATH."""
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(repo), os.environ.get("PYTHONPATH", "")) if p)
    os.environ.setdefault("MPLBACKEND", "Agg")


def gpu_prefix(gpus: int) -> str:
    """What a GPU rule's command starts with: take ``gpus`` GPU slots (CUDA_VISIBLE_DEVICES)
    for the job (``steps/with_gpus.py``); nothing when the job has no GPU."""
    gpus = int(gpus or 0)
    return f"python -m steps.with_gpus --gpus {gpus} -- " if gpus > 0 else ""


def worker_threads(threads: int, gpus: int) -> int:
    """CPU threads of each training process: the job's threads shared among its workers."""
    return max(1, int(threads) // max(1, int(gpus or 0)))


def train_launcher(gpus: int, threads: int) -> str:
    """The command the training rule runs ``-m steps.train_tts`` with.

    ``gpus > 1``: ``torchrun --standalone`` (a free rendezvous port per job) with one worker
    per GPU and ``OMP_NUM_THREADS`` divided among them; else one ``python`` process.
    """
    gpus = int(gpus or 0)
    if gpus > 1:
        return (f"OMP_NUM_THREADS={worker_threads(threads, gpus)} {gpu_prefix(gpus)}"
                f"torchrun --standalone --nproc-per-node={gpus} -m")
    return f"{gpu_prefix(gpus)}python -m"


class Dag:
    """Config look-ups for rules, cached per Snakemake invocation."""

    def __init__(self, conf_dir):
        self.conf_dir = Path(conf_dir)
        self.corpora = cfg.list_confs(self.conf_dir, "corpus")
        self.models = cfg.list_confs(self.conf_dir, "tts")
        for name in RESERVED_MODEL_NAMES:
            if name in self.models:
                raise ConfigError(self.conf_dir / "tts" / f"{name}.yaml",
                                  f"'{name}' is reserved for exp/<corpus>_{name}; rename the model conf")
        for name in self.models:
            for prefix in RESERVED_MODEL_PREFIXES:
                if name.startswith(prefix):
                    raise ConfigError(self.conf_dir / "tts" / f"{name}.yaml",
                                      f"model names starting with '{prefix}' are reserved for "
                                      f"exp/<corpus>_{prefix}<vocoder>; rename the model conf")
        self.corpus_conf = functools.cache(self._corpus_conf)
        self.feats_conf = functools.cache(self._feats_conf)
        self.exp_conf = functools.cache(self._exp_conf)

    def _corpus_conf(self, corpus: str) -> dict:
        return cfg.load_corpus_conf(self.conf_dir, corpus)

    def _feats_conf(self, name: str) -> dict:
        return cfg.load_checked(self.conf_dir / "feats" / f"{name}.yaml", cfg.FEATS_SCHEMA)

    def _exp_conf(self, corpus: str, model: str) -> dict:
        return cfg.resolve_experiment(self.conf_dir, corpus, model)

    # -- paths -------------------------------------------------------------------------------
    def corpora_of_recipe(self, recipe: str) -> list[str]:
        return [c for c in self.corpora if self.corpus_conf(c)["recipe"] == recipe]

    def exp(self, wc) -> dict:
        return self.exp_conf(wc.corpus, wc.model)

    def dump_dir(self, wc) -> str:
        return f"dump/{wc.corpus}/{self.corpus_conf(wc.corpus)['feats']}"

    def token_dir(self, wc) -> str:
        return f"data/{wc.corpus}/tokens/{self.corpus_conf(wc.corpus)['token_type']}"

    def feats_inputs(self, wc, splits=SPLITS) -> list[str]:
        out = [f"{self.dump_dir(wc)}/{s}/feats.scp" for s in splits] + [f"{self.dump_dir(wc)}/stats.npz"]
        if getattr(wc, "model", None) and self.exp(wc)["tts"]["model"] in PROSODY_MODELS:
            out += [f"{self.dump_dir(wc)}/{s}/{kind}.scp" for s in splits for kind in ("pitch", "energy")]
        return out

    def tts_conf_path(self, wc) -> str:
        return str(self.conf_dir / "tts" / f"{wc.model}.yaml")

    def eval_split(self, wc) -> str:
        """The reference split of an evaluation; ``floor`` is the real eval split re-vocoded."""
        return self.exp(wc)["eval"]["split"] if wc.name == "floor" else wc.name

    def vocoder_input(self, wc) -> str:
        if wc.name == "floor":  # the analysis-synthesis floor: real mels through the vocoder
            return f"{self.dump_dir(wc)}/{self.eval_split(wc)}/feats.scp"
        return f"exp/{wc.corpus}_{wc.model}/decode/{wc.name}/feats.scp"

    # -- trained vocoders: exp/<corpus>_voc_<vocoder> -----------------------------------------
    def vocoder_conf(self, corpus: str, vocoder: str) -> dict:
        """conf/vocoder/<vocoder>.yaml (what exp/<corpus>_voc_<vocoder> is trained from)."""
        voc = cfg.load_checked(self.conf_dir / "vocoder" / f"{vocoder}.yaml", cfg.VOCODER_SCHEMA)
        voc["name"] = voc["name"] or vocoder
        return voc

    @staticmethod
    def vocoder_is_trained(voc: dict) -> bool:
        """A vocoder conf with a ``train`` section is a neural vocoder trained per corpus."""
        return bool(voc.get("train"))

    def vocoder_dir(self, wc) -> str:
        return f"exp/{wc.corpus}_voc_{wc.vocoder}"

    def vocoder_model_input(self, wc) -> list[str]:
        """The trained vocoder an experiment's vocode job needs (none for Griffin-Lim)."""
        voc = self.exp(wc)["vocoders"].get(wc.vocoder, {})
        return [f"{self.vocoder_dir(wc)}/train.done"] if self.vocoder_is_trained(voc) else []

    def vocoder_model_arg(self, wc) -> str:
        return f"--model-dir {self.vocoder_dir(wc)}" if self.vocoder_model_input(wc) else ""

    def vocoder_train_slice(self, wc) -> str:
        voc = self.vocoder_conf(wc.corpus, wc.vocoder)
        if not self.vocoder_is_trained(voc):
            raise ConfigError(self.conf_dir / "vocoder" / f"{wc.vocoder}.yaml",
                              "has no 'train' section: not a trainable vocoder", key="train")
        corpus = self.corpus_conf(wc.corpus)
        return as_json({"name": wc.vocoder, "vocoder": voc, "feats": self.feats_conf(corpus["feats"]),
                        "allow_pipes": corpus["allow_pipes"]})

    def vocoder_train_inputs(self, wc) -> list[str]:
        """Fine-tuning inputs: the vocoder it starts from, the TTS model's teacher-forced mels."""
        train = self.vocoder_conf(wc.corpus, wc.vocoder).get("train") or {}
        path = self.conf_dir / "vocoder" / f"{wc.vocoder}.yaml"
        out = []
        init = train.get("init_from")
        if init:
            if init == wc.vocoder or not (self.conf_dir / "vocoder" / f"{init}.yaml").is_file():
                raise ConfigError(path, f"'{init}' must name another conf/vocoder/<name>.yaml", key="train.init_from")
            out.append(f"exp/{wc.corpus}_voc_{init}/train.done")
        model = train.get("teacher_forced")
        if model:
            if model not in self.models:
                raise ConfigError(path, f"'{model}' is not a TTS model (known: {', '.join(self.models)})",
                                  key="train.teacher_forced")
            out += [f"exp/{wc.corpus}_{model}/teacher_forced/{s}/feats.scp" for s in ("train", "dev")]
        return out

    def vocoder_train_args(self, wc) -> str:
        """``--dump`` (real or teacher-forced mels) and ``--init`` of steps/train_vocoder.py."""
        train = self.vocoder_conf(wc.corpus, wc.vocoder).get("train") or {}
        self.vocoder_train_inputs(wc)  # validates
        mels = (f"exp/{wc.corpus}_{train['teacher_forced']}/teacher_forced" if train.get("teacher_forced")
                else self.dump_dir(wc))
        init = f" --init exp/{wc.corpus}_voc_{train['init_from']}/model.pt" if train.get("init_from") else ""
        return f"--dump {mels}{init}"

    def vocoder_synth_slice(self, wc) -> str:
        """What the floor synthesis of exp/<corpus>_voc_<vocoder> depends on (not its training)."""
        voc = self.vocoder_conf(wc.corpus, wc.vocoder)
        corpus = self.corpus_conf(wc.corpus)
        return as_json({"vocoder": {"name": voc["name"], "conf": voc["conf"]},
                        "feats": self.feats_conf(corpus["feats"])})

    def vocoder_eval_slice(self, wc) -> str:
        corpus = self.corpus_conf(wc.corpus)
        eval_conf = cfg.load_checked(self.conf_dir / "eval.yaml", cfg.EVAL_SCHEMA)
        return as_json({"eval": eval_conf, "feats": self.feats_conf(corpus["feats"]),
                        "emotions": corpus["emotions"], "allow_pipes": corpus["allow_pipes"]})

    def vocoder_eval_split(self, wc) -> str:
        return cfg.load_checked(self.conf_dir / "eval.yaml", cfg.EVAL_SCHEMA)["split"]

    def summary_inputs(self, wc) -> list[str]:
        exp = self.exp(wc)
        names = [exp["eval"]["split"]] + (["floor"] if exp["eval"]["floor"] else [])
        return [f"exp/{wc.corpus}_{wc.model}/eval/{voc}/{name}/metrics.json"
                for voc in exp["vocoders"] for name in names]

    def analysis_outputs(self, wc) -> list[str]:
        """The emotion-space map and the intensity check of an experiment (rules/emotion_eval.smk)."""
        return [f"exp/{wc.corpus}_{wc.model}/plots/emotion_space.json",
                f"exp/{wc.corpus}_{wc.model}/eval/intensity/intensity.json"]

    def results_inputs(self, wc) -> list[str]:
        """Every backend's done of a corpus: the inputs of results/<corpus>.md."""
        return [f"exp/{wc.corpus}_{model}/done" for model in self.models]

    def eval_targets_arg(self, wc) -> str:
        """Decoded speech is scored against the emotions decode meant (decode/<split>/utt2emo)."""
        if wc.name == "floor":
            return ""
        return f"--targets exp/{wc.corpus}_{wc.model}/decode/{wc.name}/utt2emo"

    def analysis_slice(self, wc) -> str:
        """What the emotion-space map and the intensity check read."""
        exp = self.exp(wc)
        tts = {k: v for k, v in exp["tts"].items() if k != "train"}
        return as_json({"tts": tts, "emotions": exp["corpus"]["emotions"], "feats": exp["feats"],
                        "token_type": exp["corpus"]["token_type"],
                        "eval": {k: exp["eval"][k] for k in ("intensity", "emotion_space")}})

    # -- config slices (rule params) ---------------------------------------------------------
    def generated_corpus_conf(self, wc) -> str:
        """The conf of a corpus generated into downloads/<corpus> (its root is fixed)."""
        conf = self.corpus_conf(wc.corpus)
        expected = f"downloads/{wc.corpus}"
        if conf["root"] not in (None, expected):
            raise ConfigError(self.conf_dir / "corpus" / f"{wc.corpus}.yaml",
                              f"the generated corpus lives in {expected}; set root to it or leave it out",
                              key="root")
        return as_json(conf)

    def prep_slice(self, wc) -> str:
        """What a real corpus's preparation reads (``local/<recipe>/``): not its token type, feats,
        vocoders or download list, so editing those does not redo the (slow) audio preparation."""
        conf = self.corpus_conf(wc.corpus)
        keep = ("name", "recipe", "language", "fs", "emotions", "label_map")
        out = {k: conf[k] for k in keep}
        out["root"] = conf["root"] or f"downloads/{wc.corpus}"
        out["prep"] = {k: v for k, v in (conf["prep"] or {}).items() if k != "download"}
        return as_json(out)

    def download_slice(self, wc, layout=()) -> str:
        """What the download rule of a public corpus reads: root, the archive list, the layout."""
        conf = self.corpus_conf(wc.corpus)
        return as_json({"name": wc.corpus, "root": conf["root"] or f"downloads/{wc.corpus}",
                        "download": (conf["prep"] or {}).get("download"), "layout": list(layout)})

    def validate_slice(self, wc) -> str:
        conf = self.corpus_conf(wc.corpus)
        return as_json({"emotions": conf["emotions"], "allow_pipes": conf["allow_pipes"]})

    def tokens_slice(self, wc) -> str:
        conf = self.corpus_conf(wc.corpus)
        return as_json({"token_type": wc.token_type, "bpe_vocab_size": conf["bpe_vocab_size"],
                        "language": conf["language"]})

    def ser_slice(self, wc) -> str:
        return as_json(cfg.resolve_ser(self.conf_dir, wc.corpus))

    def train_slice(self, wc) -> str:
        exp = self.exp(wc)
        tts = {k: v for k, v in exp["tts"].items() if k != "decode"}
        return as_json({"tts": tts, "emotions": exp["corpus"]["emotions"], "feats": exp["feats"],
                        "token_type": exp["corpus"]["token_type"]})

    def decode_slice(self, wc) -> str:
        exp = self.exp(wc)
        tts = {k: v for k, v in exp["tts"].items() if k != "train"}
        return as_json({"tts": tts, "emotions": exp["corpus"]["emotions"], "feats": exp["feats"],
                        "token_type": exp["corpus"]["token_type"]})

    def vocoder_slice(self, wc) -> str:
        exp = self.exp(wc)
        if wc.vocoder not in exp["vocoders"]:
            raise ConfigError(self.conf_dir / "corpus" / f"{wc.corpus}.yaml",
                              f"vocoder '{wc.vocoder}' is not listed for this experiment", key="vocoders")
        return as_json({"vocoder": exp["vocoders"][wc.vocoder], "feats": exp["feats"]})

    def eval_slice(self, wc) -> str:
        exp = self.exp(wc)
        return as_json({"eval": exp["eval"], "feats": exp["feats"], "emotions": exp["corpus"]["emotions"],
                        "allow_pipes": exp["corpus"]["allow_pipes"]})

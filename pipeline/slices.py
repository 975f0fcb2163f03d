"""The config slice each rule depends on, as the JSON its stage receives (``--conf``).

Snakemake re-runs a job when its ``params`` change, so each slice holds what its stage reads and
no more: editing ``conf/tts/gst.yaml`` retrains and re-evaluates, but does not re-dump features.
"""

from __future__ import annotations

import json

from pipeline import paths as P
from pipeline.lookup import ConfLookup
from pipeline.resolve import PROSODY_FEATS_KEYS, resolve_asr, resolve_ser
from pytorch_backend.errors import ConfigError

PREP_KEYS = ("name", "recipe", "language", "fs", "emotions", "label_map")
# what the judges of the real recordings read of conf/eval.yaml (eval/real.py)
REAL_EVAL_KEYS = ("split", "dnsmos", "pocketsphinx", "speaker_similarity")
REF_ANALYSIS_EVAL_KEYS = ("mcd", "f0")


def as_json(data) -> str:
    return json.dumps(data, sort_keys=True)


def check_generated_root(conf: dict, conf_path) -> str:
    """The root of a generated corpus: always downloads/<corpus>; another ``root`` is a ConfigError."""
    expected = P.fill(P.DOWNLOADS, corpus=conf["name"])
    if conf.get("root") not in (None, expected):
        raise ConfigError(conf_path, f"the generated corpus lives in {expected}; set root to it or leave it out",
                          key="root")
    return expected


class RuleSlices:
    """One method per rule (or group of rules that read the same); each takes the wildcards."""

    def __init__(self, confs: ConfLookup):
        self.confs = confs

    # -- data preparation ----------------------------------------------------------------------
    def corpus_root(self, corpus: str) -> str:
        return self.confs.corpus_conf(corpus)["root"] or P.fill(P.DOWNLOADS, corpus=corpus)

    def generated(self, wc) -> str:
        """The whole conf of a corpus generated into downloads/<corpus> (its root is fixed)."""
        conf = self.confs.corpus_conf(wc.corpus)
        check_generated_root(conf, self.confs.corpus_path(wc.corpus))
        return as_json(conf)

    def prep(self, wc) -> str:
        """What a corpus's preparation reads (``local/<recipe>/``): not its token type, feats,
        vocoders or download list, so editing those does not redo the (slow) audio preparation."""
        conf = self.confs.corpus_conf(wc.corpus)
        out = {k: conf[k] for k in PREP_KEYS}
        out["root"] = self.corpus_root(wc.corpus)
        out["prep"] = {k: v for k, v in (conf["prep"] or {}).items() if k != "download"}
        return as_json(out)

    def download(self, wc, layout=()) -> str:
        """What the download of a public corpus reads: root, the archive list, the layout."""
        conf = self.confs.corpus_conf(wc.corpus)
        return as_json({"name": wc.corpus, "root": self.corpus_root(wc.corpus),
                        "download": (conf["prep"] or {}).get("download"), "layout": list(layout)})

    def validate(self, wc) -> str:
        conf = self.confs.corpus_conf(wc.corpus)
        return as_json({"emotions": conf["emotions"], "allow_pipes": conf["allow_pipes"]})

    def tokens(self, wc) -> str:
        conf = self.confs.corpus_conf(wc.corpus)
        return as_json({"token_type": wc.token_type, "bpe_vocab_size": conf["bpe_vocab_size"],
                        "language": conf["language"]})

    def feats(self, wc) -> str:
        return as_json(self.confs.feats_conf(wc.feats))

    # -- models of an experiment -----------------------------------------------------------------
    def ser(self, wc) -> str:
        return as_json(resolve_ser(self.confs.conf_dir, wc.corpus))

    def asr(self, wc) -> str:
        return as_json(resolve_asr(self.confs.conf_dir, wc.corpus))

    def real(self, wc) -> str:
        """What scoring the real recordings with the judges reads (not the recognizer's or the
        classifier's training: their done files are inputs)."""
        corpus = self.confs.corpus_conf(wc.corpus)
        eval_conf = self.confs.eval_conf()
        feats = {k: v for k, v in self.confs.feats_conf(corpus["feats"]).items() if k not in PROSODY_FEATS_KEYS}
        return as_json({"eval": {k: eval_conf[k] for k in REAL_EVAL_KEYS}, "feats": feats,
                        "emotions": corpus["emotions"], "allow_pipes": corpus["allow_pipes"],
                        "corpus": wc.corpus, "language": corpus["language"]})

    def reference_analysis(self, wc) -> str:
        """What the reference side of MCD and F0 depends on (eval/reference.py)."""
        corpus = self.confs.corpus_conf(wc.corpus)
        eval_conf = self.confs.eval_conf()
        feats = {k: v for k, v in self.confs.feats_conf(corpus["feats"]).items() if k not in PROSODY_FEATS_KEYS}
        return as_json({"eval": {k: eval_conf[k] for k in REF_ANALYSIS_EVAL_KEYS}, "feats": feats,
                        "emotions": corpus["emotions"], "allow_pipes": corpus["allow_pipes"]})

    def exp(self, wc) -> str:
        """The whole resolved config (written to exp/<exp>/config.yaml)."""
        return as_json(self.confs.exp(wc))

    def _tts(self, wc, leave_out: str) -> str:
        exp = self.confs.exp(wc)
        tts = {k: v for k, v in exp["tts"].items() if k != leave_out}
        return as_json({"tts": tts, "emotions": exp["corpus"]["emotions"], "feats": exp["feats"],
                        "token_type": exp["corpus"]["token_type"]})

    def train(self, wc) -> str:
        return self._tts(wc, leave_out="decode")

    def decode(self, wc) -> str:
        return self._tts(wc, leave_out="train")

    def analysis(self, wc) -> str:
        """What the emotion-space map and the intensity check read."""
        exp = self.confs.exp(wc)
        tts = {k: v for k, v in exp["tts"].items() if k != "train"}
        return as_json({"tts": tts, "emotions": exp["corpus"]["emotions"], "feats": exp["feats"],
                        "token_type": exp["corpus"]["token_type"],
                        "eval": {k: exp["eval"][k] for k in ("intensity", "emotion_space", "speaker_similarity")}})

    def vocoder(self, wc) -> str:
        exp = self.confs.exp(wc)
        if wc.vocoder not in exp["vocoders"]:
            raise ConfigError(self.confs.corpus_path(wc.corpus),
                              f"vocoder '{wc.vocoder}' is not listed for this experiment", key="vocoders")
        return as_json({"vocoder": exp["vocoders"][wc.vocoder], "feats": exp["feats"]})

    def eval(self, wc) -> str:
        exp = self.confs.exp(wc)
        return as_json({"eval": exp["eval"], "feats": exp["feats"], "emotions": exp["corpus"]["emotions"],
                        "allow_pipes": exp["corpus"]["allow_pipes"], "corpus": wc.corpus,
                        "language": exp["corpus"]["language"]})

    # -- trained vocoders: exp/<corpus>_voc_<vocoder> --------------------------------------------
    def vocoder_train(self, wc) -> str:
        voc = self.confs.vocoder_conf(wc.vocoder)
        if not self.confs.vocoder_is_trained(voc):
            raise ConfigError(self.confs.vocoder_path(wc.vocoder),
                              "has no 'train' section: not a trainable vocoder", key="train")
        corpus = self.confs.corpus_conf(wc.corpus)
        return as_json({"name": wc.vocoder, "vocoder": voc, "feats": self.confs.feats_conf(corpus["feats"]),
                        "allow_pipes": corpus["allow_pipes"]})

    def vocoder_synth(self, wc) -> str:
        """What the floor synthesis of exp/<corpus>_voc_<vocoder> depends on (not its training)."""
        voc = self.confs.vocoder_conf(wc.vocoder)
        corpus = self.confs.corpus_conf(wc.corpus)
        return as_json({"vocoder": {"name": voc["name"], "conf": voc["conf"]},
                        "feats": self.confs.feats_conf(corpus["feats"])})

    def vocoder_eval(self, wc) -> str:
        corpus = self.confs.corpus_conf(wc.corpus)
        return as_json({"eval": self.confs.eval_conf(), "feats": self.confs.feats_conf(corpus["feats"]),
                        "emotions": corpus["emotions"], "allow_pipes": corpus["allow_pipes"], "corpus": wc.corpus,
                        "language": corpus["language"]})

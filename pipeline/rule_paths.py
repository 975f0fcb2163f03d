"""The rule inputs and path arguments that depend on the confs: the dump dir of a corpus's feats
conf, its token dir, the prosody features a model needs, the vocoders and splits an experiment
evaluates, ... Each is a template of :mod:`pipeline.paths` filled in."""

from __future__ import annotations

from pathlib import Path

from pipeline import paths as P
from pipeline.lookup import ConfLookup
from pytorch_backend.errors import ConfigError


def workdir_relative(path) -> str:
    """``path`` relative to the working directory when it lies inside it, else as given."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class RulePaths:
    """One method per input (or path argument) of a rule; each takes the wildcards."""

    def __init__(self, confs: ConfLookup):
        self.confs = confs

    # -- data and features -------------------------------------------------------------------
    def dump_dir(self, wc) -> str:
        return P.fill(P.DUMP, corpus=wc.corpus, feats=self.confs.corpus_conf(wc.corpus)["feats"])

    def token_dir(self, wc) -> str:
        return P.fill(P.TOKENS, corpus=wc.corpus, token_type=self.confs.corpus_conf(wc.corpus)["token_type"])

    def token_files(self, wc, splits=("train", "dev")) -> list[str]:
        """The token list and the tokenized text of ``splits``."""
        token_type = self.confs.corpus_conf(wc.corpus)["token_type"]
        return ([P.fill(P.TOKEN_LIST, corpus=wc.corpus, token_type=token_type)]
                + [P.fill(P.TEXT_TOKENS, corpus=wc.corpus, token_type=token_type, split=s) for s in splits])

    def text_tokens(self, wc, split: str | None = None) -> str:
        """The tokenized text of ``split`` (default: the split the job works on, ``wc.split``)."""
        token_type = self.confs.corpus_conf(wc.corpus)["token_type"]
        return P.fill(P.TEXT_TOKENS, corpus=wc.corpus, token_type=token_type, split=split or wc.split)

    def stats(self, wc) -> str:
        return P.fill(P.STATS, corpus=wc.corpus, feats=self.confs.corpus_conf(wc.corpus)["feats"])

    def feats(self, wc, splits=P.SPLITS) -> list[str]:
        """feats.scp of ``splits`` and the train statistics; with an experiment whose model
        trains on prosody (``NEEDS_PROSODY``), its pitch.scp and energy.scp too."""
        where = {"corpus": wc.corpus, "feats": self.confs.corpus_conf(wc.corpus)["feats"]}
        out = [P.fill(P.FEATS_SCP, split=s, **where) for s in splits] + [P.fill(P.STATS, **where)]
        if getattr(wc, "model", None) and self.confs.needs_prosody(wc):
            out += [P.fill(t, split=s, **where) for s in splits for t in (P.PITCH_SCP, P.ENERGY_SCP)]
        return out

    def tts_conf(self, wc) -> str:
        """The TTS conf file, named in the errors of training: relative to the working directory
        when it lies inside it, so that a params change is not seen (and every model retrained)
        when the project directory moves or is copied."""
        return workdir_relative(self.confs.tts_path(wc.model))

    # -- evaluation ----------------------------------------------------------------------------
    def eval_split(self, wc) -> str:
        """The reference split of an evaluation; ``floor`` is the real eval split re-vocoded."""
        return self.confs.exp(wc)["eval"]["split"] if wc.name == "floor" else wc.name

    def reference(self, wc) -> str:
        """The validated reference data dir of an evaluation."""
        return P.fill(P.VALIDATED, corpus=wc.corpus, split=self.eval_split(wc))

    def reference_dir(self, wc) -> str:
        return P.fill(P.DATA_SPLIT, corpus=wc.corpus, split=self.eval_split(wc))

    def reference_analysis(self, wc) -> str:
        """The reference side of MCD/F0 of an evaluation's reference split (rule analyse_reference)."""
        return P.fill(P.REF_ANALYSIS, corpus=wc.corpus, split=self.eval_split(wc))

    def vocoder_feats(self, wc) -> str:
        """The mels a vocode job turns into speech: decoded ones, or (``floor``, the
        analysis-synthesis floor) the real mels of the eval split."""
        if wc.name == "floor":
            return P.fill(P.FEATS_SCP, corpus=wc.corpus, feats=self.confs.corpus_conf(wc.corpus)["feats"],
                          split=self.eval_split(wc))
        return P.fill(P.DECODE_SCP, wc, split=wc.name)

    def eval_targets_arg(self, wc) -> str:
        """Decoded speech is scored against the emotions decode meant (decode/<split>/utt2emo)."""
        if wc.name == "floor":
            return ""
        return f"--targets {P.fill(P.DECODE_UTT2EMO, wc, split=wc.name)}"

    def summary(self, wc) -> list[str]:
        """The metrics an experiment's summary gathers: every vocoder, its split and floor."""
        exp = self.confs.exp(wc)
        names = [exp["eval"]["split"]] + (["floor"] if exp["eval"]["floor"] else [])
        return [P.fill(P.METRICS, wc, vocoder=voc, name=name) for voc in exp["vocoders"] for name in names]

    def real_metrics(self, wc) -> str:
        """The judges' scores of the real recordings of the experiment's evaluation split."""
        return P.fill(P.REAL_METRICS, corpus=wc.corpus, split=self.confs.exp(wc)["eval"]["split"])

    def real_dir(self, wc) -> str:
        return P.fill(P.REAL, corpus=wc.corpus, split=self.confs.exp(wc)["eval"]["split"])

    def analysis(self, wc) -> list[str]:
        """The emotion-space map and the intensity check of an experiment (rules/emotion_eval.smk)."""
        return [P.fill(P.EMOTION_SPACE, wc), P.fill(P.INTENSITY_JSON, wc)]

    def results(self, wc) -> list[str]:
        """Every backend's done of a corpus: the inputs of results/<corpus>.md."""
        return [P.fill(P.DONE, corpus=wc.corpus, model=model) for model in self.confs.models]

    # -- trained vocoders: exp/<corpus>_voc_<vocoder> --------------------------------------------
    def vocoder_model(self, wc) -> list[str]:
        """The trained vocoder an experiment's vocode job needs (none for Griffin-Lim)."""
        voc = self.confs.exp(wc)["vocoders"].get(wc.vocoder, {})
        return [P.fill(P.VOC_TRAIN_DONE, wc)] if self.confs.vocoder_is_trained(voc) else []

    def vocoder_model_arg(self, wc) -> str:
        return f"--model-dir {P.fill(P.VOC, wc)}" if self.vocoder_model(wc) else ""

    def vocoder_eval_split(self, wc) -> str:
        return self.confs.eval_conf()["split"]

    def vocoder_floor_feats(self, wc) -> str:
        return P.fill(P.FEATS_SCP, corpus=wc.corpus, feats=self.confs.corpus_conf(wc.corpus)["feats"],
                      split=self.vocoder_eval_split(wc))

    def vocoder_reference(self, wc) -> str:
        return P.fill(P.VALIDATED, corpus=wc.corpus, split=self.vocoder_eval_split(wc))

    def vocoder_reference_dir(self, wc) -> str:
        return P.fill(P.DATA_SPLIT, corpus=wc.corpus, split=self.vocoder_eval_split(wc))

    def vocoder_reference_analysis(self, wc) -> str:
        return P.fill(P.REF_ANALYSIS, corpus=wc.corpus, split=self.vocoder_eval_split(wc))

    def _finetune(self, wc) -> tuple[str | None, str | None]:
        """``train.init_from`` and ``train.teacher_forced`` of a vocoder conf, checked."""
        train = self.confs.vocoder_conf(wc.vocoder).get("train") or {}
        path = self.confs.vocoder_path(wc.vocoder)
        init, model = train.get("init_from"), train.get("teacher_forced")
        if init and (init == wc.vocoder or not self.confs.vocoder_path(init).is_file()):
            raise ConfigError(path, f"'{init}' must name another conf/vocoder/<name>.yaml", key="train.init_from")
        if model and model not in self.confs.models:
            raise ConfigError(path, f"'{model}' is not a TTS model (known: {', '.join(self.confs.models)})",
                              key="train.teacher_forced")
        return init, model

    def vocoder_train(self, wc) -> list[str]:
        """Fine-tuning inputs: the vocoder it starts from, the TTS model's teacher-forced mels."""
        init, model = self._finetune(wc)
        out = [P.fill(P.VOC_TRAIN_DONE, corpus=wc.corpus, vocoder=init)] if init else []
        if model:
            out += [P.fill(P.TEACHER_FORCED_SCP, corpus=wc.corpus, model=model, split=s) for s in ("train", "dev")]
        return out

    def vocoder_train_args(self, wc) -> str:
        """``--dump`` (real or teacher-forced mels) and ``--init`` of steps/train_vocoder.py."""
        init, model = self._finetune(wc)
        mels = P.fill(P.TEACHER_FORCED, corpus=wc.corpus, model=model) if model else self.dump_dir(wc)
        init_arg = f" --init {P.fill(P.VOC_MODEL, corpus=wc.corpus, vocoder=init)}" if init else ""
        return f"--dump {mels}{init_arg}"

"""Inputs, arguments and config slices of the synthesis rules (rules/synth.smk)."""

from __future__ import annotations

import json

from pipeline import paths as P
from pipeline.lookup import ConfLookup


class SynthPaths:
    """One method per input, argument or slice of a synthesis rule; each takes the wildcards."""

    def __init__(self, confs: ConfLookup):
        self.confs = confs

    def text_emotion(self, wc) -> str:
        """What the text emotion classifier reads of the confs: the labels and the cleaners' language."""
        conf = self.confs.corpus_conf(wc.corpus)
        return json.dumps({"emotions": conf["emotions"], "language": conf["language"]}, sort_keys=True)

    def trained_vocoders(self, wc) -> list[str]:
        """The experiment's vocoders (in conf order) that are trained per corpus."""
        return [name for name, voc in self.confs.exp(wc)["vocoders"].items() if self.confs.vocoder_is_trained(voc)]

    def vocoder_inputs(self, wc) -> list[str]:
        return [P.fill(P.VOC_TRAIN_DONE, corpus=wc.corpus, vocoder=v) for v in self.trained_vocoders(wc)]

    def vocoder_args(self, wc) -> str:
        """``--vocoder name=model.pt`` per trained vocoder and the default: the first listed."""
        args = [f"--vocoder {v}={P.fill(P.VOC_MODEL, corpus=wc.corpus, vocoder=v)}" for v in self.trained_vocoders(wc)]
        first = next(iter(self.confs.exp(wc)["vocoders"]), "griffin_lim")
        return " ".join(args + [f"--default-vocoder {first}"])

"""Inputs and arguments of the report rules (rules/report.smk), from the confs and the path table."""

from __future__ import annotations

from pipeline import paths as P
from pipeline.lookup import ConfLookup


class ReportPaths:
    """One method per input or argument of a report rule; each takes the wildcards."""

    def __init__(self, confs: ConfLookup):
        self.confs = confs

    def eval_split(self, wc) -> str:
        return self.confs.exp(wc)["eval"]["split"]

    def validated(self, wc) -> str:
        return P.fill(P.VALIDATED, corpus=wc.corpus, split=self.eval_split(wc))

    def data_dir(self, wc) -> str:
        return P.fill(P.DATA_SPLIT, corpus=wc.corpus, split=self.eval_split(wc))

    def floor_vocoders(self, wc) -> list[str]:
        """The vocoders whose analysis-synthesis floor the experiment evaluates."""
        exp = self.confs.exp(wc)
        return list(exp["vocoders"]) if exp["eval"]["floor"] else []

    def floors(self, wc) -> list[str]:
        return [P.fill(P.SYNTH_WAV_SCP, wc, vocoder=voc, name="floor") for voc in self.floor_vocoders(wc)]

    def floor_args(self, wc) -> str:
        return " ".join(f"--floor {voc}={P.fill(P.SYNTH_WAV_SCP, wc, vocoder=voc, name='floor')}"
                        for voc in self.floor_vocoders(wc))

    def pipes_arg(self, wc) -> str:
        return "--allow-pipes" if self.confs.corpus_conf(wc.corpus)["allow_pipes"] else ""

    def models(self, wc) -> list[str]:
        return list(self.confs.models)

    def vocoders(self, wc, models=None) -> list[str]:
        """The vocoders of the experiment (or, with ``models``, of any of the corpus's experiments)."""
        out = []
        for model in models or [wc.model]:
            for voc in self.confs.exp_conf(wc.corpus, model)["vocoders"]:
                if voc not in out:
                    out.append(voc)
        return out

    def vocoders_arg(self, wc) -> str:
        return " ".join(self.vocoders(wc))

    def corpus_vocoders_arg(self, wc) -> str:
        return " ".join(self.vocoders(wc, self.models(wc)))

    def models_arg(self, wc) -> str:
        return " ".join(self.models(wc))

    def corpus_samples(self, wc) -> list[str]:
        return [P.fill(P.SAMPLES_JSON, corpus=wc.corpus, model=m) for m in self.models(wc)]

    def floor_flag(self, wc) -> str:
        return "" if self.confs.exp(wc)["eval"]["floor"] else "--no-floor"

    def corpus_split(self, wc) -> str:
        return self.confs.eval_conf()["split"]

    def exp_tables_arg(self, wc) -> str:
        return f"--tables {P.fill(P.EXP, wc).rpartition('/')[2]}={P.fill(P.RESULTS, wc)}"

    def corpus_tables_arg(self, wc) -> str:
        return f"--tables {wc.corpus}={P.fill(P.TABLE_MD, wc)}"

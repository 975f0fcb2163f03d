"""The reference side of MCD and F0, analysed once per split instead of once per evaluation.

Every evaluation of a split (each experiment's synthesized speech, each vocoder, each floor)
scores against the same real recordings, and their analysis (the SPTK mel-cepstrum of
eval/mcd.py and WORLD's Harvest F0 of eval/f0.py, on the silence-trimmed waveform) was half of
an evaluation's time. :func:`analyse_references` computes it once and writes
``reference_analysis.npz``; :class:`ReferenceAnalysis` reads it back in the evaluation workers.

The file holds, per utterance, ``mcep/<utt>`` (frames x (mcep_dim + 1)) and ``f0/<utt>`` (the
raw Harvest track, one value every ``frame_period`` ms), the wav.scp entry it was made from
(``spec/<utt>``) and, under ``params``, the settings that shape the numbers (:func:`analysis_params`).
Loading checks both: a file made with other settings or from other recordings is a DataError
naming it, never a silently different score.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from pytorch_backend.errors import DataError
from pytorch_backend.eval.mcd import N_FFT, N_SHIFT, mcep_params

log = logging.getLogger("emotts.eval")

FILE_NAME = "reference_analysis.npz"
TRIM_KEYS = ("trim_silence", "trim_top_db", "trim_pad_ms", "fs", "resample", "n_fft", "hop_length", "win_length")


def analysis_params(feats_conf: dict, eval_conf: dict) -> dict:
    """The settings a reference analysis depends on: the MCD frames and mel-cepstrum, the
    Harvest range and step, and the feature conf's silence trim (the analysed waveform)."""
    mc = eval_conf.get("mcd") or {}
    f0c = eval_conf.get("f0") or {}
    fs = int(feats_conf["fs"])
    mcep_dim, alpha = mcep_params(fs, mc.get("mcep_dim"), mc.get("alpha"))
    return {"mcep_dim": int(mcep_dim), "alpha": float(alpha), "n_fft": N_FFT, "n_shift": N_SHIFT,
            "f0_floor": float(f0c.get("f0_floor", 60.0)), "f0_ceil": float(f0c.get("f0_ceil", 700.0)),
            "frame_period": float(f0c.get("frame_period", 5.0)),
            "trim": {k: feats_conf.get(k) for k in TRIM_KEYS}}


def analyse_waveform(wav: np.ndarray, fs: int, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """(mel-cepstrum, raw Harvest F0 track) of one trimmed float waveform."""
    from pytorch_backend.eval.f0 import harvest_f0
    from pytorch_backend.eval.mcd import sptk_mcep

    mcep = sptk_mcep(wav, fs, params["mcep_dim"], params["alpha"])
    f0 = harvest_f0(wav, fs, f0_floor=params["f0_floor"], f0_ceil=params["f0_ceil"],
                    frame_period=params["frame_period"])
    return mcep, f0


def analyse_references(conf: dict, ref_data_dir, out_file, nj: int | None = None, progress: bool = True) -> dict:
    """Analyse every recording of ``<ref_data_dir>/wav.scp``; write ``out_file``; return the params."""
    from pytorch_backend.eval.evaluate import default_nj, plan_jobs, score_all
    from pytorch_backend.eval.utterance import analyse_utterance
    from pytorch_backend.utils.fileio import atomic_open

    ref_dir = Path(ref_data_dir)
    eval_conf, feats_conf = conf.get("eval") or {}, conf["feats"]
    params = analysis_params(feats_conf, eval_conf)
    jobs = plan_jobs(ref_dir / "wav.scp", ref_dir, list(conf["emotions"]))
    nj = default_nj() if nj is None else nj
    log.info("analysing %d reference recordings of %s with %d jobs", len(jobs), ref_dir, nj)
    results = score_all(jobs, feats_conf, eval_conf, bool(conf.get("allow_pipes", False)), ref_dir / "wav.scp",
                        ref_dir / "wav.scp", nj, progress, worker=analyse_utterance)
    arrays = {"params": np.asarray(json.dumps(params, sort_keys=True))}
    for job, res in zip(jobs, results):
        arrays[f"mcep/{job.utt}"] = res["mcep"].astype(np.float64)
        arrays[f"f0/{job.utt}"] = res["f0"].astype(np.float64)
        arrays[f"spec/{job.utt}"] = np.asarray(job.ref_spec)
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(out_file, "wb") as fh:
        np.savez(fh, **arrays)
    log.info("wrote %s (%d utterances)", out_file, len(jobs))
    return params


class ReferenceAnalysis:
    """The analysis file of a split, checked against the settings of the evaluation that reads it."""

    def __init__(self, path, params: dict):
        self.path = Path(path)
        try:
            self._npz = np.load(self.path, allow_pickle=False)
            stored = json.loads(str(self._npz["params"]))
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(self.path, f"not a reference analysis file ({type(exc).__name__}: {exc}); "
                            "remake it with steps/analyse_reference.py") from None
        wanted = json.loads(json.dumps(params, sort_keys=True))
        if stored != wanted:
            diff = sorted(k for k in set(stored) | set(wanted) if stored.get(k) != wanted.get(k))
            raise DataError(self.path, f"made with other analysis settings ({', '.join(diff)}: "
                            f"{ {k: stored.get(k) for k in diff} } here, { {k: wanted.get(k) for k in diff} } "
                            "wanted); remake it with steps/analyse_reference.py")
        self._names = set(self._npz.files)

    def check(self, utt: str, spec: str, source=None, line: int | None = None) -> None:
        """DataError when ``utt`` is missing or was analysed from another wav.scp entry."""
        if f"mcep/{utt}" not in self._names:
            raise DataError(self.path, "no analysis of this reference utterance", utt=utt)
        stored = str(self._npz[f"spec/{utt}"])
        if stored != spec:
            raise DataError(source or self.path, f"reference audio '{spec}' differs from the one analysed in "
                            f"{self.path} ('{stored}'); remake it", line=line, utt=utt)

    def get(self, utt: str) -> tuple[np.ndarray, np.ndarray]:
        """(mel-cepstrum, raw Harvest F0 track) of ``utt``."""
        return self._npz[f"mcep/{utt}"], self._npz[f"f0/{utt}"]

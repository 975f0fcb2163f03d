"""Scoring one synthesized utterance against its reference (runs in worker processes).

Both waveforms are loaded at the feats sample rate and trimmed with the feature
extractor's silence trim before MCD and F0 are computed: synthesized and recorded audio
differ most in how much leading/trailing silence they carry, and those frames would
otherwise dominate the DTW path and the scores without saying anything about the speech.
The emotion classifier gets exactly what it was trained on: ``LogMelExtractor(feats)``
of the untrimmed synthesized waveform (the extractor trims itself when its conf says so).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pytorch_backend.errors import DataError, EmottsError
from pytorch_backend.eval.dtw import dtw_path
from pytorch_backend.eval.f0 import f0_metrics
from pytorch_backend.eval.judges import build_judges, judge_audio
from pytorch_backend.eval.legacy_imports import import_pysptk, import_pyworld
from pytorch_backend.eval.mcd import mcd_from_mceps, mcep_params, sptk_mcep
from pytorch_backend.feats.audio import load_audio
from pytorch_backend.feats.logmel import LogMelExtractor

# Imported here (not lazily): evaluate.py preloads this module into its forkserver, so the
# heavy libraries are imported once there instead of once per worker.
import_pysptk()
import_pyworld()

_STATE: dict = {}


@dataclass
class UttJob:
    utt: str
    target: int  # intended emotion id
    ref_spec: str
    ref_line: int
    syn_spec: str
    syn_line: int


def init_worker(feats_conf: dict, eval_conf: dict, allow_pipes: bool, ref_scp: str, syn_scp: str,
                single_thread: bool = True, judges: dict | None = None, ref_analysis: str | None = None) -> None:
    """Per-process set-up: one extractor, the eval conf, the judges of ``judges`` (the flags of
    ``eval/judges.judge_flags``), the split's reference analysis when given (eval/reference.py)
    and (in pool workers) single-threaded torch and ONNX, so that ``nj`` workers use ``nj`` cores."""
    import torch

    from pytorch_backend.eval.reference import ReferenceAnalysis, analysis_params

    if single_thread:
        torch.set_num_threads(1)
    _STATE.update(extractor=LogMelExtractor.from_conf(feats_conf), feats_conf=feats_conf,
                  eval_conf=eval_conf, allow_pipes=allow_pipes, ref_scp=ref_scp, syn_scp=syn_scp,
                  judge_flags=judges or {},
                  judges=build_judges(judges, threads=1 if single_thread else torch.get_num_threads()),
                  ref_analysis=None if ref_analysis is None
                  else ReferenceAnalysis(ref_analysis, analysis_params(feats_conf, eval_conf)))


def score_pair(ref_wav: np.ndarray, syn_wav: np.ndarray, fs: int, eval_conf: dict,
               ref_analysis: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """MCD and F0 metrics of two (already trimmed) float waveforms; ``ref_analysis``: the
    reference's (mel-cepstrum, Harvest track) made beforehand (eval/reference.py), else computed."""
    mc = eval_conf.get("mcd") or {}
    f0c = eval_conf.get("f0") or {}
    mcep_dim, alpha = mcep_params(fs, mc.get("mcep_dim"), mc.get("alpha"))
    ref_mcep, ref_f0 = ref_analysis if ref_analysis is not None else (sptk_mcep(ref_wav, fs, mcep_dim, alpha), None)
    syn_mcep = sptk_mcep(syn_wav, fs, mcep_dim, alpha)
    path = dtw_path(ref_mcep, syn_mcep)  # one alignment for both metrics
    out = {"mcd": mcd_from_mceps(ref_mcep, syn_mcep, path)}
    out.update(f0_metrics(ref_wav, syn_wav, fs, f0_floor=f0c.get("f0_floor", 60.0),
                          f0_ceil=f0c.get("f0_ceil", 700.0), frame_period=f0c.get("frame_period", 5.0),
                          mcep_dim=mcep_dim, alpha=alpha, ref_mcep=ref_mcep, syn_mcep=syn_mcep, path=path,
                          ref_f0_track=ref_f0))
    return out


def score_utterance(job: UttJob) -> dict:
    """Load, trim and score one utterance; return its metrics and the synth log-mel."""
    ext = _STATE["extractor"]
    fconf = _STATE["feats_conf"]
    fs, resample, pipes = int(fconf["fs"]), bool(fconf.get("resample", True)), _STATE["allow_pipes"]
    syn = load_audio(job.syn_spec, fs, resample=resample, allow_pipes=pipes, source=_STATE["syn_scp"],
                     line=job.syn_line, utt=job.utt)
    ref = load_audio(job.ref_spec, fs, resample=resample, allow_pipes=pipes, source=_STATE["ref_scp"],
                     line=job.ref_line, utt=job.utt)
    cached = _STATE.get("ref_analysis")
    if cached is not None:
        cached.check(job.utt, job.ref_spec, _STATE["ref_scp"], job.ref_line)
    try:
        ref_trim, syn_trim = ext.trim(ref), ext.trim(syn)
        scores = score_pair(ref_trim, syn_trim, fs, _STATE["eval_conf"],
                            None if cached is None else cached.get(job.utt))
        feats = ext(syn)
        scores.update(judge_audio(_STATE["judges"], syn_trim, fs))
        if _STATE["judges"].speaker is not None:  # the real recording: its speaker's reference
            scores["ref_spk_embed"] = _STATE["judges"].speaker.embed(ref_trim, fs)
    except EmottsError:
        raise
    except Exception as exc:  # a library failure on this audio: say which utterance
        raise DataError(_STATE["syn_scp"], f"evaluation failed: {type(exc).__name__}: {exc}",
                        line=job.syn_line, utt=job.utt) from None
    scores.update(utt=job.utt, target=job.target, syn_seconds=len(syn) / fs, ref_seconds=len(ref) / fs,
                  feats=feats)
    return scores


def _load_reference(job: UttJob) -> tuple[np.ndarray, int]:
    """(the real recording of ``job`` at the feats rate, that rate); errors name ref wav.scp."""
    fconf = _STATE["feats_conf"]
    fs = int(fconf["fs"])
    ref = load_audio(job.ref_spec, fs, resample=bool(fconf.get("resample", True)), allow_pipes=_STATE["allow_pipes"],
                     source=_STATE["ref_scp"], line=job.ref_line, utt=job.utt)
    return ref, fs


def _reference_failure(job: UttJob, what: str, exc: Exception) -> DataError:
    """A library failure on a real recording, naming ref wav.scp, its line and the utterance."""
    return DataError(_STATE["ref_scp"], f"{what} failed: {type(exc).__name__}: {exc}", line=job.ref_line, utt=job.utt)


def judge_utterance(job: UttJob) -> dict:
    """The real recording of ``job`` alone: its judges (trimmed audio) and its log-mel."""
    ext = _STATE["extractor"]
    ref, fs = _load_reference(job)
    try:
        out = judge_audio(_STATE["judges"], ext.trim(ref), fs)
        if "spk_embed" in out:
            out["ref_spk_embed"] = out["spk_embed"]
        feats = ext(ref)
    except EmottsError:
        raise
    except Exception as exc:
        raise _reference_failure(job, "evaluation", exc) from None
    out.update(utt=job.utt, target=job.target, ref_seconds=len(ref) / fs, feats=feats)
    return out


def analyse_utterance(job: UttJob) -> dict:
    """The reference analysis (eval/reference.py) of the real recording of ``job``."""
    from pytorch_backend.eval.reference import analyse_waveform, analysis_params

    ref, fs = _load_reference(job)
    try:
        mcep, f0 = analyse_waveform(_STATE["extractor"].trim(ref), fs,
                                    analysis_params(_STATE["feats_conf"], _STATE["eval_conf"]))
    except EmottsError:
        raise
    except Exception as exc:
        raise _reference_failure(job, "analysis", exc) from None
    return {"utt": job.utt, "mcep": mcep, "f0": f0}

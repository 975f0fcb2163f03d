"""log-F0 RMSE and voicing decision error between a reference and a synthesized waveform.

F0 is estimated with WORLD's Harvest (``pyworld.harvest``) on float64 audio at ``fs`` with
``f0_floor`` / ``f0_ceil`` / ``frame_period`` from ``eval.f0`` of conf/eval.yaml; an
unvoiced frame has F0 = 0.

Alignment (the choice, as in ESPnet's ``evaluate_f0.py``): the two utterances are aligned
by DTW on a WORLD mel-cepstrum computed at exactly the F0 frames (CheapTrick spectral
envelope -> ``pysptk.sp2mc`` with the MCD order/alpha for ``fs``), so every F0 frame has a
spectral frame at the same time and the spectral DTW path maps F0 frames one to one.

Over the aligned frame pairs:
* ``log_f0_rmse`` = sqrt(mean((ln F0_ref - ln F0_syn)^2)) over pairs voiced in both
  (None when no pair is voiced in both);
* ``log_f0_rmse_cents`` = the same in cents (1200 / ln 2 times the natural-log value);
* ``vuv_error`` = fraction of pairs whose voiced/unvoiced decisions differ.
"""

from __future__ import annotations

import math

import numpy as np

from pytorch_backend.eval.dtw import dtw_path
from pytorch_backend.eval.legacy_imports import import_pysptk, import_pyworld
from pytorch_backend.eval.mcd import mcep_params

CENTS_PER_NEPER = 1200.0 / math.log(2.0)


def world_f0_mcep(wav: np.ndarray, fs: int, f0_floor: float = 60.0, f0_ceil: float = 700.0,
                  frame_period: float = 5.0, mcep_dim: int | None = None,
                  alpha: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(f0, mcep)``: Harvest F0 (Hz, 0 = unvoiced) and WORLD mel-cepstrum at the same frames."""
    pyworld = import_pyworld()
    pysptk = import_pysptk()
    mcep_dim, alpha = mcep_params(fs, mcep_dim, alpha)
    x = np.ascontiguousarray(wav, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"expected a mono waveform, got shape {x.shape}")
    f0, times = pyworld.harvest(x, fs, f0_floor=float(f0_floor), f0_ceil=float(f0_ceil),
                                frame_period=float(frame_period))
    fft_size = pyworld.get_cheaptrick_fft_size(fs, float(f0_floor))
    sp = pyworld.cheaptrick(x, f0, times, fs, f0_floor=float(f0_floor), fft_size=fft_size)
    mcep = pysptk.sp2mc(sp, order=mcep_dim, alpha=alpha)
    return f0, mcep


def f0_metrics_from_tracks(ref_f0: np.ndarray, ref_mcep: np.ndarray, syn_f0: np.ndarray,
                           syn_mcep: np.ndarray) -> dict:
    """The metrics of the module docstring from already extracted tracks."""
    ia, ib = dtw_path(ref_mcep, syn_mcep)
    a, b = ref_f0[ia], syn_f0[ib]
    va, vb = a > 0, b > 0
    both = va & vb
    out = {"aligned_frames": int(len(ia)), "voiced_both": int(both.sum()),
           "vuv_error": float(np.mean(va != vb)), "log_f0_rmse": None, "log_f0_rmse_cents": None}
    if both.any():
        rmse = float(np.sqrt(np.mean((np.log(a[both]) - np.log(b[both])) ** 2)))
        out["log_f0_rmse"] = rmse
        out["log_f0_rmse_cents"] = rmse * CENTS_PER_NEPER
    return out


def f0_metrics(ref_wav: np.ndarray, syn_wav: np.ndarray, fs: int, f0_floor: float = 60.0,
               f0_ceil: float = 700.0, frame_period: float = 5.0, mcep_dim: int | None = None,
               alpha: float | None = None) -> dict:
    """log-F0 RMSE (natural log and cents) and voicing error between two float waveforms."""
    kw = dict(f0_floor=f0_floor, f0_ceil=f0_ceil, frame_period=frame_period, mcep_dim=mcep_dim, alpha=alpha)
    ref_f0, ref_mcep = world_f0_mcep(ref_wav, fs, **kw)
    syn_f0, syn_mcep = world_f0_mcep(syn_wav, fs, **kw)
    return f0_metrics_from_tracks(ref_f0, ref_mcep, syn_f0, syn_mcep)

"""log-F0 RMSE and voicing decision error between a reference and a synthesized waveform.

F0 is estimated with WORLD's Harvest (``pyworld.harvest``) on float64 audio at ``fs`` with
``f0_floor`` / ``f0_ceil`` / ``frame_period`` (the Harvest analysis step) from ``eval.f0``
of conf/eval.yaml; an unvoiced frame has F0 = 0.

Alignment (the choice): as in ESPnet's ``evaluate_f0.py``, the two utterances are aligned
by DTW on mel-cepstra, and we reuse the very DTW path of the MCD (SPTK mel-cepstrum,
1024-sample frames every 256 samples, see ``pytorch_backend.eval.mcd``). F0 is therefore
scored on the MCD frame grid (11.6 ms at 22.05 kHz, ESPnet's F0 frame rate too): each MCD
frame takes the Harvest value nearest to its centre. One mel-cepstral analysis and one DTW
serve both metrics, which halves the evaluation time.

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
from pytorch_backend.eval.legacy_imports import import_pyworld
from pytorch_backend.eval.mcd import N_FFT, N_SHIFT, mcep_params, sptk_mcep

CENTS_PER_NEPER = 1200.0 / math.log(2.0)


def harvest_f0(wav: np.ndarray, fs: int, f0_floor: float = 60.0, f0_ceil: float = 700.0,
               frame_period: float = 5.0) -> np.ndarray:
    """Harvest F0 in Hz (0 = unvoiced), one value every ``frame_period`` ms from t = 0."""
    pyworld = import_pyworld()
    x = np.ascontiguousarray(wav, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"expected a mono waveform, got shape {x.shape}")
    f0, _ = pyworld.harvest(x, int(fs), f0_floor=float(f0_floor), f0_ceil=float(f0_ceil),
                            frame_period=float(frame_period))
    return f0


def f0_on_mcep_frames(f0: np.ndarray, frame_period: float, num_frames: int, fs: int,
                      n_fft: int = N_FFT, n_shift: int = N_SHIFT) -> np.ndarray:
    """F0 at the centres of the MCD frames (frame i spans samples [i*n_shift, i*n_shift + n_fft))."""
    centres = (np.arange(num_frames) * n_shift + n_fft / 2.0) / fs  # seconds
    idx = np.clip(np.rint(centres * 1000.0 / frame_period).astype(np.int64), 0, len(f0) - 1)
    return f0[idx]


def f0_metrics_on_path(ref_f0: np.ndarray, syn_f0: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> dict:
    """The metrics of the module docstring for F0 tracks on frames aligned by ``(ia, ib)``."""
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
               alpha: float | None = None, ref_mcep: np.ndarray | None = None,
               syn_mcep: np.ndarray | None = None, path=None, ref_f0_track: np.ndarray | None = None) -> dict:
    """log-F0 RMSE (natural log and cents) and voicing error between two float waveforms.

    ``ref_mcep`` / ``syn_mcep`` / ``path`` (the MCD's mel-cepstra and DTW path) and
    ``ref_f0_track`` (the reference's Harvest track, :func:`harvest_f0` with these settings) are
    reused when given, computed otherwise.
    """
    mcep_dim, alpha = mcep_params(fs, mcep_dim, alpha)
    if ref_mcep is None:
        ref_mcep = sptk_mcep(ref_wav, fs, mcep_dim, alpha)
    if syn_mcep is None:
        syn_mcep = sptk_mcep(syn_wav, fs, mcep_dim, alpha)
    ia, ib = path if path is not None else dtw_path(ref_mcep, syn_mcep)
    kw = dict(f0_floor=f0_floor, f0_ceil=f0_ceil, frame_period=frame_period)
    if ref_f0_track is None:
        ref_f0_track = harvest_f0(ref_wav, fs, **kw)
    ref_f0 = f0_on_mcep_frames(ref_f0_track, frame_period, len(ref_mcep), fs)
    syn_f0 = f0_on_mcep_frames(harvest_f0(syn_wav, fs, **kw), frame_period, len(syn_mcep), fs)
    return f0_metrics_on_path(ref_f0, syn_f0, ia, ib)

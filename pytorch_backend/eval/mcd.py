"""Mel-cepstral distortion (MCD) following ESPnet's ``evaluate_mcd.py`` protocol.

Facts of that protocol (checked against espnet/egs2/TEMPLATE/asr1/pyscripts/utils/evaluate_mcd.py):

* audio is read as int16, so the mel-cepstrum is computed on float64 arrays holding
  int16-scale sample values (a float wav in [-1, 1) is multiplied by 32768 here);
* frames are cut without padding, ``n_fft = 1024`` samples long every ``n_shift = 256``
  samples (the script's command-line defaults; they are fixed in samples and do not
  scale with fs, i.e. 46.4 ms / 11.6 ms at 22.05 kHz) and weighted with SPTK's Hamming
  window (``pysptk.sptk.hamming(n_fft)``, power-normalized);
* each frame is analysed with ``pysptk.mcep(frame, mcep_dim, alpha, eps=1e-6, etype=1)``,
  the other arguments at pysptk's defaults (miniter 2, maxiter 30, threshold 1e-3);
* ``mcep_dim`` / ``alpha`` default by sample rate (table below), an fs outside the table
  needs both given explicitly;
* the two mel-cepstrum sequences are aligned by DTW with the Euclidean frame distance and
  ``MCD = mean over aligned pairs of 10/ln(10) * sqrt(2 * sum_d (c_d - c'_d)^2)``, the sum
  running over all coefficients including the energy term c0;
* a set of utterances is reported as the mean and the (population) standard deviation of
  the per-utterance values.

The one deviation: ESPnet uses ``fastdtw`` (an approximation of DTW); we solve DTW exactly
(``pytorch_backend.eval.dtw``).
"""

from __future__ import annotations

import math

import numpy as np

from pytorch_backend.eval.dtw import dtw_path
from pytorch_backend.eval.legacy_imports import import_pysptk

N_FFT = 1024
N_SHIFT = 256
MCEP_EPS = 1.0e-6
MCEP_ETYPE = 1

# sample rate -> (mcep_dim, alpha), ESPnet's "best" mel-cepstrum settings
MCEP_PARAMS = {
    16000: (23, 0.42),
    22050: (34, 0.45),
    24000: (34, 0.46),
    44100: (39, 0.53),
    48000: (39, 0.55),
}

MCD_CONST = 10.0 / math.log(10.0)


def mcep_params(fs: int, mcep_dim: int | None = None, alpha: float | None = None) -> tuple[int, float]:
    """The (mcep_dim, alpha) to use at ``fs``; explicit values win over the table."""
    if mcep_dim is not None and alpha is not None:
        return int(mcep_dim), float(alpha)
    if int(fs) not in MCEP_PARAMS:
        known = ", ".join(str(k) for k in MCEP_PARAMS)
        raise ValueError(f"no default mel-cepstrum order/alpha for fs={fs} Hz (known: {known}); "
                         "set eval.mcd.mcep_dim and eval.mcd.alpha in conf/eval.yaml")
    table_dim, table_alpha = MCEP_PARAMS[int(fs)]
    return (int(mcep_dim) if mcep_dim is not None else table_dim,
            float(alpha) if alpha is not None else table_alpha)


def to_int16_scale(wav: np.ndarray) -> np.ndarray:
    """A float waveform in [-1, 1) as float64 int16 sample values (rounded and clipped)."""
    wav = np.asarray(wav, dtype=np.float64)
    return np.clip(np.round(wav * 32768.0), -32768.0, 32767.0)


def sptk_mcep(wav: np.ndarray, fs: int, mcep_dim: int | None = None, alpha: float | None = None,
              n_fft: int = N_FFT, n_shift: int = N_SHIFT) -> np.ndarray:
    """Frame-wise SPTK mel-cepstrum (frames x (mcep_dim + 1)) of a float waveform.

    A waveform shorter than one frame is zero-padded to one frame (ESPnet would produce no
    frame at all and fail later), so degenerate synthesis still gets a finite score.
    """
    pysptk = import_pysptk()
    mcep_dim, alpha = mcep_params(fs, mcep_dim, alpha)
    x = to_int16_scale(wav)
    if x.ndim != 1:
        raise ValueError(f"expected a mono waveform, got shape {x.shape}")
    if len(x) < n_fft:
        x = np.pad(x, (0, n_fft - len(x)))
    n_frames = (len(x) - n_fft) // n_shift + 1
    window = pysptk.sptk.hamming(n_fft)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::n_shift][:n_frames] * window
    return np.stack([pysptk.mcep(frame, order=mcep_dim, alpha=alpha, eps=MCEP_EPS, etype=MCEP_ETYPE)
                     for frame in frames])


def mcd_from_mceps(ref_mcep: np.ndarray, syn_mcep: np.ndarray, path=None) -> float:
    """MCD in dB between two mel-cepstrum sequences, DTW-aligned, c0 included.

    ``path``: an already computed ``dtw_path(ref_mcep, syn_mcep)``.
    """
    ia, ib = path if path is not None else dtw_path(ref_mcep, syn_mcep)
    diff = ref_mcep[ia] - syn_mcep[ib]
    return float(np.mean(MCD_CONST * np.sqrt(2.0 * np.sum(diff ** 2, axis=1))))


def mcd(ref_wav: np.ndarray, syn_wav: np.ndarray, fs: int, mcep_dim: int | None = None,
        alpha: float | None = None) -> float:
    """MCD (dB) between a reference and a synthesized float waveform at sample rate ``fs``."""
    mcep_dim, alpha = mcep_params(fs, mcep_dim, alpha)
    return mcd_from_mceps(sptk_mcep(ref_wav, fs, mcep_dim, alpha), sptk_mcep(syn_wav, fs, mcep_dim, alpha))


def mean_std(values) -> dict:
    """``{"mean", "std"}`` (population std, as ESPnet reports) of the finite values.

    Both are None when there is no finite value (JSON has no NaN).
    """
    arr = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    if arr.size == 0:
        return {"mean": None, "std": None}
    return {"mean": float(arr.mean()), "std": float(arr.std())}

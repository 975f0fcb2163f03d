"""MCD (ESPnet protocol): zero for identical audio, the analytic c0 offset for a scaled copy,
DTW robustness to time stretching, the fs table, and DTW equivalence with a plain DP."""

import math

import numpy as np
import pytest

from pytorch_backend.eval.dtw import dtw_path
from pytorch_backend.eval.mcd import MCEP_PARAMS, mcd, mcd_from_mceps, mcep_params, mean_std, sptk_mcep

FS = 22050


def harmonic_segments(durations, fs=FS, seed=0):
    """Concatenated steady 'vowels': harmonic tones, each with its own F0 and spectral tilt.

    Deterministic given ``seed``; stretching ``durations`` keeps the spectra of every segment.
    """
    rng = np.random.default_rng(seed)
    params = [(rng.uniform(100, 250), rng.uniform(0.5, 1.5), rng.uniform(300, 3000)) for _ in durations]
    parts = []
    for dur, (f0, tilt, formant) in zip(durations, params):
        t = np.arange(int(dur * fs)) / fs
        x = np.zeros_like(t)
        for h in range(1, int(0.45 * fs / f0)):
            f = h * f0
            amp = h ** (-tilt) * (1.0 + 4.0 * np.exp(-((f - formant) / 300.0) ** 2))
            x += amp * np.sin(2 * np.pi * f * t + 0.3 * h)
        parts.append(x)
    x = np.concatenate(parts)
    x += 1e-3 * np.random.default_rng(seed + 1).standard_normal(len(x))  # no digital silence
    return (0.25 * x / np.max(np.abs(x))).astype(np.float32)


def chirp_noise(seconds=1.0, fs=FS, seed=0):
    """Non-stationary test signal: a chirp plus coloured noise (frames differ from each other)."""
    t = np.arange(int(seconds * fs)) / fs
    rng = np.random.default_rng(seed)
    noise = np.convolve(rng.standard_normal(len(t)), [1.0, 0.7, 0.3], mode="same")
    x = np.sin(2 * np.pi * (100 * t + 1500 * t ** 2)) + 0.3 * noise
    return (0.2 * x / np.max(np.abs(x))).astype(np.float32)


def test_identical_signals_give_zero():
    x = chirp_noise()
    assert mcd(x, x, FS) == pytest.approx(0.0, abs=1e-9)


def test_scaled_copy_changes_only_c0_by_ln_k():
    # Scaling the amplitude by k multiplies |X(w)| by k, i.e. adds ln k to the log spectrum
    # that the mel-cepstrum represents; only the constant term c0 changes, by ln k. With all
    # other coefficients equal, every aligned pair contributes 10/ln10 * sqrt(2 (ln k)^2)
    # = 10/ln10 * sqrt(2) * |ln k| dB.
    x = chirp_noise()
    k = 2.0
    c_ref = sptk_mcep(x, FS)
    c_syn = sptk_mcep(k * x, FS)
    assert c_ref.shape == c_syn.shape == ((len(x) - 1024) // 256 + 1, 35)
    np.testing.assert_allclose(c_syn[:, 0] - c_ref[:, 0], math.log(k), atol=2e-3)
    np.testing.assert_allclose(c_syn[:, 1:], c_ref[:, 1:], atol=2e-3)
    expected = 10.0 / math.log(10.0) * math.sqrt(2.0) * math.log(k)  # 4.2572 dB
    assert expected == pytest.approx(4.2572, abs=1e-4)
    assert mcd(x, k * x, FS) == pytest.approx(expected, abs=0.02)
    assert mcd(x, x / k, FS) == pytest.approx(expected, abs=0.02)


def test_roughly_symmetric():
    a = harmonic_segments([0.3, 0.3, 0.3], seed=1)
    b = harmonic_segments([0.3, 0.3, 0.3], seed=2)
    ab, ba = mcd(a, b, FS), mcd(b, a, FS)
    assert ab > 3.0
    assert ab == pytest.approx(ba, rel=0.02)


def test_time_stretched_copy_is_close_thanks_to_dtw():
    ref = harmonic_segments([0.25, 0.3, 0.2, 0.3], seed=3)
    slow = harmonic_segments([0.35, 0.42, 0.28, 0.42], seed=3)  # same segments, 1.4x longer
    other = harmonic_segments([0.25, 0.3, 0.2, 0.3], seed=4)
    c_ref, c_slow = sptk_mcep(ref, FS), sptk_mcep(slow, FS)
    stretched = mcd_from_mceps(c_ref, c_slow)
    # without alignment (frame i against frame i), the stretched copy is far off
    n = min(len(c_ref), len(c_slow))
    naive = np.mean(10 / np.log(10) * np.sqrt(2 * np.sum((c_ref[:n] - c_slow[:n]) ** 2, axis=1)))
    assert stretched < 2.5
    assert naive > 2 * stretched
    assert mcd(ref, other, FS) > 3 * stretched


def test_mcep_params_table_and_overrides():
    assert mcep_params(22050) == (34, 0.45)
    assert mcep_params(16000) == (23, 0.42)
    assert mcep_params(24000, mcep_dim=20) == (20, 0.46)
    assert mcep_params(8000, mcep_dim=12, alpha=0.31) == (12, 0.31)
    assert set(MCEP_PARAMS) == {16000, 22050, 24000, 44100, 48000}


def test_unknown_fs_without_override_is_a_clear_error():
    x = chirp_noise(0.2, fs=8000)
    with pytest.raises(ValueError, match=r"fs=8000 Hz.*eval\.mcd\.mcep_dim"):
        mcd(x, x, 8000)
    assert mcd(x, x, 8000, mcep_dim=12, alpha=0.31) == pytest.approx(0.0, abs=1e-9)


def test_short_signal_gets_one_frame():
    x = chirp_noise(0.02)  # 441 samples < n_fft
    assert sptk_mcep(x, FS).shape == (1, 35)


def reference_dtw(a, b):
    """Plain O(N M) DTW with the symmetric (1,1),(1,0),(0,1) steps, for comparison."""
    cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    acc = np.full((len(a) + 1, len(b) + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            acc[i, j] = cost[i - 1, j - 1] + min(acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])
    return acc[-1, -1], cost


def test_librosa_dtw_matches_plain_dynamic_programming():
    rng = np.random.default_rng(0)
    for _ in range(5):
        a = rng.standard_normal((int(rng.integers(3, 15)), 4))
        b = rng.standard_normal((int(rng.integers(3, 15)), 4))
        ia, ib = dtw_path(a, b)
        best, cost = reference_dtw(a, b)
        assert cost[ia, ib].sum() == pytest.approx(best, rel=1e-9)
        assert (ia[0], ib[0]) == (0, 0) and (ia[-1], ib[-1]) == (len(a) - 1, len(b) - 1)
        steps = np.stack([np.diff(ia), np.diff(ib)], axis=1)
        assert {tuple(s) for s in steps} <= {(1, 1), (1, 0), (0, 1)}


def test_mean_std():
    assert mean_std([1.0, 3.0]) == {"mean": 2.0, "std": 1.0}
    assert mean_std([2.0, None, float("nan")]) == {"mean": 2.0, "std": 0.0}
    assert mean_std([]) == {"mean": None, "std": None}

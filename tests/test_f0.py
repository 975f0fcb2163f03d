"""log-F0 RMSE and voicing error on synthetic tones of known F0."""

import math

import numpy as np
import pytest

from pytorch_backend.eval.f0 import CENTS_PER_NEPER, f0_metrics, f0_on_mcep_frames, harvest_f0

FS = 22050


def tone(f0, seconds=0.6, fs=FS, harmonics=8, amp=0.3):
    """A steady harmonic tone (voiced speech stand-in) with a tiny noise floor."""
    t = np.arange(int(seconds * fs)) / fs
    x = sum(np.sin(2 * np.pi * h * f0 * t) / h for h in range(1, harmonics + 1))
    x = amp * x / np.max(np.abs(x))
    return (x + 1e-4 * np.random.default_rng(0).standard_normal(len(t))).astype(np.float32)


def test_harvest_finds_the_tone_frequency():
    f0 = harvest_f0(tone(200.0), FS, frame_period=5.0)
    assert len(f0) == int(0.6 * 1000 / 5.0) + 1
    voiced = f0[f0 > 0]
    assert len(voiced) > 0.8 * len(f0)
    assert np.median(voiced) == pytest.approx(200.0, rel=0.01)


def test_f0_is_sampled_at_the_mcd_frame_centres():
    f0 = np.arange(100, dtype=np.float64)  # value = Harvest frame index, 5 ms apart
    # MCD frame i is centred at (256 i + 512) / fs seconds: 23.2 ms, 34.8 ms, 46.4 ms, ...
    got = f0_on_mcep_frames(f0, 5.0, 4, FS)
    want = np.rint((np.arange(4) * 256 + 512) / FS * 1000 / 5.0)
    np.testing.assert_array_equal(got, want)
    assert list(got) == [5.0, 7.0, 9.0, 12.0]
    assert f0_on_mcep_frames(f0, 5.0, 1000, FS)[-1] == 99.0  # clipped to the track


def test_200_vs_220_hz_gives_ln_1_1():
    m = f0_metrics(tone(200.0), tone(220.0), FS)
    assert m["log_f0_rmse"] == pytest.approx(math.log(1.1), abs=0.01)
    assert m["log_f0_rmse_cents"] == pytest.approx(1200 * math.log2(1.1), abs=0.01 * CENTS_PER_NEPER)
    assert m["vuv_error"] < 0.1


def test_same_tone_gives_zero_and_durations_may_differ():
    m = f0_metrics(tone(180.0, 0.5), tone(180.0, 0.8), FS)
    assert m["log_f0_rmse"] == pytest.approx(0.0, abs=0.005)
    assert m["aligned_frames"] >= (int(0.8 * FS) - 1024) // 256 + 1  # every frame of the longer one


def test_voicing_error_counts_frames_voiced_in_only_one():
    fs = FS
    voiced = tone(200.0, 0.6)
    silence = (1e-4 * np.random.default_rng(1).standard_normal(int(0.6 * fs))).astype(np.float32)
    ref = np.concatenate([voiced, silence])
    syn = np.concatenate([voiced, voiced])  # voiced throughout
    m = f0_metrics(ref, syn, fs)
    # about half the aligned frames are silent in ref but voiced in syn
    assert 0.3 < m["vuv_error"] < 0.6
    # same tone where both are voiced (Harvest's F0 wobbles a little at the voicing edge)
    assert m["log_f0_rmse"] < 0.05


def test_no_frame_voiced_in_both_gives_none():
    silence = (1e-4 * np.random.default_rng(2).standard_normal(int(0.3 * FS))).astype(np.float32)
    m = f0_metrics(silence, tone(200.0, 0.3), FS)
    assert m["log_f0_rmse"] is None and m["log_f0_rmse_cents"] is None
    assert m["vuv_error"] > 0.8

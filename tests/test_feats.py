"""Audio loading, the log-mel definition and feature statistics."""

from __future__ import annotations

from pathlib import Path

import kaldiio
import librosa
import numpy as np
import pytest
import soundfile as sf
from feats_fixtures import FS, vowel, write_wav

from pytorch_backend.errors import DataError
from pytorch_backend.feats import LogMelExtractor, compute_stats, denormalize, load_audio, load_stats, normalize
from pytorch_backend.feats.stats import save_stats

MEL80 = dict(fs=22050, n_fft=1024, hop_length=256, win_length=1024, window="hann", n_mels=80,
             fmin=0.0, fmax=8000.0, log_floor=1e-5, trim_silence=True, trim_top_db=40.0,
             trim_pad_ms=20.0)


# -- load_audio ------------------------------------------------------------------------
def test_stereo_is_mixed_to_mono(tmp_path):
    left, right = vowel(0.3, 120.0), vowel(0.3, 200.0, seed=1)
    path = write_wav(tmp_path / "st.wav", np.stack([left, right], axis=1))
    wav = load_audio(str(path), FS)
    assert wav.dtype == np.float32 and wav.ndim == 1 and len(wav) == len(left)
    np.testing.assert_allclose(wav, (left + right) / 2, atol=2e-4)


@pytest.mark.parametrize("subtype", ["PCM_24", "FLOAT"])
def test_24bit_and_float_files(tmp_path, subtype):
    x = vowel(0.2)
    path = write_wav(tmp_path / "a.wav", x, subtype=subtype)
    np.testing.assert_allclose(load_audio(str(path), FS), x, atol=1e-6)


def test_16k_file_is_resampled(tmp_path):
    x = vowel(1.0, fs=16000)
    path = write_wav(tmp_path / "a16.wav", x, fs=16000)
    wav = load_audio(str(path), 22050)
    assert abs(len(wav) - len(x) * 22050 / 16000) <= 1
    assert np.abs(wav).max() <= 1.0
    # Same pitch after resampling: the spectral peak stays near the strongest harmonic.
    spec = np.abs(np.fft.rfft(wav))
    peak_hz = np.argmax(spec) * 22050 / len(wav)
    ref = np.abs(np.fft.rfft(x))
    assert abs(peak_hz - np.argmax(ref) * 16000 / len(x)) < 5


def test_rate_mismatch_without_resampling_names_file_line_utt_and_rates(tmp_path):
    path = write_wav(tmp_path / "a16.wav", vowel(0.2, fs=16000), fs=16000)
    with pytest.raises(DataError) as err:
        load_audio(str(path), 22050, resample=False, source="data/x/wav.scp", line=7, utt="spk_u7")
    msg = str(err.value)
    assert msg.startswith("data/x/wav.scp:7 (utterance spk_u7)")
    assert "16000" in msg and "22050" in msg and str(path) in msg


def test_missing_corrupt_and_empty_wavs(tmp_path):
    missing = tmp_path / "nope.wav"
    with pytest.raises(DataError, match=r"wav\.scp:3 \(utterance u3\): audio file not found: .*nope\.wav"):
        load_audio(str(missing), FS, source="wav.scp", line=3, utt="u3")
    corrupt = tmp_path / "bad.wav"
    corrupt.write_bytes(b"RIFF\x00\x00garbage" * 3)
    with pytest.raises(DataError, match=r"wav\.scp:4 \(utterance u4\): cannot read audio file .*bad\.wav"):
        load_audio(str(corrupt), FS, source="wav.scp", line=4, utt="u4")
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros(0, dtype=np.float32), FS, subtype="PCM_16")
    with pytest.raises(DataError, match=r"wav\.scp:5 \(utterance u5\): audio has zero samples: .*empty\.wav"):
        load_audio(str(empty), FS, source="wav.scp", line=5, utt="u5")


def test_pipes_refused_unless_allowed(tmp_path):
    x = vowel(0.2)
    path = write_wav(tmp_path / "p.wav", x)
    spec = f"cat {path} |"
    with pytest.raises(DataError, match=r"wav\.scp:2 \(utterance u2\): piped wav\.scp entry refused"):
        load_audio(spec, FS, source="wav.scp", line=2, utt="u2")
    np.testing.assert_allclose(load_audio(spec, FS, allow_pipes=True), x, atol=1e-4)
    with pytest.raises(DataError, match=r"wav\.scp:9 \(utterance u9\): command failed \(exit 3\)"):
        load_audio("exit 3 |", FS, allow_pipes=True, source="wav.scp", line=9, utt="u9")


# -- log-mel -----------------------------------------------------------------------------
def librosa_logmel(wav, conf):
    mel = librosa.feature.melspectrogram(
        y=wav, sr=conf["fs"], n_fft=conf["n_fft"], hop_length=conf["hop_length"],
        win_length=conf["win_length"], window=conf["window"], center=True, pad_mode="reflect",
        power=1.0, n_mels=conf["n_mels"], fmin=conf["fmin"], fmax=conf["fmax"], htk=False, norm="slaney")
    return np.log(np.maximum(mel, conf["log_floor"])).T


@pytest.mark.filterwarnings("ignore:n_fft=1024 is too large")  # librosa, on the 600-sample case
@pytest.mark.parametrize("num_samples", [600, 22050, 22050 + 255, 22050 + 256, 30001])
def test_logmel_frames_and_librosa_equality(num_samples):
    extractor = LogMelExtractor(**MEL80)
    wav = vowel(num_samples / FS, seed=num_samples)[:num_samples]
    feats = extractor.logmel(wav)
    assert feats.dtype == np.float32
    assert feats.shape == (1 + num_samples // 256, 80) == (extractor.num_frames(num_samples), 80)
    np.testing.assert_allclose(feats, librosa_logmel(wav, MEL80), atol=2e-3, rtol=0)


def test_logmel_other_window_and_shorter_win_length():
    conf = dict(MEL80, win_length=800, window="hamming", n_mels=40, fmax=None, fmin=50.0)
    extractor = LogMelExtractor(**conf)
    wav = vowel(0.5)
    ref = librosa_logmel(wav, dict(conf, fmax=FS / 2))
    np.testing.assert_allclose(extractor.logmel(wav), ref, atol=2e-3, rtol=0)


def test_logmel_of_very_short_and_silent_signals():
    extractor = LogMelExtractor(**MEL80)
    assert extractor.logmel(np.full(10, 0.1, dtype=np.float32)).shape == (1, 80)
    silent = extractor.logmel(np.zeros(3000, dtype=np.float32))
    np.testing.assert_allclose(silent, np.log(1e-5), rtol=1e-6)


def test_mel_basis_is_librosas_slaney_filterbank():
    extractor = LogMelExtractor(**MEL80)
    ref = librosa.filters.mel(sr=22050, n_fft=1024, n_mels=80, fmin=0.0, fmax=8000.0)
    assert extractor.mel_basis.shape == (80, 513)
    np.testing.assert_allclose(extractor.mel_basis, ref, rtol=1e-6, atol=1e-9)


def test_trim_keeps_margin_and_call_trims_first():
    extractor = LogMelExtractor(**MEL80)
    voiced = vowel(0.5, seed=3)
    wav = vowel(0.5, seed=3, silence=0.3)
    trimmed = extractor.trim(wav)
    pad = int(0.02 * FS)
    # librosa.trim works on frames (hop 256), so the kept span is the voiced part, the
    # margin on each side and at most a frame of slack.
    assert len(voiced) + 2 * pad - 2 * 256 <= len(trimmed) <= len(voiced) + 2 * pad + 2 * 1024
    assert extractor(wav).shape[0] == 1 + len(trimmed) // 256
    untrimmed = LogMelExtractor(**dict(MEL80, trim_silence=False))
    assert untrimmed(wav).shape[0] == 1 + len(wav) // 256


def test_from_conf_ignores_keys_of_other_stages():
    extractor = LogMelExtractor.from_conf(dict(MEL80, nj=4, resample=False))
    assert (extractor.fs, extractor.n_mels, extractor.hop_length) == (22050, 80, 256)


# -- statistics --------------------------------------------------------------------------
def write_feats_scp(tmp_path, mats: dict) -> str:
    ark, scp = tmp_path / "feats.ark", tmp_path / "feats.scp"
    kaldiio.save_ark(str(ark), mats, scp=str(scp))
    return str(scp)


def test_compute_stats_equals_numpy_over_all_frames(tmp_path):
    rng = np.random.default_rng(0)
    mats = {f"u{i}": (rng.standard_normal((20 + 13 * i, 5)) * (i + 1) + 3 * i).astype(np.float32)
            for i in range(4)}
    mats["u9"] = np.full((7, 5), -2.0, dtype=np.float32)
    scp = write_feats_scp(tmp_path, mats)
    stats = compute_stats(scp, progress=False)
    frames = np.concatenate(list(mats.values())).astype(np.float64)
    assert stats["count"] == frames.shape[0]
    np.testing.assert_allclose(stats["mean"], frames.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(stats["std"], frames.std(axis=0), rtol=1e-10)
    save_stats(stats, tmp_path / "stats.npz")
    mean, std = load_stats(tmp_path / "stats.npz")
    assert mean.dtype == std.dtype == np.float32
    np.testing.assert_allclose(std, frames.std(axis=0), rtol=1e-6)
    normed = normalize(frames, mean, std)
    np.testing.assert_allclose(normed.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(denormalize(normed, mean, std), frames, atol=1e-5)


def test_std_is_floored_for_constant_dimensions(tmp_path):
    scp = write_feats_scp(tmp_path, {"a": np.ones((10, 3), np.float32), "b": np.ones((4, 3), np.float32)})
    stats = compute_stats(scp, progress=False)
    np.testing.assert_allclose(stats["std"], 1e-5)


def test_stats_errors_name_scp_line_and_utterance(tmp_path):
    scp = write_feats_scp(tmp_path, {"a": np.zeros((5, 3), np.float32), "b": np.zeros((5, 4), np.float32)})
    with pytest.raises(DataError, match=r"feats\.scp:2 \(utterance b\): feature dimension 4 differs"):
        compute_stats(scp, progress=False)
    bad = tmp_path / "bad.scp"
    first = Path(scp).read_text().splitlines()[0]
    bad.write_text(f"{first}\nz {tmp_path}/missing.ark:5\n")
    with pytest.raises(DataError, match=r"bad\.scp:2 \(utterance z\): cannot load features"):
        compute_stats(bad, progress=False)
    with pytest.raises(DataError, match=r"nothere\.npz: statistics file not found"):
        load_stats(tmp_path / "nothere.npz")

"""Spectral-contrast postfilter (tts/postfilter.py): identity, what it keeps and sharpens, errors,
and that decoding applies the conf's postfilter to what it writes."""

import math

import kaldiio
import numpy as np
import pytest
import torch

from pytorch_backend.config import TTS_SCHEMA, check_keys
from pytorch_backend.errors import ConfigError
from pytorch_backend.tts.inference import decode
from pytorch_backend.tts.postfilter import apply_postfilter, spectral_contrast
from pytorch_backend.tts.training import train_tts
from tts_fixtures import make_corpus, tiny_conf

torch.set_num_threads(1)


def _harmonic_logmel(frames=20, bands=40, depth=1.0):
    """Peaks every 4 bands on a sloping envelope (a crude harmonic spectrum), log scale."""
    k = np.arange(bands)
    frame = -3.0 - 0.05 * k + depth * np.cos(2 * np.pi * k / 4)
    return np.tile(frame, (frames, 1)).astype(np.float32)


def test_strength_one_is_the_identity_and_a_copy():
    mel = _harmonic_logmel()
    out = spectral_contrast(mel, 1.0, 5)
    assert np.array_equal(out, mel) and out is not mel
    assert apply_postfilter(mel, {}) is mel
    assert apply_postfilter(mel, {"postfilter": None}) is mel


def test_contrast_grows_by_the_strength_and_the_local_mean_is_kept():
    flat = _harmonic_logmel(depth=0.5)
    out = spectral_contrast(flat, 2.0, 5)
    assert out.dtype == flat.dtype and out.shape == flat.shape
    k = np.arange(40)[4:36]  # away from the edge bands
    cosine = np.cos(2 * np.pi * k / 4)
    amp = lambda m: float(np.dot(m[0, 4:36], cosine) / np.dot(cosine, cosine))  # noqa: E731
    # the harmonic ripple grows by about the strength (the 5-band average keeps a fifth of it)
    assert 1.6 < amp(out) / amp(flat) < 2.2
    # the envelope's slope (linear across bands, which the moving average keeps) does not move
    slope = lambda m: float(np.polyfit(k, m[0, 4:36] - amp(m) * cosine, 1)[0])  # noqa: E731
    assert slope(out) == pytest.approx(slope(flat), abs=1e-3)
    # a frame without contrast (a flat spectrum) is left exactly as it was
    const = np.full((3, 40), -5.0, dtype=np.float32)
    assert np.allclose(spectral_contrast(const, 3.0, 5), const)


def test_output_is_floored_at_the_log_floor():
    mel = np.full((2, 20), math.log(1e-5), dtype=np.float32)
    mel[:, 10] = 0.0  # one strong peak next to silence
    out = spectral_contrast(mel, 3.0, 5, log_floor=1e-5)
    assert out.min() >= math.log(1e-5) - 1e-6
    assert out[0, 10] > 0.0


def test_bad_settings_are_errors():
    mel = _harmonic_logmel()
    with pytest.raises(ValueError, match="strength"):
        spectral_contrast(mel, -1.0)
    with pytest.raises(ValueError, match="odd"):
        spectral_contrast(mel, 1.5, 4)
    with pytest.raises(ValueError, match="frames x bands"):
        spectral_contrast(mel[0], 1.5)


def test_schema_knows_the_postfilter_keys():
    check_keys({"decode": {"postfilter": {"strength": 1.5, "width": 5}}}, TTS_SCHEMA, "conf/tts/gst.yaml")
    with pytest.raises(ConfigError, match="decode.postfilter.strenght"):
        check_keys({"decode": {"postfilter": {"strenght": 1.5}}}, TTS_SCHEMA, "conf/tts/gst.yaml")


def test_decode_writes_postfiltered_mels(tmp_path):
    corpus = make_corpus(tmp_path / "c")
    conf = tiny_conf("tacotron2")
    train_tts(conf, corpus["data_root"], corpus["tokens"], corpus["dump"], tmp_path / "train", threads=1,
              source="conf/tts/tacotron2.yaml")
    outs = {}
    for name, strength in (("plain", 1.0), ("sharp", 1.8)):
        c = tiny_conf("tacotron2")
        c["tts"]["decode"]["postfilter"] = {"strength": strength, "width": 5}
        decode(c, tmp_path / "train", corpus["data_root"], "eval", corpus["tokens"], corpus["dump"],
               tmp_path / name, progress=False)
        outs[name] = {k: np.asarray(v) for k, v in kaldiio.load_scp(str(tmp_path / name / "feats.scp")).items()}
    assert list(outs["plain"]) == list(outs["sharp"])
    for utt, plain in outs["plain"].items():
        expected = spectral_contrast(plain, 1.8, 5)
        np.testing.assert_allclose(outs["sharp"][utt], expected, atol=1e-5)
        assert not np.allclose(outs["sharp"][utt], plain)

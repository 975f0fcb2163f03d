"""The vocoder registry, Griffin-Lim and steps/vocode.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from feats_fixtures import FS, vowel

from pytorch_backend.config import FEATS_SCHEMA, defaults_of
from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.feats import LogMelExtractor
from pytorch_backend.vocoders import VOCODERS, GriffinLim, build_vocoder
from pytorch_backend.vocoders.synth import check_utt_filename, load_feats_scp
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent
FEATS = dict(defaults_of(FEATS_SCHEMA), trim_silence=False)
EXTRACTOR = LogMelExtractor.from_conf(FEATS)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def espeak_speech() -> np.ndarray:
    from pytorch_backend.espeak import synthesize  # the eSpeak binding of this repo

    audio, fs = synthesize("Griffin and Lim rebuild the phase of speech.")
    assert fs == FS
    return audio.astype(np.float32) / 32768.0


def spectral_convergence(voc: GriffinLim, wav: np.ndarray, logmel: np.ndarray) -> float:
    """||target - |STFT(wav)||| / ||target|| with target the magnitude Griffin-Lim aims at."""
    target = voc.mel_to_magnitude(logmel)
    got = EXTRACTOR.magnitude(wav).T[:, :target.shape[1]]
    return float(torch.linalg.norm(got - target) / torch.linalg.norm(target))


def logmel_distance(wav: np.ndarray, logmel: np.ndarray) -> float:
    return float(np.sqrt(np.mean((EXTRACTOR.logmel(wav)[:len(logmel)] - logmel) ** 2)))


@pytest.fixture(scope="module")
def signals():
    return {"vowel": EXTRACTOR.logmel(vowel(1.2, f0=130.0)), "espeak": EXTRACTOR.logmel(espeak_speech())}


# -- registry ----------------------------------------------------------------------------
def test_registry_and_conf_file_build_griffin_lim():
    conf = yaml.safe_load((REPO / "conf" / "vocoder" / "griffin_lim.yaml").read_text())
    assert conf["name"] == "griffin_lim" and VOCODERS["griffin_lim"] is GriffinLim
    voc = build_vocoder(conf["name"], conf["conf"], FEATS)
    assert (voc.n_iter, voc.momentum, voc.inverse, voc.power, voc.batch_size) == (32, 0.99, "pinv", 1.0, 4)
    assert voc.fs == 22050


def test_registry_errors_name_file_and_key():
    with pytest.raises(ConfigError, match=r"conf/vocoder/diffwave\.yaml: key 'name': unknown vocoder 'diffwave'"):
        build_vocoder("diffwave", {}, FEATS)
    with pytest.raises(ConfigError, match=r"my\.yaml: key 'conf\.n_iters': unknown keyword"):
        build_vocoder("griffin_lim", {"n_iters": 3}, FEATS, source="my.yaml")
    with pytest.raises(ConfigError, match=r"griffin_lim\.yaml: key 'conf\.inverse': must be 'pinv' or 'nnls'"):
        build_vocoder("griffin_lim", {"inverse": "lstsq"}, FEATS)
    with pytest.raises(ConfigError, match=r"key 'conf\.batch_size'"):
        build_vocoder("griffin_lim", {"batch_size": 0}, FEATS)


# -- Griffin-Lim quality -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["vowel", "espeak"])
def test_more_iterations_and_momentum_converge_further(signals, name):
    logmel = signals[name]
    sc, dist = {}, {}
    for n_iter, momentum in [(2, 0.99), (8, 0.99), (32, 0.99), (32, 0.0)]:
        voc = GriffinLim(FEATS, n_iter=n_iter, momentum=momentum)
        wav = voc([logmel])[0]
        sc[n_iter, momentum] = spectral_convergence(voc, wav, logmel)
        dist[n_iter, momentum] = logmel_distance(wav, logmel)
    assert sc[2, 0.99] > sc[8, 0.99] > sc[32, 0.99]
    assert sc[32, 0.99] < 0.9 * sc[32, 0.0]
    assert sc[32, 0.99] < 0.3
    assert dist[2, 0.99] > dist[32, 0.99]
    assert dist[32, 0.0] > dist[32, 0.99]


def test_nnls_fits_the_mel_spectrogram_better_than_pinv(signals):
    logmel = signals["espeak"]
    mel = torch.exp(torch.from_numpy(logmel)).T
    errors = {}
    for inverse in ("pinv", "nnls"):
        voc = GriffinLim(FEATS, inverse=inverse, nnls_iter=100)
        mag = voc.mel_to_magnitude(logmel)
        assert mag.shape == (513, len(logmel)) and float(mag.min()) >= 0.0
        errors[inverse] = float(torch.linalg.norm(voc.mel_basis @ mag - mel) / torch.linalg.norm(mel))
    assert errors["nnls"] < 0.8 * errors["pinv"]


def test_batched_equals_one_at_a_time_and_is_deterministic():
    mels = [EXTRACTOR.logmel(vowel(s, f0=f, seed=i)) for i, (s, f) in enumerate([(0.9, 120), (0.4, 180), (1.3, 95)])]
    batched = GriffinLim(FEATS, n_iter=16, batch_size=16)(mels)
    single = GriffinLim(FEATS, n_iter=16, batch_size=1)(mels)
    again = GriffinLim(FEATS, n_iter=16, batch_size=2)(mels)
    for mel, b, s, a in zip(mels, batched, single, again):
        assert b.dtype == np.float32 and len(b) == len(mel) * 256
        assert np.abs(b - s).max() < 1e-3 * np.abs(s).max()
        assert np.abs(b - a).max() < 1e-3 * np.abs(s).max()
    np.testing.assert_array_equal(GriffinLim(FEATS, n_iter=16)(mels)[0], batched[0])


def test_loud_output_is_scaled_below_clipping():
    logmel = EXTRACTOR.logmel(vowel(0.5)) + 3.0  # ~20x louder than full scale
    wav = GriffinLim(FEATS, n_iter=4)([logmel])[0]
    assert np.isclose(np.abs(wav).max(), 0.95, atol=1e-4)
    quiet = GriffinLim(FEATS, n_iter=4)([EXTRACTOR.logmel(0.1 * vowel(0.5))])[0]
    assert np.abs(quiet).max() < 0.9


def test_wrong_feature_width_is_refused():
    with pytest.raises(ValueError, match="frames x 80"):
        GriffinLim(FEATS, n_iter=1)([np.zeros((10, 40), np.float32)])


# -- steps/vocode.py -----------------------------------------------------------------------
def write_scp(tmp_path, mats: dict) -> Path:
    scp = tmp_path / "feats.scp"
    kaldiio.save_ark(str(tmp_path / "feats.ark"), mats, scp=str(scp))
    return scp


def run_vocode(conf: dict, scp, out, cwd) -> subprocess.CompletedProcess:
    return run_in_group([sys.executable, str(REPO / "steps" / "vocode.py"), "--conf", json.dumps(conf),
                           "--feats-scp", str(scp), "--out", str(out)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_vocode_cli_writes_wavs_scp_and_report(tmp_path):
    mats = {f"spk_{i}": EXTRACTOR.logmel(vowel(0.3 + 0.2 * i, seed=i)) for i in range(3)}
    scp = write_scp(tmp_path, mats)
    out = tmp_path / "synth" / "griffin_lim" / "eval"
    conf = {"vocoder": {"name": "griffin_lim", "conf": {"n_iter": 4, "batch_size": 2}}, "feats": FEATS}
    proc = run_vocode(conf, scp, out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = (out / "wav.scp").read_text().splitlines()
    assert [line.split()[0] for line in lines] == sorted(mats)
    for line in lines:
        utt, path = line.split()
        assert Path(path).is_absolute() and Path(path) == out.resolve() / "wav" / f"{utt}.wav"
        info = sf.info(path)
        assert info.samplerate == 22050 and info.subtype == "PCM_16" and info.channels == 1
        assert info.frames == len(mats[utt]) * 256
    report = json.loads((out / "vocode.json").read_text())
    assert report["num_utts"] == 3
    assert np.isclose(report["audio_seconds"], sum(len(m) for m in mats.values()) * 256 / 22050, atol=1e-3)
    assert report["rtf"] > 0 and report["wall_seconds"] > 0
    assert not (out / ".wav.partial").exists()

    # A failing run (bad config) leaves the complete output as it was.
    before = (out / "wav.scp").read_bytes()
    bad = {"vocoder": {"name": "griffin_lim", "conf": {"iters": 4}}, "feats": FEATS}
    proc = run_vocode(bad, scp, out, cwd=tmp_path)
    assert proc.returncode == 1
    assert "conf/vocoder/griffin_lim.yaml: key 'conf.iters': unknown keyword" in proc.stderr
    assert (out / "wav.scp").read_bytes() == before and len(list((out / "wav").iterdir())) == 3


def test_unsafe_utterance_ids_are_refused(tmp_path):
    scp = write_scp(tmp_path, {"ok": EXTRACTOR.logmel(vowel(0.2)), "x..y": EXTRACTOR.logmel(vowel(0.2))})
    conf = {"vocoder": {"name": "griffin_lim", "conf": {"n_iter": 1}}, "feats": FEATS}
    proc = run_vocode(conf, scp, tmp_path / "out", cwd=tmp_path)
    assert proc.returncode == 1
    assert f"{scp}:2 (utterance x..y): utterance id is not usable as a file name" in proc.stderr
    assert not (tmp_path / "out" / "wav.scp").exists()
    for bad in ["../etc", "a/b", "..", "a\\b", ""]:
        with pytest.raises(DataError, match="not usable as a file name"):
            check_utt_filename(bad, "feats.scp", 1)
    assert check_utt_filename("spk1_happy-0001.v2", "feats.scp") == "spk1_happy-0001.v2"


def test_feature_width_other_than_n_mels_names_scp_and_utterance(tmp_path):
    scp = write_scp(tmp_path, {"a": np.zeros((5, 80), np.float32), "b": np.zeros((5, 40), np.float32)})
    with pytest.raises(DataError, match=r"feats\.scp:2 \(utterance b\): expected a frames x 80 log-mel"):
        load_feats_scp(scp, 80)

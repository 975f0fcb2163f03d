"""Decoding: determinism, GST mean-style and reference-wav styles, label models, the CLI."""

import json
import sys
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import torch

from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.tts.training import train_tts
from pytorch_backend.tts.inference import decode
from tts_fixtures import EMOTIONS, N_MELS, make_corpus, tiny_conf
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("dec")
    corpus = make_corpus(root)
    for model in ("gst", "tacotron2"):
        train_tts(tiny_conf(model), corpus["data_root"], corpus["tokens"], corpus["dump"],
                  root / model / "train", threads=1, source=f"conf/tts/{model}.yaml")
    return root, corpus


def run_decode(trained, model, out, **kw):
    root, c = trained
    return decode(tiny_conf(model), root / model / "train", c["data_root"], "eval", c["tokens"], c["dump"], out,
                  progress=False, **kw)


def read_scp(out):
    return {k: np.array(v) for k, v in kaldiio.load_scp(str(out / "feats.scp")).items()}


def test_gst_emotion_mean_decoding_is_deterministic(trained, tmp_path):
    first = run_decode(trained, "gst", tmp_path / "a")
    second = run_decode(trained, "gst", tmp_path / "b")
    a, b = read_scp(tmp_path / "a"), read_scp(tmp_path / "b")
    assert list(a) == list(b) and len(a) == 6
    for utt in a:
        assert np.array_equal(a[utt], b[utt])
        assert a[utt].shape[1] == N_MELS and a[utt].dtype == np.float32
    assert first["num_utts"] == 6
    assert first["controls"]["style"] == "emotion_mean" and first["controls"]["emotion"] == "utt2emo"
    assert first["train_utts_per_emotion"] == {e: 8 for e in EMOTIONS}
    frames = sum(m.shape[0] for m in a.values())
    assert first["audio_seconds"] == pytest.approx(frames * 64 / 8000, abs=1e-3)
    assert first["wall_seconds"] > 0 and second["audio_seconds"] == first["audio_seconds"]
    assert first["length_vs_real"]["num_compared"] == 6
    # raw (denormalized) log-mel scale, like the dump (fixture mels sit around -4)
    assert -8 < float(np.mean(np.concatenate(list(a.values())))) < 0
    # scp entries are absolute paths into the final ark
    line = (tmp_path / "a" / "feats.scp").read_text().splitlines()[0]
    assert line.split()[1].startswith(str((tmp_path / "a" / "feats.ark").resolve()) + ":")
    plots = sorted(p.name for p in (tmp_path / "a" / "plots").iterdir())
    assert len(plots) == 4 and any(p.endswith("_attention.png") for p in plots)
    info = json.loads((tmp_path / "a" / "decode.json").read_text())
    assert info["num_utts"] == 6 and "rtf" in info


def test_gst_styles_differ_by_emotion(trained, tmp_path):
    from pytorch_backend.tts.loading import load_split, load_trained
    from pytorch_backend.tts.styles import emotion_mean_styles

    root, c = trained
    model, meta = load_trained(root / "gst" / "train")
    train = load_split(c["data_root"], c["tokens"], c["dump"], "train", meta["tokens"], meta["speakers"],
                       meta["emotions"])
    styles, counts = emotion_mean_styles(model, train, len(EMOTIONS), progress=False)
    assert styles.shape == (3, 8) and counts == [8, 8, 8]
    assert not torch.allclose(styles[0], styles[1])


def test_gst_reference_wav_decoding(trained, tmp_path):
    root, c = trained
    info = run_decode(trained, "gst", tmp_path / "ref", reference_wav=c["ref_wav"])
    assert info["controls"]["reference_wav"] == str(c["ref_wav"])
    assert "train_utts_per_emotion" not in info  # no emotion means needed
    assert len(read_scp(tmp_path / "ref")) == 6


def test_reference_style_from_conf(trained, tmp_path):
    root, c = trained
    conf = tiny_conf("gst")
    conf["tts"]["decode"]["reference_wav"] = str(c["ref_wav"])
    info = decode(conf, root / "gst" / "train", c["data_root"], "eval", c["tokens"], c["dump"], tmp_path / "o",
                  progress=False)
    assert info["controls"]["reference_wav"] == str(c["ref_wav"])


def test_reference_mode_without_wav_is_config_error(trained, tmp_path):
    root, c = trained
    conf = tiny_conf("gst")
    conf["tts"]["decode"]["style"] = "reference"
    with pytest.raises(ConfigError) as err:
        decode(conf, root / "gst" / "train", c["data_root"], "eval", c["tokens"], c["dump"], tmp_path / "o",
               source="conf/tts/gst.yaml", progress=False)
    assert err.value.key == "decode.reference_wav" and "conf/tts/gst.yaml" in str(err.value)
    conf["tts"]["decode"]["style"] = "mood9"
    with pytest.raises(ConfigError) as err:
        decode(conf, root / "gst" / "train", c["data_root"], "eval", c["tokens"], c["dump"], tmp_path / "o",
               progress=False)
    assert err.value.key == "decode.style"
    assert not (tmp_path / "o" / "feats.scp").exists()


def test_tacotron2_uses_emotion_labels(trained, tmp_path):
    info = run_decode(trained, "tacotron2", tmp_path / "t2")
    assert info["controls"]["emotion"] == "utt2emo" and info["num_utts"] == 6
    assert "train_utts_per_emotion" not in info


def test_missing_model_names_best_pt(trained, tmp_path):
    _, c = trained
    with pytest.raises(DataError) as err:
        decode(tiny_conf("gst"), tmp_path / "nowhere", c["data_root"], "eval", c["tokens"], c["dump"],
               tmp_path / "o", progress=False)
    assert "best.pt" in str(err.value)


def test_decode_cli_from_another_directory(trained, tmp_path):
    root, c = trained
    out = tmp_path / "cli"
    proc = run_in_group([sys.executable, str(REPO / "steps" / "decode.py"), "--conf", json.dumps(tiny_conf("gst")),
                           "--model-dir", str(root / "gst" / "train"), "--data-root", str(c["data_root"]),
                           "--split", "dev", "--tokens", str(c["tokens"]), "--dump", str(c["dump"]),
                           "--out", str(out), "--threads", "1", "--log", str(tmp_path / "log" / "decode.log")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(read_scp(out)) == 6
    assert json.loads((out / "decode.json").read_text())["num_utts"] == 6
    assert "decode" in (tmp_path / "log" / "decode.log").read_text()

"""Emotion backends (vae, emo_dnn, emo_cvae) and the inference controls of every backend:
label, intensity, mixture, reference wav, GST token weights, CVAE prior; unsupported requests
fail with a ConfigError naming the key."""

import json
import sys
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import torch

from pytorch_backend.errors import ConfigError
from pytorch_backend.tts.training import train_tts
from pytorch_backend.tts.controls import (Conditioner, check_supported, controls_from_conf, parse_mix,
                                          parse_weights, soft_label)
from pytorch_backend.tts.inference import decode
from pytorch_backend.tts.layers.latent import kl_per_dim, kl_weight_at, kl_with_floor
from prosody_fixtures import add_prosody, tiny_fs2_conf
from tts_fixtures import EMOTIONS, make_corpus, tiny_conf
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent
BACKENDS = ["tacotron2", "gst", "vae", "emo_dnn", "emo_cvae", "fastspeech2"]


def conf_of(model, **train):
    return tiny_fs2_conf(**train) if model == "fastspeech2" else tiny_conf(model, **train)
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("controls")
    corpus = add_prosody(make_corpus(root))
    for model in BACKENDS:
        train_tts(conf_of(model, max_steps=6, eval_interval=3, save_interval=3), corpus["data_root"],
                  corpus["tokens"], corpus["dump"], root / model / "train", threads=1,
                  source=f"conf/tts/{model}.yaml")
    return root, corpus


def run(trained, model, out, conf_decode=None, **kw):
    root, c = trained
    conf = conf_of(model)
    conf["tts"]["decode"].update(conf_decode or {})
    return decode(conf, root / model / "train", c["data_root"], "eval", c["tokens"], c["dump"], out,
                  progress=False, source=f"conf/tts/{model}.yaml", **kw)


def arks(out) -> dict:
    return {k: np.array(v) for k, v in kaldiio.load_scp(str(Path(out) / "feats.scp")).items()}


def utt2emo(out) -> dict:
    return dict(line.split() for line in (Path(out) / "utt2emo").read_text().splitlines())


# -- pure functions -----------------------------------------------------------------------------
def test_soft_labels_for_intensity_and_mix():
    c = controls_from_conf({"intensity": 0.25}, EMOTIONS)
    assert soft_label(2, c, EMOTIONS).tolist() == [0.75, 0.0, 0.25]
    c = controls_from_conf({"emotion": "happy", "intensity": 0.5}, EMOTIONS)
    assert soft_label(2, c, EMOTIONS).tolist() == [0.5, 0.5, 0.0]
    c = controls_from_conf({"mix": {"happy": 0.7, "sad": 0.3}}, EMOTIONS)
    assert soft_label(0, c, EMOTIONS).tolist() == pytest.approx([0.0, 0.7, 0.3])
    assert c.requested == ["mix"]
    assert parse_mix("happy=0.7,sad=0.3") == {"happy": 0.7, "sad": 0.3}
    assert parse_weights("1,0;0,1") == [[1.0, 0.0], [0.0, 1.0]] and parse_weights("0.5,2") == [0.5, 2.0]


@pytest.mark.parametrize("dconf,key", [
    ({"emotion": "furious"}, "decode.emotion"),
    ({"intensity": 1.5}, "decode.intensity"),
    ({"intensity": 0.5, "neutral": "calm"}, "decode.neutral"),
    ({"mix": {"happy": 0.5}}, "decode.mix"),
    ({"mix": {"happy": 0.5, "joy": 0.5}}, "decode.mix.joy"),
    ({"mix": {"happy": 0.6, "sad": 0.6}}, "decode.mix"),
    ({"mix": {"happy": 0.5, "sad": 0.5}, "emotion": "sad"}, "decode.mix"),
    ({"style": "median"}, "decode.style"),
])
def test_bad_control_values_name_the_key(dconf, key):
    with pytest.raises(ConfigError) as err:
        controls_from_conf(dconf, EMOTIONS, "conf/tts/x.yaml")
    assert err.value.key == key and "conf/tts/x.yaml" in str(err.value)


def test_kl_floor_and_schedule():
    mu, logvar = torch.zeros(4, 3), torch.zeros(4, 3)
    mu[:, 0] = 2.0  # dim 0: KL = 0.5 * 4 = 2 nats; dims 1, 2: 0 nats
    assert kl_per_dim(mu, logvar).tolist() == [2.0, 0.0, 0.0]
    floored, raw = kl_with_floor(mu, logvar, floor=0.25)
    assert raw.item() == 2.0 and floored.item() == 2.5
    prior = torch.zeros(4, 3)
    prior[:, 0] = 2.0
    assert kl_with_floor(mu, logvar, prior)[1].item() == 0.0
    assert [kl_weight_at(s, 0.1, 100, 200) for s in (0, 100, 200, 300, 900)] == pytest.approx([0, 0, 0.05, 0.1, 0.1])
    assert kl_weight_at(200, 0.1, 100, 200, "logistic") == pytest.approx(0.05)
    assert kl_weight_at(50, 0.1, 100, 0, "constant") == 0.0 and kl_weight_at(100, 0.1, 100, 0, "constant") == 0.1
    with pytest.raises(ValueError, match="kl_anneal"):
        kl_weight_at(0, 0.1, 0, 10, "cosine")


def test_cvae_prior_has_one_block_per_emotion():
    from test_tts_models import tiny

    model = tiny("emo_cvae")
    assert model.latent_dim == 2 * 3
    z = model.prior_latent(torch.tensor([0.0, 0.25, 0.75]))
    blocks = z.view(3, 2)
    assert torch.allclose(blocks[0], torch.zeros(2))
    assert torch.allclose(blocks[1], 0.25 * model.prior_means[1])
    assert torch.allclose(blocks[2], 0.75 * model.prior_means[2])


@pytest.mark.parametrize("target,combine", [("attention", "concat"), ("attention", "add"),
                                            ("decoder", "concat"), ("decoder", "add")])
def test_emo_dnn_integration_points(target, combine):
    from test_tts_models import padded_batch, tiny

    model = tiny("emo_dnn", prosody_target=target, prosody_combine=combine)
    b = padded_batch()
    out = model.forward_batch(b)
    model.compute_loss(out, b)["loss"].backward()
    assert model.emotion_table.weight.grad.abs().sum() > 0  # the label path is trained
    model.eval()
    torch.manual_seed(0)
    a = model.inference(b["tokens"][0], speaker=0, emotion=1, threshold=1.0, maxlenratio=2.0)["mel"]
    torch.manual_seed(0)
    soft = model.inference(b["tokens"][0], speaker=0, emotion_weights=torch.tensor([0.0, 1.0, 0.0]),
                           threshold=1.0, maxlenratio=2.0)["mel"]
    torch.manual_seed(0)
    other = model.inference(b["tokens"][0], speaker=0, emotion=2, threshold=1.0, maxlenratio=2.0)["mel"]
    assert torch.equal(a, soft) and not torch.allclose(a, other)
    with pytest.raises(ConfigError) as err:
        tiny("emo_dnn", prosody_target="postnet")
    assert "prosody_target" in str(err.value) and "conf/tts/x.yaml" in str(err.value)


# -- decoding with controls, every backend -------------------------------------------------------
@pytest.mark.parametrize("model", BACKENDS)
def test_intensity_zero_is_neutral_and_full_mix_is_the_label(trained, tmp_path, model):
    neutral = arks(run(trained, model, tmp_path / "n", {"emotion": "neutral"}) and tmp_path / "n")
    zero = run(trained, model, tmp_path / "z", {"emotion": "happy", "intensity": 0.0})
    half = run(trained, model, tmp_path / "h", {"emotion": "happy", "intensity": 0.5})
    full = arks(run(trained, model, tmp_path / "f", {"emotion": "happy"}) and tmp_path / "f")
    mix = arks(run(trained, model, tmp_path / "m", {"mix": {"happy": 1.0, "sad": 0.0}}) and tmp_path / "m")
    z, h = arks(tmp_path / "z"), arks(tmp_path / "h")
    for utt in neutral:
        assert np.array_equal(neutral[utt], z[utt])  # intensity 0 = the neutral label
        assert np.array_equal(full[utt], mix[utt])  # a mix of weight 1 = the label
    assert any(h[u].shape != full[u].shape or not np.allclose(h[u], full[u]) for u in h)
    assert zero["controls"]["intensity"] == 0.0 and half["controls"]["emotion"] == "happy"
    assert set(utt2emo(tmp_path / "z").values()) == {"neutral"}
    assert set(utt2emo(tmp_path / "h").values()) == {"happy"}
    assert set(utt2emo(tmp_path / "m").values()) == {"happy"}


@pytest.mark.parametrize("model", ["gst", "vae", "emo_cvae"])
def test_reference_wav_for_latent_models(trained, tmp_path, model):
    _, c = trained
    info = run(trained, model, tmp_path / "r", reference_wav=c["ref_wav"])
    assert info["controls"]["reference_wav"] == str(c["ref_wav"]) and len(arks(tmp_path / "r")) == 6
    # intensity scales a reference style from the neutral mean: 0 gives the neutral mean style
    run(trained, model, tmp_path / "r0", {"intensity": 0.0, "reference_wav": str(c["ref_wav"])})
    run(trained, model, tmp_path / "n", {"emotion": "neutral"})
    r0, n = arks(tmp_path / "r0"), arks(tmp_path / "n")
    assert all(np.array_equal(r0[u], n[u]) for u in n)


@pytest.mark.parametrize("model", ["tacotron2", "emo_dnn", "fastspeech2"])
def test_label_models_refuse_a_reference_wav(trained, tmp_path, model):
    _, c = trained
    with pytest.raises(ConfigError) as err:
        run(trained, model, tmp_path / "x", reference_wav=c["ref_wav"])
    assert err.value.key == "decode.reference_wav" and f"'{model}'" in str(err.value)
    assert f"conf/tts/{model}.yaml" in str(err.value)
    assert not (tmp_path / "x" / "feats.scp").exists()


def test_gst_token_weights(trained, tmp_path):
    one_hot = [0.0] * 4
    one_hot[1] = 1.0
    info = run(trained, "gst", tmp_path / "w", {"gst_weights": one_hot})
    assert info["controls"]["gst_weights"] == one_hot
    run(trained, "gst", tmp_path / "w2", {"gst_weights": [[0.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]})
    a, b = arks(tmp_path / "w"), arks(tmp_path / "w2")
    assert all(np.array_equal(a[u], b[u]) for u in a)  # one list = the same weights for every head
    with pytest.raises(ConfigError) as err:
        run(trained, "gst", tmp_path / "bad", {"gst_weights": [1.0, 0.0]})
    assert err.value.key == "decode.gst_weights" and "shape" in str(err.value)
    for model in ("vae", "emo_cvae", "emo_dnn", "tacotron2", "fastspeech2"):
        with pytest.raises(ConfigError) as err:
            run(trained, model, tmp_path / "bad", {"gst_weights": one_hot})
        assert err.value.key == "decode.gst_weights"


def test_cvae_prior_style_and_conditioner_means(trained, tmp_path):
    info = run(trained, "emo_cvae", tmp_path / "p", {"style": "prior"})
    assert "train_utts_per_emotion" not in info and info["controls"]["style"] == "prior"
    with pytest.raises(ConfigError) as err:
        run(trained, "vae", tmp_path / "bad", {"style": "prior"})
    assert err.value.key == "decode.style"
    # a latent model's label style is the soft-label-weighted mean of the emotion means
    from pytorch_backend.tts.loading import load_trained

    root, _ = trained
    model, meta = load_trained(root / "vae" / "train")
    means = torch.randn(3, model.style_dim)
    cond = Conditioner(model, controls_from_conf({"intensity": 0.5}, EMOTIONS), EMOTIONS, means)
    got = cond(2)
    assert got["emotion_weights"] is None
    assert torch.allclose(got["style"], 0.5 * means[0] + 0.5 * means[2])
    check_supported(model, "vae", controls_from_conf({"mix": {"sad": 0.5, "happy": 0.5}}, EMOTIONS))


def test_decode_cli_controls(trained, tmp_path):
    root, c = trained
    conf = tiny_conf("emo_dnn")
    out = tmp_path / "cli"
    cmd = [sys.executable, "-m", "steps.decode", "--conf", json.dumps(conf), "--model-dir",
           str(root / "emo_dnn" / "train"), "--data-root", str(c["data_root"]), "--tokens", str(c["tokens"]),
           "--dump", str(c["dump"]), "--split", "eval", "--out", str(out), "--mix", "happy=0.25,sad=0.75",
           "--intensity", "0.8"]
    utts = sorted(utt2emo_path.split()[0] for utt2emo_path in
                  (Path(c["data_root"]) / "eval" / "utt2emo").read_text().splitlines())[:2]
    proc = run_in_group(cmd + ["--utts", ",".join(utts)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    info = json.loads((out / "decode.json").read_text())
    assert info["num_utts"] == 2 and info["controls"]["mix"] == {"happy": 0.25, "sad": 0.75}
    assert info["controls"]["intensity"] == 0.8 and set(utt2emo(out).values()) == {"sad"}
    bad = run_in_group(cmd[:-4] + ["--reference-wav", str(c["ref_wav"])], capture_output=True, text=True,
                         cwd=REPO)
    assert bad.returncode == 1 and "decode.reference_wav" in bad.stderr and "emo_dnn" in bad.stderr

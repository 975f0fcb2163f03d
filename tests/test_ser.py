"""The speech-emotion classifier: registry, masking, metrics, training end to end, resuming
after a kill, errors."""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.ser import CLASSIFIERS, build_classifier
from pytorch_backend.ser.data import BatchSampler, load_labelled_set, random_crops
from pytorch_backend.ser.infer import EmotionPredictor
from pytorch_backend.ser.metrics import classification_report, confusion_matrix
from pytorch_backend.ser.train import train_ser
from tests.ser_fixtures import EMOTIONS, SER_CONF, ser_step_conf, tiny_setup
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    torch.set_num_threads(1)
    return tiny_setup(tmp_path_factory.mktemp("ser"))


def test_registry_and_bad_keyword_names_the_conf_key():
    assert "cnn_pool" in CLASSIFIERS
    model = build_classifier("cnn_pool", {"channels": 16}, num_classes=4, n_mels=80)
    assert model.head[-1].out_features == 4
    with pytest.raises(ConfigError, match=r"conf/eval\.yaml: key 'ser\.model_conf\.chanels'"):
        build_classifier("cnn_pool", {"chanels": 16}, 4, 80, source="conf/eval.yaml")
    with pytest.raises(ConfigError, match=r"my\.yaml: key 'ser\.model'.*unknown classifier 'resnet'"):
        build_classifier("resnet", {}, 4, 80, source="my.yaml")
    with pytest.raises(ConfigError, match=r"key 'ser\.model_conf'.*kernel_size must be odd"):
        build_classifier("cnn_pool", {"kernel_size": 4}, 4, 80)


def test_padding_does_not_change_the_prediction():
    torch.manual_seed(0)
    model = build_classifier("cnn_pool", {"channels": 16, "hidden": 32}, 3, 20).eval()
    x = torch.randn(1, 37, 20)
    alone = model(x, torch.tensor([37]))
    padded = torch.cat([x, 5.0 * torch.randn(1, 23, 20)], dim=1)
    batch = model(torch.cat([padded, torch.randn(1, 60, 20)]), torch.tensor([37, 60]))
    torch.testing.assert_close(batch[0], alone[0], atol=1e-5, rtol=1e-5)


def test_confusion_and_report():
    counts = confusion_matrix([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 0, 2], 4)
    assert counts.tolist() == [[1, 1, 0, 0], [1, 2, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    rep = classification_report([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 0, 2], ["a", "b", "c", "d"])
    assert rep["accuracy"] == pytest.approx(4 / 6)
    assert rep["per_class_recall"] == {"a": 0.5, "b": pytest.approx(2 / 3), "c": 1.0, "d": None}
    assert rep["num_utts"] == 6


def test_crops_and_sampler():
    rng = np.random.default_rng(0)
    feats = [np.arange(100)[:, None].astype(np.float32), np.zeros((30, 1), np.float32)]
    long_crop, short = random_crops(feats, 40, rng)
    assert long_crop.shape == (40, 1) and short.shape == (30, 1)
    assert np.all(np.diff(long_crop[:, 0]) == 1)  # a contiguous window
    sampler = BatchSampler(10, 4, rng)
    first_epoch = np.concatenate([sampler.next(), sampler.next()])
    assert len(set(first_epoch.tolist())) == 8  # no repeats inside an epoch


def test_training_reaches_high_accuracy_and_writes_outputs(trained):
    out = trained["ser"]
    for name in ("model.pt", "ser.json", "confusion_real_eval.png", "curves.png", "done"):
        assert (out / name).is_file(), name
    assert (out / "done").stat().st_mtime_ns >= (out / "ser.json").stat().st_mtime_ns
    result = json.loads((out / "ser.json").read_text())
    assert result["accuracy"] >= 0.9
    assert result["num_utts"] == 4 * 5
    assert result["labels"] == EMOTIONS
    assert np.asarray(result["confusion"]).sum() == 20
    assert set(result["per_class_recall"]) == set(EMOTIONS)
    assert result["train_seconds"] > 0 and result["best_step"] in (20, 40, 60)
    assert [h["step"] for h in result["history"]] == [20, 40, 60]
    ckpt = torch.load(out / "model.pt", map_location="cpu", weights_only=True)
    assert {"model_state", "model_name", "model_conf", "emotions", "n_mels", "step"} <= set(ckpt)
    assert ckpt["model_name"] == "cnn_pool" and ckpt["emotions"] == EMOTIONS and ckpt["n_mels"] == 80
    assert ckpt["model_conf"] == SER_CONF["model_conf"] and ckpt["step"] == result["best_step"]


def test_predictor_reproduces_the_eval_accuracy(trained):
    from pytorch_backend.feats.stats import load_stats

    mean, std = load_stats(trained["dump"] / "stats.npz")
    data = load_labelled_set(trained["dump"] / "eval/feats.scp", trained["data"] / "eval/utt2emo",
                             EMOTIONS, mean, std)
    pred = EmotionPredictor.load(trained["ser"] / "model.pt")
    # batch size 3 pads utterances of different lengths together
    acc = float(np.mean(pred.predict(data.feats, batch_size=3) == data.labels))
    assert acc == json.loads((trained["ser"] / "ser.json").read_text())["accuracy"]


def test_training_is_seeded(trained, tmp_path):
    conf = ser_step_conf({**SER_CONF, "train": {**SER_CONF["train"], "max_steps": 20}})
    a = train_ser(conf, trained["data"], trained["dump"], tmp_path / "a", progress=False)
    b = train_ser(conf, trained["data"], trained["dump"], tmp_path / "b", progress=False)
    assert a["history"] == b["history"]


def test_unknown_emotion_label_names_file_and_line(trained, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(trained["data"], data)
    lines = (data / "dev/utt2emo").read_text().splitlines()
    utt = lines[2].split()[0]
    lines[2] = f"{utt} bored"
    (data / "dev/utt2emo").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=rf"dev/utt2emo:3 \(utterance {utt}\): emotion 'bored'"):
        train_ser(ser_step_conf(), data, trained["dump"], tmp_path / "out", progress=False)
    assert not (tmp_path / "out" / "done").exists()


def test_cli_utterance_without_features_is_an_error(trained, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(trained["data"], data)
    with open(data / "train/utt2emo", "a") as fh:
        fh.write("spk1-train-zzz-999 happy\n")
    out = tmp_path / "out"
    cmd = [sys.executable, str(REPO / "steps/train_ser.py"), "--conf", json.dumps(ser_step_conf()),
           "--data-root", str(data), "--dump", str(trained["dump"]), "--out", str(out)]
    proc = run_in_group(cmd, capture_output=True, text=True, cwd="/")
    assert proc.returncode == 1
    assert "train/feats.scp (utterance spk1-train-zzz-999): no features" in proc.stderr
    assert "utt2emo" in proc.stderr
    assert not (out / "done").exists()


def test_cli_bad_model_keyword(trained, tmp_path):
    conf = ser_step_conf({**SER_CONF, "model_conf": {"layers": 3}})
    cmd = [sys.executable, str(REPO / "steps/train_ser.py"), "--conf", json.dumps(conf),
           "--data-root", str(trained["data"]), "--dump", str(trained["dump"]), "--out", str(tmp_path / "o")]
    proc = run_in_group(cmd, capture_output=True, text=True, cwd="/")
    assert proc.returncode == 1
    assert "conf/eval.yaml: key 'ser.model_conf.layers'" in proc.stderr


def test_killed_training_resumes_from_its_checkpoint_and_ends_like_an_uninterrupted_run(trained, tmp_path):
    """SIGKILL the training CLI after a random checkpoint; the re-run resumes from the newest
    checkpoint and its history, weights and eval scores equal the uninterrupted run's exactly."""
    from pytorch_backend.train import checkpoints as ckpt

    conf = ser_step_conf({**SER_CONF, "train": {**SER_CONF["train"], "save_interval": 10, "keep_checkpoints": 2}})
    kill_after = random.Random().choice([10, 20, 30, 40, 50])
    out = tmp_path / "ser"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "steps.train_ser", "--conf", json.dumps(conf), "--data-root",
                             str(trained["data"]), "--dump", str(trained["dump"]), "--out", str(out)],
                            cwd=tmp_path, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    try:
        while not (out / "checkpoints" / f"step_{kill_after}.pt").exists():
            assert proc.poll() is None, f"ended before step {kill_after}: {proc.stderr.read()[-3000:]}"
            assert time.time() < deadline, f"timed out waiting for step {kill_after}"
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"not killed during training (step {kill_after})"
    saved = [s for s, _ in ckpt.list_checkpoints(out / "checkpoints")]
    assert saved and saved[0] >= kill_after and not (out / "done").exists()
    result = train_ser(conf, trained["data"], trained["dump"], out, progress=False)
    assert result["resumed_from"] == saved[0], f"killed after step {kill_after}"
    reference = json.loads((trained["ser"] / "ser.json").read_text())
    assert result["history"] == reference["history"], f"killed after step {kill_after}"
    for key in ("accuracy", "confusion", "best_step", "dev_accuracy"):
        assert result[key] == reference[key], key
    a = torch.load(trained["ser"] / "model.pt", weights_only=True)["model_state"]
    b = torch.load(out / "model.pt", weights_only=True)["model_state"]
    for key in a:
        assert torch.equal(a[key], b[key]), (key, kill_after)
    assert [s for s, _ in ckpt.list_checkpoints(out / "checkpoints")] == [60, 50]  # the last 2 kept
    assert (out / "done").is_file()


def test_interrupted_and_resumed_in_process_matches_and_a_rerun_only_rewrites_the_outputs(trained, tmp_path):
    out = tmp_path / "ser"
    conf = ser_step_conf({**SER_CONF, "train": {**SER_CONF["train"], "save_interval": 15}})
    assert train_ser(conf, trained["data"], trained["dump"], out, progress=False, stop_after=25) is None
    result = train_ser(conf, trained["data"], trained["dump"], out, progress=False)
    assert result["resumed_from"] == 25
    reference = json.loads((trained["ser"] / "ser.json").read_text())
    assert result["history"] == reference["history"] and result["accuracy"] == reference["accuracy"]
    again = train_ser(conf, trained["data"], trained["dump"], out, progress=False)
    assert again["resumed_from"] == 60 and again["history"] == result["history"]
    # another classifier conf: the old checkpoints are set aside, training starts afresh
    other = ser_step_conf({**SER_CONF, "train": {**SER_CONF["train"], "lr": 1e-3}})
    fresh = train_ser(other, trained["data"], trained["dump"], out, progress=False)
    assert fresh["resumed_from"] is None
    assert [p.name for p in out.iterdir() if p.name.startswith("stale_")]

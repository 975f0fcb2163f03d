"""Training: outputs, schedules, exact resume, corrupt checkpoints, reruns, config errors."""

import json
import sys
from pathlib import Path

import pytest
import torch

from pytorch_backend.errors import ConfigError
from pytorch_backend.train import checkpoints as ckpt
from pytorch_backend.train.device import get_rng_state, set_rng_state
from pytorch_backend.tts.training import train_tts
from pytorch_backend.train.schedulers import LRSchedule, build_optimizer
from tts_fixtures import make_corpus, tiny_conf
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("tiny"))


def run(corpus, out, conf=None, **kw):
    conf = conf or tiny_conf("gst")
    return train_tts(conf, corpus["data_root"], corpus["tokens"], corpus["dump"], out, threads=1,
                     source="conf/tts/gst.yaml", **kw)


def final_params(out, step):
    state = ckpt.load_checkpoint(Path(out) / "checkpoints" / f"step_{step}.pt")
    return state["model"]


def test_training_writes_all_outputs(corpus, tmp_path):
    out = tmp_path / "train"
    summary = run(corpus, out)
    assert (out / "train.done").is_file()
    info = json.loads((out / "train.json").read_text())
    assert info == json.loads(json.dumps(summary))
    for key in ("num_params", "train_seconds", "steps", "best_dev_loss", "best_step", "seed", "device",
                "resumed_from"):
        assert key in info
    assert info["steps"] == 20 and info["seed"] == 3 and info["device"] == "cpu"
    assert info["resumed_from"] is None and info["train_seconds"] > 0
    assert info["best_step"] in (10, 20)
    assert (out / "speakers.txt").read_text() == "spkA\nspkB\n"
    assert (out / "curves.png").stat().st_size > 1000
    assert sorted(p.name for p in (out / "attention").iterdir()) == ["step_10.png", "step_20.png"]
    # save_interval 5, keep 3: steps 10, 15, 20 remain
    assert [s for s, _ in ckpt.list_checkpoints(out / "checkpoints")] == [20, 15, 10]
    best = torch.load(out / "best.pt", weights_only=True)
    assert best["meta"]["model"] == "gst" and best["meta"]["speakers"] == ["spkA", "spkB"]
    assert best["meta"]["step"] == info["best_step"]
    history = ckpt.load_checkpoint(out / "checkpoints" / "step_20.pt")["history"]
    assert [r["step"] for r in history["train"]] == [5, 10, 15, 20]
    assert history["train"][-1]["loss"] < history["train"][0]["loss"]  # it learns


def test_resume_continues_at_the_step_and_matches_an_uninterrupted_run(corpus, tmp_path):
    straight = tmp_path / "straight"
    run(corpus, straight)
    resumed = tmp_path / "resumed"
    part = run(corpus, resumed, stop_after=7)  # "killed" after step 7 (checkpoint at 7)
    assert part["steps"] == 7 and not (resumed / "train.done").exists()
    # a kill between checkpoints: the newest checkpoint is step 5, progress after it is lost
    (resumed / "checkpoints" / "step_7.pt").unlink()
    info = run(corpus, resumed)
    assert info["resumed_from"] == 5 and info["steps"] == 20
    a, b = final_params(straight, 20), final_params(resumed, 20)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    hist = ckpt.load_checkpoint(resumed / "checkpoints" / "step_20.pt")["history"]
    assert [r["step"] for r in hist["train"]] == [5, 10, 15, 20]


def test_corrupt_newest_checkpoint_falls_back_with_warning(corpus, tmp_path, caplog):
    out = tmp_path / "train"
    run(corpus, out, stop_after=10)
    newest = out / "checkpoints" / "step_10.pt"
    data = newest.read_bytes()
    newest.write_bytes(data[: len(data) // 2])  # truncated
    caplog.set_level("INFO")
    info = run(corpus, out, stop_after=1)
    assert "skipping unreadable checkpoint" in caplog.text and "step_10.pt" in caplog.text
    assert info["resumed_from"] == 5 and info["steps"] == 6


def test_rerun_after_done_trains_nothing(corpus, tmp_path, monkeypatch):
    out = tmp_path / "train"
    first = run(corpus, out)
    from pytorch_backend.tts.trainer import Trainer

    def boom(self, indices):
        raise AssertionError("trained again")

    monkeypatch.setattr(Trainer, "train_step", boom)
    again = run(corpus, out)
    assert again["steps"] == first["steps"] == 20
    assert again["train_seconds"] == first["train_seconds"]
    # more steps asked: training continues from the finished checkpoint
    monkeypatch.undo()
    conf = tiny_conf("gst", max_steps=25)
    more = run(corpus, out, conf=conf)
    assert more["steps"] == 25 and more["resumed_from"] == 20


def test_max_minutes_stops_cleanly(corpus, tmp_path):
    out = tmp_path / "train"
    info = run(corpus, out, conf=tiny_conf("tacotron2", max_minutes=1e-9, max_steps=1000))
    assert info["steps"] == 1 and (out / "train.done").is_file() and (out / "best.pt").is_file()


def test_unknown_model_conf_key_names_source_file(corpus, tmp_path):
    conf = tiny_conf("gst")
    conf["tts"]["model_conf"]["bogus"] = 1
    with pytest.raises(ConfigError) as err:
        run(corpus, tmp_path / "train", conf=conf)
    assert "conf/tts/gst.yaml" in str(err.value) and err.value.key == "model_conf.bogus"


def test_unknown_optimizer_and_scheduler_are_config_errors():
    params = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(ConfigError) as err:
        build_optimizer(params, {"name": "sgd9", "lr": 1.0}, source="conf/tts/x.yaml")
    assert err.value.key == "train.optimizer.name" and "conf/tts/x.yaml" in str(err.value)
    with pytest.raises(ConfigError) as err:
        LRSchedule(1.0, "cosine9", source="conf/tts/x.yaml")
    assert err.value.key == "train.scheduler.name"


def test_schedules():
    noam = LRSchedule(1e-3, "noam", warmup_steps=100, min_lr=1e-5, max_steps=1000)
    assert noam.lr_at(50) == pytest.approx(5e-4)
    assert noam.lr_at(100) == pytest.approx(1e-3)
    assert noam.lr_at(400) == pytest.approx(5e-4)
    assert noam.lr_at(10**9) == pytest.approx(1e-5)
    expo = LRSchedule(1e-3, "exponential", warmup_steps=10, min_lr=1e-4, max_steps=110)
    assert expo.lr_at(10) == pytest.approx(1e-3)
    assert expo.lr_at(60) == pytest.approx(1e-3 * 0.1 ** 0.5)
    assert expo.lr_at(110) == pytest.approx(1e-4)
    assert expo.lr_at(500) == pytest.approx(1e-4)
    assert LRSchedule(3e-4, "none", 50).lr_at(1) == 3e-4


def test_rng_state_survives_weights_only_load(tmp_path):
    import random

    import numpy as np

    torch.manual_seed(0)
    random.seed(1)
    np.random.seed(2)
    state = get_rng_state()
    ckpt.save_atomic({"rng": state}, tmp_path / "s.pt")
    expected = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    set_rng_state(torch.load(tmp_path / "s.pt", weights_only=True)["rng"])
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == expected


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "step_5.pt"
    ckpt.save_atomic({"a": torch.ones(2)}, path)

    def broken_save(obj, f):
        Path(f).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        ckpt.save_atomic({"a": torch.zeros(2)}, path)
    assert torch.equal(torch.load(path, weights_only=True)["a"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["step_5.pt"]


def test_cli_reports_unknown_model_in_one_line(corpus, tmp_path):
    conf = tiny_conf("gst")
    conf["tts"]["model"] = "wavenet9"
    proc = run_in_group([sys.executable, str(REPO / "steps" / "train_tts.py"), "--conf", json.dumps(conf),
                           "--data-root", str(corpus["data_root"]), "--tokens", str(corpus["tokens"]),
                           "--dump", str(corpus["dump"]), "--out", str(tmp_path / "train"), "--threads", "1",
                           "--source", "conf/tts/wavenet9.yaml"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1
    assert "conf/tts/wavenet9.yaml" in errors[0] and "unknown model 'wavenet9'" in errors[0]
    assert not (tmp_path / "train" / "train.done").exists()


def test_conf_edit_retrains_from_scratch_and_keeps_old_checkpoints(corpus, tmp_path):
    """Snakemake re-runs training when the conf changes: old checkpoints must not be resumed."""
    out = tmp_path / "train"
    run(corpus, out)
    old_steps = [s for s, _ in ckpt.list_checkpoints(out / "checkpoints")]
    changed = tiny_conf("gst")
    changed["tts"]["train"]["optimizer"]["lr"] = 5.0e-4
    info = run(corpus, out, conf=changed)
    assert info["resumed_from"] is None and info["steps"] == 20
    stale = [p for p in out.iterdir() if p.name.startswith("stale_")]
    assert len(stale) == 1
    assert [s for s, _ in ckpt.list_checkpoints(stale[0] / "checkpoints")] == old_steps
    assert (stale[0] / "best.pt").is_file()


def test_raising_max_steps_continues_training(corpus, tmp_path):
    out = tmp_path / "train"
    run(corpus, out)
    longer = tiny_conf("gst", max_steps=25)
    info = run(corpus, out, conf=longer)
    assert info["resumed_from"] == 20 and info["steps"] == 25
    assert not [p for p in out.iterdir() if p.name.startswith("stale_")]


def test_raising_max_steps_of_an_exponential_schedule_retrains_with_the_new_decay(corpus, tmp_path):
    """The exponential decay is spread over max_steps: resuming a run whose max_steps was raised
    would make the learning rate jump back up mid-run. Such a run retrains from scratch (old
    checkpoints moved aside) and follows the new schedule from step 1, never increasing."""
    def conf(max_steps):
        c = tiny_conf("gst", max_steps=max_steps, save_interval=5, eval_interval=max_steps, log_interval=1)
        c["tts"]["train"]["scheduler"] = {"name": "exponential", "warmup_steps": 0, "min_lr": 3.0e-4}
        return c

    out = tmp_path / "train"
    run(corpus, out, conf=conf(10))
    info = run(corpus, out, conf=conf(20))
    assert info["resumed_from"] is None and info["steps"] == 20
    assert len([p for p in out.iterdir() if p.name.startswith("stale_")]) == 1
    schedule = LRSchedule.from_conf(conf(20)["tts"]["train"])
    history = ckpt.load_checkpoint(out / "checkpoints" / "step_20.pt")["history"]["train"]
    lrs = [row["lr"] for row in history]
    assert [row["step"] for row in history] == list(range(1, 21))
    assert lrs == pytest.approx([round(schedule.lr_at(s), 5) for s in range(1, 21)], abs=1e-8)
    assert all(b <= a for a, b in zip(lrs, lrs[1:]))


def test_schedule_defining_keys():
    from pytorch_backend.train.schedulers import schedule_defining_keys

    assert schedule_defining_keys({"scheduler": {"name": "exponential"}}) == ("max_steps",)
    assert schedule_defining_keys({"scheduler": {"name": "noam"}}) == ()
    assert schedule_defining_keys({}) == ()

"""Crash safety: SIGKILL at a random training step resumes exactly; damaged checkpoints are
skipped; SIGKILLed feature dumping and decoding never leave a partial ark/scp that reads as
complete, and their re-runs complete (decoding the same checkpoint gives the same output)."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import torch
import yaml
from feats_fixtures import make_data_dir

from pytorch_backend.config import FEATS_SCHEMA, defaults_of
from pytorch_backend.feats.dump import dump_feats
from pytorch_backend.train import checkpoints as ckpt
from pytorch_backend.tts.training import train_tts
from pytorch_backend.tts.inference import decode
from tts_fixtures import make_corpus, tiny_conf

REPO = Path(__file__).resolve().parent.parent
torch.set_num_threads(1)
FEATS_DEFAULTS = defaults_of(FEATS_SCHEMA)
RESUME_CONF = dict(max_steps=24, save_interval=3, eval_interval=12, log_interval=3, keep_checkpoints=3,
                   deterministic=True)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """A tiny corpus and an uninterrupted training run (also the model decoded below)."""
    root = tmp_path_factory.mktemp("resume")
    corpus = make_corpus(root)
    out = root / "straight"
    train_tts(tiny_conf("gst", **RESUME_CONF), corpus["data_root"], corpus["tokens"], corpus["dump"], out,
              threads=1)
    return corpus, out


def start(args, cwd) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, *map(str, args)], cwd=cwd, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def kill_when(proc: subprocess.Popen, ready, what: str, timeout: float = 120.0) -> None:
    """SIGKILL the process group of ``proc`` as soon as ``ready()``; fail if it ended first."""
    deadline = time.time() + timeout
    try:
        while not ready():
            assert proc.poll() is None, f"ended before {what}: {proc.stderr.read()[-3000:]}"
            assert time.time() < deadline, f"timed out waiting for {what}"
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"not killed while {what}"


def test_sigkill_at_a_random_step_resumes_exactly(straight, tmp_path):
    corpus, straight_out = straight
    conf = tiny_conf("gst", **RESUME_CONF)
    kill_after = random.Random().choice([3, 6, 9, 12, 15])
    out = tmp_path / "killed"
    proc = start([REPO / "steps" / "train_tts.py", "--conf", json.dumps(conf), "--data-root", corpus["data_root"],
                  "--tokens", corpus["tokens"], "--dump", corpus["dump"], "--out", out, "--threads", 1], tmp_path)
    kill_when(proc, lambda: (out / "checkpoints" / f"step_{kill_after}.pt").exists(), f"step {kill_after}")
    saved = [s for s, _ in ckpt.list_checkpoints(out / "checkpoints")]
    assert saved and saved[0] >= kill_after and not (out / "train.done").exists()
    info = train_tts(conf, corpus["data_root"], corpus["tokens"], corpus["dump"], out, threads=1)
    assert info["resumed_from"] == saved[0], f"killed after step {kill_after}"
    assert info["steps"] == 24 and (out / "train.done").is_file()
    env = yaml.safe_load((out / "environment.yaml").read_text())
    assert env["training"]["deterministic"] is True and env["training"]["seed"] == 3
    assert not list((out / "checkpoints").glob(".*.tmp"))
    a = ckpt.load_checkpoint(straight_out / "checkpoints" / "step_24.pt")
    b = ckpt.load_checkpoint(out / "checkpoints" / "step_24.pt")
    assert b["history"] == a["history"], f"killed after step {kill_after}"  # every logged loss term
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), (key, kill_after)
    assert torch.equal(a["optimizer"]["state"][0]["exp_avg"], b["optimizer"]["state"][0]["exp_avg"])
    assert sorted(s for s, _ in ckpt.list_checkpoints(out / "checkpoints")) == [18, 21, 24]  # last K kept


def _checkpoint(step: int, **extra) -> dict:
    return {"model": {"w": torch.full((2,), float(step))}, "step": step, **extra}


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "wrong_step", "not_a_checkpoint"])
def test_damaged_newest_checkpoint_falls_back_to_the_previous(tmp_path, caplog, damage):
    for step in (3, 6, 9):
        ckpt.save_atomic(_checkpoint(step), ckpt.checkpoint_path(tmp_path, step))
    newest = ckpt.checkpoint_path(tmp_path, 9)
    data = newest.read_bytes()
    if damage == "truncated":
        newest.write_bytes(data[: len(data) // 3])
    elif damage == "empty":
        newest.write_bytes(b"")
    elif damage == "garbage":
        newest.write_bytes(os.urandom(len(data)))
    elif damage == "wrong_step":
        ckpt.save_atomic(_checkpoint(8), newest)
    else:
        ckpt.save_atomic({"weights": torch.zeros(2)}, newest)
    caplog.set_level("WARNING")
    state, path = ckpt.load_newest(tmp_path)
    assert path == ckpt.checkpoint_path(tmp_path, 6) and state["step"] == 6
    assert "skipping unreadable checkpoint" in caplog.text and "step_9.pt" in caplog.text


def test_all_checkpoints_damaged_means_a_fresh_start_and_stale_temps_go(tmp_path, caplog):
    for step in (3, 6):
        ckpt.checkpoint_path(tmp_path, step).write_bytes(b"PK\x03\x04 torn")
    (tmp_path / ".step_9.pt.k2j3.tmp").write_bytes(b"half a checkpoint")
    caplog.set_level("WARNING")
    assert ckpt.load_newest(tmp_path) == (None, None)
    assert caplog.text.count("skipping unreadable checkpoint") == 2
    assert [p.name for p in ckpt.remove_stale_temps(tmp_path)] == [".step_9.pt.k2j3.tmp"]
    ckpt.prune(tmp_path, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step_6.pt"]


def test_checkpoints_load_with_weights_only(straight):
    """Everything a checkpoint holds is tensors and plain containers (no pickled objects)."""
    _, out = straight
    for path in [p for _, p in ckpt.list_checkpoints(out / "checkpoints")] + [out / "best.pt"]:
        state = torch.load(path, map_location="cpu", weights_only=True)
        assert "model" in state


def _scp(path) -> dict:
    return {k: np.array(v) for k, v in kaldiio.load_scp(str(path)).items()}


def test_sigkill_during_feature_dumping(tmp_path):
    """A kill mid-dump leaves the previous complete scp/arks untouched -- never a partial one --
    and the re-run completes."""
    data = make_data_dir(tmp_path, num_utts=5)
    conf = {"fs": 22050, "n_fft": 1024, "hop_length": 256, "win_length": 1024, "n_mels": 80, "nj": 1}
    out = tmp_path / "dump"
    dump_feats(dict(FEATS_DEFAULTS, **conf), data, out, nj=1, progress=False)
    before = _scp(out / "feats.scp")
    arks = {p.name: p.read_bytes() for p in out.glob("feats.*.ark")}
    # re-dump with a last entry that blocks (a slow pipe): the run is killed mid-way
    scp = (data / "wav.scp").read_text()
    last_wav = scp.split()[-1]
    (data / "wav.scp").write_text(scp + f"spk1_zz sleep 60; cat {last_wav} |\n")
    proc = start([REPO / "steps" / "make_feats.py", "--conf", json.dumps(conf), "--data-dir", data, "--out", out,
                  "--nj", 1, "--allow-pipes"], tmp_path)
    kill_when(proc, lambda: any(p.stat().st_size > 0 for p in out.glob(".feats.1.ark.*.tmp")),
              "the temporary ark was being written")
    assert {p.name: p.read_bytes() for p in out.glob("feats.*.ark")} == arks  # old arks untouched
    after = _scp(out / "feats.scp")
    assert list(after) == list(before)
    assert all(np.array_equal(after[u], before[u]) for u in before)
    # the re-run completes; the killed run's hidden temporary ark is never referenced
    (data / "wav.scp").write_text(scp + f"spk1_zz cat {last_wav} |\n")
    dump_feats(dict(FEATS_DEFAULTS, **conf), data, out, nj=1, allow_pipes=True, progress=False)
    done = _scp(out / "feats.scp")
    assert len(done) == 6 and np.array_equal(done["spk1_zz"], done[sorted(before)[-1]])
    assert all(".tmp" not in line for line in (out / "feats.scp").read_text().splitlines())


def test_sigkill_during_decoding_then_rerun_gives_the_same_output(straight, tmp_path):
    corpus, model_dir = straight
    out = tmp_path / "decode"
    conf = tiny_conf("gst", **RESUME_CONF)

    def run_decode():
        decode(conf, model_dir, corpus["data_root"], "eval", corpus["tokens"], corpus["dump"], out,
               progress=False)
        return _scp(out / "feats.scp")

    before = run_decode()
    ark = (out / "feats.ark").read_bytes()
    # a slow decode (no stop token, long limit) through the CLI, killed once its first utterance is out
    slow = tiny_conf("gst", **RESUME_CONF)
    slow["tts"]["decode"].update(threshold=1.01, maxlenratio=400.0)
    first_plot = out / "plots" / f"{sorted(before)[0]}_attention.png"
    first_plot.unlink()
    proc = start([REPO / "steps" / "decode.py", "--conf", json.dumps(slow), "--model-dir", model_dir,
                  "--data-root", corpus["data_root"], "--split", "eval", "--tokens", corpus["tokens"],
                  "--dump", corpus["dump"], "--out", out, "--threads", 1], tmp_path)
    kill_when(proc, first_plot.exists, "decoding")
    assert (out / "feats.ark").read_bytes() == ark  # the complete previous output is untouched
    after = _scp(out / "feats.scp")
    assert list(after) == list(before) and all(np.array_equal(after[u], before[u]) for u in before)
    rerun = run_decode()
    assert list(rerun) == list(before)
    assert all(np.array_equal(rerun[u], before[u]) for u in before)  # same checkpoint, same output

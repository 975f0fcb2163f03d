"""The benchmark scripts' own logic: the memory benchmark's synthetic dump is consistent (every
pipeline reads it, audio and mels agree) and the GPU check refuses cleanly without CUDA."""

from __future__ import annotations

import importlib.util
import sys
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_memory_benchmark_dump_is_read_by_every_pipeline(tmp_path):
    bench = _load("bench_memory")
    conf = bench._feats_conf("mel80")
    sizes = bench.generate(tmp_path, 0.02, conf, nj=2)
    assert 0.02 <= sizes["hours"] < 0.03 and sizes["utterances"] >= 7
    fps = conf["fs"] / conf["hop_length"]
    assert abs(sizes["frames"] - sizes["hours"] * 3600 * fps) < sizes["utterances"]  # the conf's frame rate
    assert sizes["feats_bytes"] > sizes["frames"] * conf["n_mels"] * 4
    assert sorted(p.name for p in (tmp_path / "dump" / "train").glob("*.ark")) == [
        "energy.1.ark", "energy.2.ark", "feats.1.ark", "feats.2.ark", "pitch.1.ark", "pitch.2.ark"]
    args = Namespace(feats="mel80", batch_frames=4000, max_batch=8, voc_batch=4, voc_frames=16)
    for pipeline in ("tts", "vocoder", "ser", "tts_preload"):
        out = bench.child(pipeline, tmp_path, args)  # the vocoder checks audio against mel frames
        assert out["items"] >= sizes["utterances"] and out["frames"] > 0, pipeline
    assert bench.child("tts", tmp_path, args)["frames"] == sizes["frames"]  # one epoch = every frame once


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_gpu_check_refuses_without_cuda():
    proc = run_in_group([sys.executable, str(REPO / "benchmarks" / "gpu_check.py")], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "no CUDA device" in proc.stderr and "--device cpu" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_gpu_check_table_reports_failures_and_goes_on():
    gpu_check = _load("gpu_check")
    checks = gpu_check.Checks()
    assert checks.run("fine", lambda: "all good")
    assert not checks.run("broken", lambda: np.zeros(2)[5])
    assert checks.failed == 1
    table = checks.table()
    assert "| fine | ok | all good |" in table and "| broken | FAIL | IndexError" in table


@pytest.mark.parametrize("model_name", ["tacotron2", "gst", "vae", "emo_dnn", "emo_cvae"])
def test_training_benchmark_baseline_matches_every_tacotron_conf(model_name):
    """The textbook decoder loop of bench_train.py is the same function as the package's decoder
    for every Tacotron 2 family conf (emo_dnn's is conditioned on the emotion), and both time."""
    from pytorch_backend.config import TTS_SCHEMA, load_checked
    from pytorch_backend.tts import build_model

    bench = _load("bench_train")
    conf_path = REPO / "conf" / "tts" / f"{model_name}.yaml"
    conf = load_checked(conf_path, TTS_SCHEMA)
    torch.manual_seed(0)
    model = build_model(conf["model"], dict(conf["model_conf"], context_feedback=True, **bench.ATTENTION), 56, 5, 5,
                        80, conf_path)
    batch = bench.fixed_batch(3, 30, 12, model.r, 80)
    assert bench.check_equivalence(model, batch) < 1e-4
    rate = bench.time_training(model, batch, torch.device("cpu"), steps=1, repeat=1, textbook=True)
    assert rate > 0

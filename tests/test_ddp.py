"""Data-parallel training on CPU (gloo, 2 processes under torchrun): the distributed sampler,
exact agreement with single-process training for a model whose loss is a mean of utterance
losses, resuming under DDP, and the real GST model through the training CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from pytorch_backend.data.sampler import BucketBatchSampler, DistributedBucketBatchSampler, shard
from pytorch_backend.train import checkpoints as ckpt
from pytorch_backend.train.device import set_seed
from pytorch_backend.train.run_tts import train_tts
from pytorch_backend.tts import build_model
from tts_fixtures import EMOTIONS, N_MELS, make_corpus, tiny_conf

REPO = Path(__file__).resolve().parent.parent
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    c = make_corpus(root)
    args = root / "toy.json"
    args.write_text(json.dumps({"data_root": str(c["data_root"]), "tokens": str(c["tokens"]),
                                "dump": str(c["dump"]), "emotions": EMOTIONS, "n_mels": N_MELS}))
    return c, args


def torchrun(*args, cwd=REPO, log=None):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                           *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-6000:]
    return proc


def test_shards_are_disjoint_and_cover_the_global_batch():
    batch = [7, 3, 9, 4, 1]
    parts = [shard(batch, r, 2) for r in range(2)]
    assert parts == [[7, 9, 1], [3, 4]] and [p.count for p in parts] == [3, 2]
    assert sum(p.weight for p in parts) == pytest.approx(1.0)
    filler = shard([5], 1, 2)  # a one-utterance batch: rank 1 runs it with zero weight
    assert filler == [5] and filler.count == 0 and filler.weight == 0.0
    with pytest.raises(ValueError):
        shard(batch, 2, 2)


def test_distributed_sampler_keeps_the_global_batches():
    lengths = [(i * 37) % 50 + 5 for i in range(40)]
    single = BucketBatchSampler(lengths, 120, 8, seed=4)
    for world in (1, 2, 3):
        ranks = [DistributedBucketBatchSampler(lengths, 120, 8, seed=4, rank=r, world_size=world)
                 for r in range(world)]
        for epoch in (0, 1):
            for s in ranks:
                s.set_epoch(epoch, start=2)
            shards = [list(s) for s in ranks]
            expected = single.batches(epoch)[2:]
            assert all(len(x) == len(expected) for x in shards)
            for i, batch in enumerate(expected):
                real = sorted(j for x in shards for j in x[i][:x[i].count])
                assert real == sorted(batch)  # each global batch split without overlap or loss


def test_two_gloo_ranks_match_single_process_and_resume(corpus, tmp_path):
    """Toy model (no batch statistics): a DDP run stopped after step 3 and restarted under DDP
    ends where an uninterrupted single-process run ends, to float rounding, at every step."""
    sys.path.insert(0, str(REPO / "tests"))
    import ddp_toy

    _, args = corpus
    single = ddp_toy.train(json.loads(args.read_text()), tmp_path / "single")
    torchrun(REPO / "tests" / "ddp_toy.py", args, tmp_path / "ddp", 3)
    assert sorted(s for s, _ in ckpt.list_checkpoints(tmp_path / "ddp" / "checkpoints")) == [3]
    assert not (tmp_path / "ddp" / "train.done").exists()
    torchrun(REPO / "tests" / "ddp_toy.py", args, tmp_path / "ddp")
    info = json.loads((tmp_path / "ddp" / "train.json").read_text())
    assert info["steps"] == single["steps"] == 6 and info["world_size"] == 2 and info["resumed_from"] == 3
    a = ckpt.load_checkpoint(tmp_path / "single" / "checkpoints" / "step_6.pt")
    b = ckpt.load_checkpoint(tmp_path / "ddp" / "checkpoints" / "step_6.pt")
    assert b["world_size"] == 2 and len(b["rng_per_rank"]) == 2
    assert [r["step"] for r in b["history"]["train"]] == [1, 2, 3, 4, 5, 6]
    la = [r["loss"] for r in a["history"]["train"]]
    lb = [r["loss"] for r in b["history"]["train"]]
    assert lb == pytest.approx(la, rel=1e-5, abs=1e-6)
    for key in a["model"]:
        torch.testing.assert_close(b["model"][key], a["model"][key], rtol=1e-5, atol=1e-5)


def test_gst_cli_under_torchrun_matches_single_process_within_tolerance(corpus, tmp_path):
    """The real GST model through steps/train_tts.py: same global batches on 2 ranks. BatchNorm
    statistics are per rank on CPU/gloo (SyncBatchNorm needs CUDA) and frame-averaged losses are
    weighted per utterance, so the match is close, not exact."""
    c, _ = corpus
    conf = tiny_conf("gst", max_steps=4, eval_interval=4, save_interval=2, log_interval=1)
    conf["tts"]["model_conf"]["prenet_dropout"] = 0.0  # dropout masks differ per rank
    single = train_tts(conf, c["data_root"], c["tokens"], c["dump"], tmp_path / "single", threads=1)
    out, log = tmp_path / "ddp", tmp_path / "log" / "train.log"
    torchrun("-m", "steps.train_tts", "--conf", json.dumps(conf), "--data-root", c["data_root"], "--tokens",
             c["tokens"], "--dump", c["dump"], "--out", out, "--threads", "1", "--log-file", log)
    info = json.loads((out / "train.json").read_text())
    assert info["steps"] == 4 and info["world_size"] == 2 and (out / "train.done").is_file()
    assert sorted(p.name for p in (out / "attention").iterdir()) == ["step_4.png"]
    env = yaml.safe_load((out / "environment.yaml").read_text())
    assert env["training"]["world_size"] == 2 and env["training"]["backend"] == "gloo"
    assert env["packages"]["torch"] == torch.__version__
    text = log.read_text()
    assert "rank 0 of 2 on cpu (gloo)" in text and "INFO [rank 1]" not in text
    a = ckpt.load_checkpoint(tmp_path / "single" / "checkpoints" / "step_4.pt")
    b = ckpt.load_checkpoint(out / "checkpoints" / "step_4.pt")
    for ra, rb in zip(a["history"]["train"], b["history"]["train"]):
        assert rb["loss"] == pytest.approx(ra["loss"], rel=0.02)
    assert info["best_dev_loss"] == pytest.approx(single["best_dev_loss"], rel=0.05)
    # parameters moved the same way: the updates agree in direction
    set_seed(conf["tts"]["train"]["seed"])  # the initialization both runs started from
    meta = ckpt.load_checkpoint(tmp_path / "single" / "best.pt")["meta"]
    init = build_model("gst", conf["tts"]["model_conf"], meta["num_tokens"], meta["num_speakers"],
                       meta["num_emotions"], meta["n_mels"]).state_dict()
    keys = [k for k, v in a["model"].items() if v.is_floating_point() and "running" not in k]
    ua = torch.cat([(a["model"][k] - init[k]).flatten() for k in keys])
    ub = torch.cat([(b["model"][k] - init[k]).flatten() for k in keys])
    assert torch.nn.functional.cosine_similarity(ua, ub, dim=0) > 0.9

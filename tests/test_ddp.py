"""Data-parallel training on CPU (gloo, 2 processes under torchrun): the distributed sampler,
exact agreement with single-process training for a model whose loss is a mean of utterance
losses, resuming under DDP, the real GST model through the training CLI, and a lost rank
that becomes an error naming the rank and the step instead of a hang.

torchrun starts in a session of its own; on a timeout every process of it gets SIGUSR1 (the
ranks print their stacks: where they waited) and then SIGKILL, so nothing is left running."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml

from pytorch_backend.data.sampler import BucketBatchSampler, DistributedBucketBatchSampler, shard
from pytorch_backend.train import checkpoints as ckpt
from pytorch_backend.train.device import set_seed
from pytorch_backend.tts.training import train_tts
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


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def torchrun(*args, cwd=REPO, env=None, timeout=300, check=True):
    """Run torchrun with 2 ranks in its own process group; on a timeout dump every rank's
    stack (SIGUSR1), kill the whole group and fail with what they printed."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO), **(env or {}))
    proc = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                             *map(str, args)], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGUSR1)  # ranks print every thread's stack (faulthandler)
        time.sleep(3)
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"torchrun still running after {timeout} s (killed its process group); "
                    f"stderr tail:\n{err[-12000:]}")
    finally:
        if _group_alive(proc.pid):  # an orphaned rank: never leave one behind
            time.sleep(2)
            if _group_alive(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)
                pytest.fail("a process of the torchrun group outlived torchrun (killed)")
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    if check:
        assert proc.returncode == 0, err[-6000:]
    return result


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
    from tests import ddp_toy

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


# the alignment's own terms (forward-sum, binarization, durations) are averaged over frames and
# tokens too, so the per-utterance weighting of the ranks' terms moves the sum a little more
@pytest.mark.parametrize("alignment, rel", [("attention", 0.02), ("durations", 0.04)])
def test_gst_cli_under_torchrun_matches_single_process_within_tolerance(corpus, tmp_path, alignment, rel):
    """The real GST model through steps/train_tts.py: same global batches on 2 ranks. BatchNorm
    statistics are per rank on CPU/gloo (SyncBatchNorm needs CUDA) and frame-averaged losses are
    weighted per utterance, so the match is close, not exact."""
    c, _ = corpus
    conf = tiny_conf("gst", max_steps=4, eval_interval=4, save_interval=2, log_interval=1)
    conf["tts"]["model_conf"]["prenet_dropout"] = 0.0  # dropout masks differ per rank
    conf["tts"]["model_conf"]["alignment"] = alignment
    if alignment == "attention":
        conf["tts"]["model_conf"]["duration_model"] = None
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
        assert rb["loss"] == pytest.approx(ra["loss"], rel=rel)
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


def test_a_lost_rank_is_an_error_naming_the_rank_and_the_step(corpus, tmp_path):
    """Rank 0 hangs in step 3 (as if stuck or gone): rank 1 waits in the all-reduce of the loss
    terms for the process-group timeout, then fails naming itself, the step and what it waited in;
    torchrun ends the job with an error instead of hanging."""
    _, args = corpus
    start = time.time()
    proc = torchrun(REPO / "tests" / "ddp_toy.py", args, tmp_path / "ddp", timeout=240, check=False,
                    env={"DDP_TOY_STALL": "0:3", "EMOTTS_DIST_TIMEOUT_MINUTES": "0.3"})
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if "CollectiveError: " in line]
    assert errors, proc.stderr[-6000:]
    assert "CollectiveError: rank 1 of 2, step 3: summing the loss terms failed" in errors[0]
    assert "rank(s) 0" in errors[0] and "Timed out" in errors[0]
    assert time.time() - start < 200
    # what was written before the loss stays: nothing of step 3
    assert not (tmp_path / "ddp" / "train.done").exists()


def test_process_group_timeout_from_the_environment(monkeypatch):
    from pytorch_backend.train import distributed as ddp

    monkeypatch.delenv(ddp.TIMEOUT_ENV, raising=False)
    assert ddp.process_group_timeout().total_seconds() == ddp.DEFAULT_TIMEOUT_MINUTES * 60
    assert ddp.process_group_timeout(5).total_seconds() == 300
    monkeypatch.setenv(ddp.TIMEOUT_ENV, "0.5")
    assert ddp.process_group_timeout(5).total_seconds() == 30
    monkeypatch.setenv(ddp.TIMEOUT_ENV, "soon")
    with pytest.raises(ValueError, match="EMOTTS_DIST_TIMEOUT_MINUTES='soon'"):
        ddp.process_group_timeout()


def test_collective_errors_name_rank_step_and_what_and_leave_model_errors_alone():
    from pytorch_backend.train import distributed as ddp

    ctx = ddp.DistContext(rank=1, world_size=3, step=7, timeout=ddp.process_group_timeout(2))
    with pytest.raises(ddp.CollectiveError, match=r"rank 1 of 3, step 7: the final barrier failed "
                                                  r"\(waited up to 0:02:00 for rank\(s\) 0, 2"):
        with ddp.collective_errors(ctx, "the final barrier"):
            raise RuntimeError("[gloo/transport/tcp/pair.cc:598] Connection closed by peer")
    with pytest.raises(ddp.CollectiveError, match="step 7: a training step"):
        with ddp.collective_errors(ctx, "a training step", mixed=True):
            raise RuntimeError("[unbound_buffer.cc:81] Timed out waiting 120000ms for recv operation")
    with pytest.raises(RuntimeError, match="^mat1 and mat2 shapes") as err:  # the model's own error
        with ddp.collective_errors(ctx, "a training step", mixed=True):
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")
    assert not isinstance(err.value, ddp.CollectiveError)
    with ddp.collective_errors(ddp.DistContext(), "anything"):  # one process: nothing to translate
        pass


class _Cycle:
    """An object kept only by a reference cycle (as a DDP wrapper's hooks keep it)."""

    def __init__(self, freed: list):
        self.me = self
        self.freed = freed

    def __del__(self):
        self.freed.append("wrapper freed")


def _fake_dist(events: list) -> SimpleNamespace:
    """The few torch.distributed calls cleanup makes, recording their order."""
    world = SimpleNamespace(abort=lambda: events.append("aborted"))
    return SimpleNamespace(is_initialized=lambda: True, barrier=lambda *a, **k: events.append("barrier"),
                           destroy_process_group=lambda *a, **k: events.append("destroyed"),
                           GroupMember=SimpleNamespace(WORLD=world))


def test_cleanup_frees_cyclic_garbage_between_the_barrier_and_the_group_teardown(monkeypatch):
    from pytorch_backend.train import distributed as ddp

    events: list[str] = []
    monkeypatch.setattr(ddp, "dist", _fake_dist(events))
    _Cycle(events)  # unreachable at once, but freed only by the collector
    ddp.cleanup(ddp.DistContext(rank=1, world_size=2, backend="gloo"), failed=False)
    assert events == ["barrier", "wrapper freed", "destroyed"]


def test_cleanup_after_an_error_aborts_without_waiting(monkeypatch):
    from pytorch_backend.train import distributed as ddp

    events: list[str] = []
    monkeypatch.setattr(ddp, "dist", _fake_dist(events))
    ddp.cleanup(ddp.DistContext(rank=0, world_size=2, backend="gloo"), failed=True)
    assert events == ["aborted"]

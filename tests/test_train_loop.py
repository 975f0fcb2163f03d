"""The shared training skeleton (pytorch_backend/train/loop.py) on a toy trainer whose every step
draws from Python's, numpy's and torch's generators: exact resume after a stop between two
log intervals, checkpoint pruning, the time budget, interval logging, stale checkpoints moved
aside, and errors of a trainer that refuses a checkpoint."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from pytorch_backend.errors import DataError
from pytorch_backend.train import checkpoints as ckpt
from pytorch_backend.train.loop import TrainingLoop

torch.set_num_threads(1)


class ToyTrainer(TrainingLoop):
    """Linear regression with dropout: batches from numpy's global generator, a Python-random
    noise scale, dropout masks from torch's -- a resumed run only matches if every RNG state
    comes back."""

    def __init__(self, out, device="cpu", meta=None, **conf):
        conf = {"max_steps": 12, "log_interval": 4, "eval_interval": 6, "save_interval": 5,
                "keep_checkpoints": 2, **conf}
        super().__init__(out, conf, seed=7, device=device, meta=meta, progress=False)
        torch.manual_seed(0)
        self.model = torch.nn.Sequential(torch.nn.Dropout(0.3), torch.nn.Linear(3, 1)).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=0.05)
        self.w = torch.tensor([[1.0], [-2.0], [0.5]])
        self.refused = None

    def trainer_state(self):
        return {"model": self.model.state_dict(), "optimizer": self.opt.state_dict(), "kind": "toy"}

    def load_trainer_state(self, state):
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])

    def check_checkpoint(self, state, path):
        if self.refused is not None and state.get("kind") == self.refused:
            raise DataError(path, f"a '{self.refused}' checkpoint")

    def next_batch(self):
        x = torch.from_numpy(np.random.randn(8, 3).astype(np.float32))
        noise = random.uniform(0.0, 0.1)
        return x, x @ self.w + noise

    def train_step(self, x, y):
        self.model.train()
        loss = (self.model(x.to(self.device)) - y.to(self.device)).pow(2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return {"loss": float(loss.detach()), "scale": float(self.model[1].weight.detach().abs().mean())}

    def validate(self):
        self.model.eval()
        with torch.no_grad():
            x = torch.randn(16, 3)  # from the forked, reseeded generator
            self.history["dev"].append({"step": self.step, "mse": float((self.model(x) - x @ self.w).pow(2).mean())})

    def train(self, stop_after=None):
        self.seed_rank()
        self.resume()
        return self.run(stop_after)


def test_stopped_and_resumed_run_matches_an_uninterrupted_one_exactly(tmp_path):
    straight = ToyTrainer(tmp_path / "a")
    assert straight.train() == "max_steps"
    part = ToyTrainer(tmp_path / "b")
    assert part.train(stop_after=7) == "stop_after"  # between two log intervals (4, 8) and saves (5, 10)
    assert [s for s, _ in ckpt.list_checkpoints(tmp_path / "b" / "checkpoints")] == [7, 5]
    resumed = ToyTrainer(tmp_path / "b")
    assert resumed.train() == "max_steps"
    assert resumed.resumed_from == 7 and resumed.step == 12
    assert resumed.history == straight.history  # the open log window travelled in the checkpoint
    assert [r["step"] for r in resumed.history["train"]] == [4, 8, 12]
    assert [r["step"] for r in resumed.history["dev"]] == [6, 12]
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    # keep_checkpoints 2: the newest two remain, the last one marked finished
    steps = [s for s, _ in ckpt.list_checkpoints(tmp_path / "b" / "checkpoints")]
    assert steps == [12, 10]
    assert ckpt.load_checkpoint(tmp_path / "b" / "checkpoints" / "step_12.pt")["finished"] is True
    assert ckpt.load_checkpoint(tmp_path / "b" / "checkpoints" / "step_10.pt")["finished"] is False


def test_validation_does_not_change_the_training_stream(tmp_path):
    """Validation draws from a forked generator: a run validating every step trains exactly
    like one validating once."""
    often = ToyTrainer(tmp_path / "a", eval_interval=1)
    rarely = ToyTrainer(tmp_path / "b", eval_interval=12)
    often.train()
    rarely.train()
    assert len(often.history["dev"]) == 12 and len(rarely.history["dev"]) == 1
    assert often.history["train"] == rarely.history["train"]
    assert often.history["dev"][-1] == rarely.history["dev"][-1]


def test_time_budget_counts_every_run_and_stops_cleanly(tmp_path):
    first = ToyTrainer(tmp_path, max_minutes=1e-9, max_steps=1000)
    assert first.train() == "max_minutes" and first.step == 1
    assert [r["step"] for r in first.history["dev"]] == [1]  # the final validation
    state = ckpt.load_checkpoint(tmp_path / "checkpoints" / "step_1.pt")
    assert state["finished"] is True and state["train_seconds"] > 0
    again = ToyTrainer(tmp_path, max_minutes=1e-9, max_steps=1000)
    assert again.train() == "max_minutes" and again.step == 1  # the budget is spent: nothing to do
    more = ToyTrainer(tmp_path, max_steps=3)
    assert more.train() == "max_steps" and more.resumed_from == 1 and more.step == 3


def test_checkpoint_of_another_fingerprint_is_moved_aside(tmp_path):
    ToyTrainer(tmp_path, meta={"fingerprint": "aaaa"}).train()
    other = ToyTrainer(tmp_path, meta={"fingerprint": "bbbb"})
    other.train()
    assert other.resumed_from is None and other.step == 12
    assert [s for s, _ in ckpt.list_checkpoints(tmp_path / "stale_aaaa" / "checkpoints")] == [12, 10]
    same = ToyTrainer(tmp_path, meta={"fingerprint": "bbbb"}, max_steps=13)
    same.train()
    assert same.resumed_from == 12


def test_refused_checkpoint_is_an_error_naming_the_file(tmp_path):
    ToyTrainer(tmp_path, max_steps=5).train()
    refusing = ToyTrainer(tmp_path)
    refusing.refused = "toy"
    with pytest.raises(DataError, match=r"step_5\.pt.*a 'toy' checkpoint"):
        refusing.train()


def test_non_finite_loss_names_the_step(tmp_path):
    trainer = ToyTrainer(tmp_path)
    trainer.train_step = lambda x, y: {"loss": float("nan")}
    with pytest.raises(FloatingPointError, match="non-finite loss at step 1"):
        trainer.train()

"""A model without batch statistics and with a per-utterance loss, trained by the real Trainer:
with it, data-parallel training must reproduce single-process training (same global batches)
up to float summation order. Run as a script under torchrun by tests/test_ddp.py:

    python -m torch.distributed.run --standalone --nproc-per-node=2 tests/ddp_toy.py ARGS.json OUT [STOP_AFTER]

``DDP_TOY_STALL=<rank>:<step>`` makes that rank hang in the forward of that (1-based) step, as a
rank that is stuck or lost: the other ranks must fail with the process-group timeout.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import torch


TOY_TRAIN = {"seed": 5, "max_steps": 6, "batch_frames": 50, "max_batch_size": 8, "bucket_shuffle": True,
             "optimizer": {"name": "adam", "lr": 1.0e-2, "betas": [0.9, 0.999], "eps": 1.0e-6,
                           "weight_decay": 0.0},
             "scheduler": {"name": "none"}, "grad_clip": 1.0, "eval_interval": 6, "save_interval": 3,
             "keep_checkpoints": 3, "log_interval": 1, "amp": False}


class ToyTTS(torch.nn.Module):
    """Predicts each utterance's mean log-mel from its tokens, speaker and emotion (mean over
    utterances of a per-utterance MSE: the batch loss is an average of utterance losses)."""

    r = 1

    def __init__(self, num_tokens: int, n_mels: int):
        super().__init__()
        self.embed = torch.nn.Embedding(num_tokens, 16)
        self.cond = torch.nn.Embedding(8, 16)
        self.drop = torch.nn.Dropout(0.0)
        self.out = torch.nn.Linear(16, n_mels)

    def forward_batch(self, batch: dict) -> dict:
        mask = batch["token_mask"].unsqueeze(-1).float()
        h = (self.embed(batch["tokens"]) * mask).sum(1) / mask.sum(1)
        h = torch.tanh(h + self.cond(batch["speakers"] * 3 + batch["emotions"]))
        pred = self.out(self.drop(h))
        frames = batch["mel_mask"].unsqueeze(-1).float()
        target = (batch["mels"] * frames).sum(1) / frames.sum(1)
        align = torch.softmax(batch["mels"][..., :1] @ h[:, None, :1].transpose(1, 2), dim=1)
        return {"pred": pred, "target": target, "alignments": align}

    def compute_loss(self, out: dict, batch: dict, step: int = 0) -> dict:
        stall = os.environ.get("DDP_TOY_STALL")
        if stall and self.training:
            rank, at = (int(x) for x in stall.split(":"))
            if rank == int(os.environ.get("RANK", "0")) and step + 1 == at:
                time.sleep(600)  # a lost rank: torchrun ends it once another rank fails
        per_utt = (out["pred"] - out["target"]).pow(2).mean(-1)
        loss = per_utt.mean()
        return {"loss": loss, "mel": loss.detach()}


def train(args: dict, out_dir, stop_after: int | None = None) -> dict:
    from pytorch_backend.data.tts_dataset import read_speakers, read_token_list
    from pytorch_backend.train import distributed as ddp
    from pytorch_backend.train.device import set_seed
    from pytorch_backend.tts.loading import load_split
    from pytorch_backend.tts.trainer import Trainer

    torch.set_num_threads(1)
    tokens = read_token_list(Path(args["tokens"]) / "token_list")
    speakers = read_speakers(Path(args["data_root"]) / "train" / "utt2spk")
    sets = [load_split(args["data_root"], args["tokens"], args["dump"], split, tokens, speakers,
                       args["emotions"], n_mels=args["n_mels"]) for split in ("train", "dev")]
    ctx = ddp.setup(0)
    set_seed(TOY_TRAIN["seed"])
    model = ToyTTS(len(tokens), args["n_mels"])
    trainer = Trainer(model, sets[0], sets[1], dict(TOY_TRAIN), out_dir, meta={"model": "toy"}, dist=ctx)
    try:
        return trainer.train(stop_after=stop_after)
    finally:
        del trainer  # its DDP wrapper must go before the process group (ddp.cleanup)
        ddp.cleanup(ctx)


if __name__ == "__main__":
    train(json.loads(Path(sys.argv[1]).read_text()), sys.argv[2],
          int(sys.argv[3]) if len(sys.argv) > 3 else None)

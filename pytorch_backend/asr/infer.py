"""A trained recognizer (``exp/<corpus>_asr/model.pt``): transcribe log-mel features.

The checkpoint is a plain dict (``torch.load(weights_only=True)``): the weights, the registry
name and keywords of the model, its characters, the feature size, the train statistics it
normalizes with and the text language. So scoring synthesized speech needs nothing but the file
and the toolkit's log-mel of the audio.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from pytorch_backend.asr.data import length_sorted_batches, pad_batch
from pytorch_backend.asr.model import greedy_decode
from pytorch_backend.asr.vocab import CharVocab
from pytorch_backend.errors import DataError
from pytorch_backend.utils.fileio import atomic_path

CHECKPOINT_KEYS = ("model_state", "model_name", "model_conf", "chars", "n_mels", "mean", "std", "language")


def save_recognizer(path, state: dict, model_name: str, model_conf: dict, vocab: CharVocab, n_mels: int,
                    mean: np.ndarray, std: np.ndarray, language: str, step: int, dev_cer: float) -> None:
    """Atomic ``torch.save`` of everything :meth:`Recognizer.load` needs."""
    ckpt = {"model_state": state, "model_name": model_name, "model_conf": dict(model_conf),
            "chars": list(vocab.chars), "n_mels": int(n_mels),
            "mean": torch.from_numpy(np.asarray(mean, dtype=np.float32)),
            "std": torch.from_numpy(np.asarray(std, dtype=np.float32)),
            "language": language, "step": int(step), "dev_cer": float(dev_cer)}
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(ckpt, tmp)


class Recognizer:
    """A CTC model in eval mode with its vocabulary and normalization."""

    def __init__(self, model: torch.nn.Module, vocab: CharVocab, mean, std, language: str = "en", device="cpu"):
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.vocab = vocab
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        self.n_mels = int(self.mean.shape[-1])
        self.language = language

    @classmethod
    def load(cls, path, device="cpu") -> "Recognizer":
        from pytorch_backend.asr import RECOGNIZERS

        path = Path(path)
        if not path.is_file():
            raise DataError(path, "recognizer not found (was steps/train_asr.py run?)")
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        missing = [k for k in CHECKPOINT_KEYS if k not in ckpt]
        if missing:
            raise DataError(path, f"not a recognizer checkpoint (missing {', '.join(missing)})")
        vocab = CharVocab(ckpt["chars"])
        model = RECOGNIZERS.build(ckpt["model_name"], ckpt["model_conf"], path, vocab_size=len(vocab),
                                  n_mels=int(ckpt["n_mels"]))
        model.load_state_dict(ckpt["model_state"])
        return cls(model, vocab, ckpt["mean"].numpy(), ckpt["std"].numpy(), ckpt["language"], device)

    @torch.no_grad()
    def decode_normalized(self, feats: list[np.ndarray], batch_size: int = 16) -> list[str]:
        """Greedy CTC transcripts of normalized (frames, n_mels) features."""
        self.model.eval()
        for i, f in enumerate(feats):
            if f.ndim != 2 or f.shape[1] != self.n_mels or len(f) == 0:
                raise ValueError(f"item {i}: features of shape {f.shape}, the recognizer expects (T>0, {self.n_mels})")
        out: list[str] = [""] * len(feats)
        for idx in length_sorted_batches([len(f) for f in feats], batch_size):
            x, lengths = pad_batch([feats[i] for i in idx])
            log_probs, out_len = self.model(x.to(self.device), lengths.to(self.device))
            for i, ids in zip(idx, greedy_decode(log_probs, out_len)):
                out[i] = self.vocab.decode(ids)
        return out

    def transcribe(self, logmels: list[np.ndarray], batch_size: int = 16) -> list[str]:
        """Transcripts of raw log-mel features (``LogMelExtractor`` output, dump scale)."""
        return self.decode_normalized([(np.asarray(m, dtype=np.float32) - self.mean) / self.std for m in logmels],
                                      batch_size)

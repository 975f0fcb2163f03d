"""Load a trained emotion classifier (``model.pt``) and predict on normalized features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from pytorch_backend.errors import DataError
from pytorch_backend.ser.data import pad_batch

CHECKPOINT_KEYS = ("model_state", "model_name", "model_conf", "emotions", "n_mels", "step")


class EmotionPredictor:
    """A classifier in eval mode plus the emotion labels and feature size it was trained on."""

    def __init__(self, model: torch.nn.Module, emotions: list[str], n_mels: int, device="cpu"):
        self.model = model.to(device).eval()
        self.emotions = list(emotions)
        self.n_mels = int(n_mels)
        self.device = torch.device(device)

    @classmethod
    def load(cls, path, device="cpu") -> "EmotionPredictor":
        from pytorch_backend.ser import build_classifier

        path = Path(path)
        if not path.is_file():
            raise DataError(path, "emotion classifier not found (was steps/train_ser.py run?)")
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        return cls.from_checkpoint(ckpt, path, device)

    @classmethod
    def from_checkpoint(cls, ckpt: dict, source, device="cpu") -> "EmotionPredictor":
        """The classifier of a loaded ``model.pt`` dict (``source`` names it in errors)."""
        from pytorch_backend.ser import build_classifier

        missing = [k for k in CHECKPOINT_KEYS if not isinstance(ckpt, dict) or k not in ckpt]
        if missing:
            raise DataError(source, f"not an emotion classifier checkpoint (missing {', '.join(missing)})")
        model = build_classifier(ckpt["model_name"], ckpt["model_conf"], len(ckpt["emotions"]),
                                 ckpt["n_mels"], source=source)
        model.load_state_dict(ckpt["model_state"])
        return cls(model, ckpt["emotions"], ckpt["n_mels"], device)

    @torch.no_grad()
    def logits(self, feats: list[np.ndarray], batch_size: int = 32) -> np.ndarray:
        """(N, num_classes) logits of full utterances, batched by similar lengths."""
        for i, f in enumerate(feats):
            if f.ndim != 2 or f.shape[1] != self.n_mels:
                raise ValueError(f"item {i}: features of shape {f.shape}, classifier expects (*, {self.n_mels})")
        order = np.argsort([len(f) for f in feats], kind="stable")
        out = np.zeros((len(feats), len(self.emotions)), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            x, lengths = pad_batch([feats[i] for i in idx])
            out[idx] = self.model(x.to(self.device), lengths.to(self.device)).float().cpu().numpy()
        return out

    def predict(self, feats: list[np.ndarray], batch_size: int = 32) -> np.ndarray:
        """Predicted emotion ids (index into ``self.emotions``)."""
        if not feats:
            return np.zeros(0, dtype=np.int64)
        return self.logits(feats, batch_size).argmax(axis=1).astype(np.int64)

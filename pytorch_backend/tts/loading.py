"""Loading what training and synthesis start from: the full TTS conf of a stage's slice, a
split's dataset and the trained model (``best.pt``).

Shared by training (pytorch_backend/tts/training.py), decoding (inference.py), the emotion
controls, the emotion-space maps and the teacher-forced dump of the vocoder stage.
"""

from __future__ import annotations

from pathlib import Path

from pytorch_backend.config import TTS_SCHEMA, check_keys, deep_merge, defaults_of
from pytorch_backend.data.tts_dataset import TTSDataset
from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.train.checkpoints import load_checkpoint
from pytorch_backend.tts import build_model


def tts_conf_of(conf: dict, source="<conf>") -> dict:
    """The full TTS conf (schema defaults + the given slice); unknown keys (a typo in a hand-written
    --conf) are a ConfigError naming ``source`` and the key path; checks the model name is set."""
    check_keys(conf.get("tts") or {}, TTS_SCHEMA, source)
    tts = deep_merge(defaults_of(TTS_SCHEMA), conf.get("tts") or {})
    if not tts.get("model"):
        raise ConfigError(source, "missing the registry name of the model", key="model")
    return tts


def load_split(data_root, tokens_dir, dump_dir, split: str, tokens: list[str], speakers: list[str],
               emotions: list[str], with_feats: bool = True, n_mels: int | None = None,
               with_prosody: bool = False) -> TTSDataset:
    """``with_prosody``: also load pitch.scp/energy.scp (models with ``NEEDS_PROSODY``)."""
    data_root, tokens_dir, dump_dir = Path(data_root), Path(tokens_dir), Path(dump_dir)
    return TTSDataset(data_root / split, tokens_dir / split / "text_tokens", tokens, speakers, emotions,
                      feats_scp=dump_dir / split / "feats.scp" if with_feats else None,
                      stats=dump_dir / "stats.npz" if with_feats else None, n_mels=n_mels,
                      with_prosody=with_feats and with_prosody)


def load_trained(model_dir, device="cpu", source="<conf>"):
    """(model in eval mode, metadata) from ``<model_dir>/best.pt``."""
    path = Path(model_dir) / "best.pt"
    if not path.is_file():
        raise DataError(path, "trained model not found (run steps/train_tts.py)")
    try:
        state = load_checkpoint(path, map_location=device)
        meta = state["meta"]
    except Exception as exc:
        raise DataError(path, f"cannot load the trained model: {exc}") from None
    model = build_model(meta["model"], meta["model_conf"], meta["num_tokens"], meta["num_speakers"],
                        meta["num_emotions"], meta["n_mels"], source)
    model.load_state_dict(state["model"])
    model.to(device).eval()
    return model, meta

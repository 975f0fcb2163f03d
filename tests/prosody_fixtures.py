"""Frame-level pitch/energy for the tiny TTS corpus of tts_fixtures (what steps/make_feats.py
dumps beside feats.scp for FastSpeech 2), and a tiny FastSpeech 2 conf.

The fabricated prosody is learnable like the fabricated mels: each token has its own F0 scaled by
the emotion (token "h" is unvoiced, F0 0), and the energy follows the frame's mean log-mel.
"""

from __future__ import annotations

import copy
from pathlib import Path

import kaldiio
import numpy as np
from tts_fixtures import EMOTIONS, FEATS_CONF, FRAMES_PER_TOKEN, PHONES, TINY_DECODE, TINY_TRAIN

EMOTION_F0_SCALE = {"neutral": 1.0, "happy": 1.4, "sad": 0.8}

TINY_FS2 = {"dim": 16, "heads": 2, "enc_layers": 1, "dec_layers": 1, "ffn_hidden": 32, "ffn_kernels": [3, 1],
            "dropout": 0.0, "cond_dim": 4, "predictor_channels": 16, "align_channels": 8,
            "bin_loss_start": 5, "bin_loss_warmup": 5}


def fake_f0(tokens: list[str], emotion: str) -> np.ndarray:
    k = FRAMES_PER_TOKEN[emotion]
    per_token = [0.0 if t == "h" else 100.0 * (1.0 + 0.1 * PHONES.index(t)) * EMOTION_F0_SCALE[emotion]
                 for t in tokens]
    return np.repeat(np.asarray(per_token, dtype=np.float32), k)


def add_prosody(paths: dict) -> dict:
    """Write pitch.scp/energy.scp (+ arks) beside every split's feats.scp and the pitch/energy
    statistics into stats.npz (as steps/compute_stats.py does); returns ``paths``."""
    dump = Path(paths["dump"])
    tokens_dir = Path(paths["tokens"])
    data_root = Path(paths["data_root"])
    train_f0, train_energy = [], []
    for split_dir in sorted(p for p in dump.iterdir() if (p / "feats.scp").is_file()):
        split = split_dir.name
        text = dict(line.split(maxsplit=1) for line in (tokens_dir / split / "text_tokens").read_text().splitlines())
        emo = dict(line.split() for line in (data_root / split / "utt2emo").read_text().splitlines())
        feats = kaldiio.load_scp(str(split_dir / "feats.scp"))
        pitch, energy = {}, {}
        for utt in sorted(feats.keys(), key=lambda k: k.encode()):
            mel = feats[utt]
            pitch[utt] = fake_f0(text[utt].split(), emo[utt])
            assert pitch[utt].shape[0] == mel.shape[0]
            energy[utt] = mel.mean(axis=1).astype(np.float32)
            if split == "train":
                train_f0.append(pitch[utt])
                train_energy.append(energy[utt])
        kaldiio.save_ark(str(split_dir / "pitch.ark"), pitch, scp=str(split_dir / "pitch.scp"))
        kaldiio.save_ark(str(split_dir / "energy.ark"), energy, scp=str(split_dir / "energy.scp"))
    f0 = np.concatenate(train_f0)
    log_f0 = np.log(f0[f0 > 0])
    e = np.concatenate(train_energy)
    with np.load(dump / "stats.npz") as data:
        stats = {k: data[k] for k in data.files}
    stats.update(pitch_mean=np.float32(log_f0.mean()), pitch_std=np.float32(log_f0.std()),
                 pitch_count=np.int64(log_f0.size), energy_mean=np.float32(e.mean()),
                 energy_std=np.float32(e.std()), energy_count=np.int64(e.size))
    np.savez(dump / "stats.npz", **stats)
    return paths


def tiny_fs2_conf(**train_overrides) -> dict:
    """The JSON conf slice steps/train_tts.py receives, for a tiny FastSpeech 2."""
    train = copy.deepcopy(TINY_TRAIN)
    train.update(train_overrides)
    return {"tts": {"model": "fastspeech2", "model_conf": copy.deepcopy(TINY_FS2), "train": train,
                    "decode": copy.deepcopy(TINY_DECODE)},
            "emotions": list(EMOTIONS), "feats": dict(FEATS_CONF), "token_type": "phn"}

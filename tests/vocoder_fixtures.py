"""Helpers of the neural vocoder tests: a tiny corpus (data + dumped features) and tiny model
configs that train in a fraction of a second."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from feats_fixtures import FS, vowel, write_wav

from pytorch_backend.config import FEATS_SCHEMA, defaults_of
from pytorch_backend.feats.dump import dump_feats
from pytorch_backend.vocoders import VOCODERS, build_vocoder
from pytorch_backend.vocoders.train import train_vocoder

FEATS = dict(defaults_of(FEATS_SCHEMA), nj=1)  # trim_silence on, as in the real pipeline
HOP = FEATS["hop_length"]

_SMALL_DISC = {"scales": 2, "channels": 4, "max_channels": 16, "downsample_scales": [4, 4]}  # MelGAN's
_SMALL_HIFIGAN_DISC = {"periods": [2, 3], "period_channels": [4, 8], "scales": 2, "scale_channels": [4, 4, 8],
                       "scale_kernel_sizes": [15, 41, 5], "scale_strides": [1, 4, 1], "scale_groups": [1, 4, 1]}
TINY = {
    "hifigan": {"generator": {"upsample_initial_channel": 16, "upsample_rates": [8, 8, 4],
                              "upsample_kernel_sizes": [16, 16, 8], "resblock": "2",
                              "resblock_kernel_sizes": [3], "resblock_dilation_sizes": [[1, 2]]},
                "discriminator": _SMALL_HIFIGAN_DISC},
    "parallel_wavegan": {"generator": {"layers": 4, "stacks": 2, "residual_channels": 8, "gate_channels": 16,
                                       "skip_channels": 8},
                         "discriminator": {"layers": 4, "channels": 8}},
    "melgan": {"generator": {"channels": 32, "upsample_scales": [8, 8, 4], "stack_dilations": [1, 3]},
               "discriminator": _SMALL_DISC},
    "multiband_melgan": {"generator": {"channels": 32, "upsample_scales": [4, 4, 4], "stack_dilations": [1, 3]},
                         "discriminator": _SMALL_DISC},
    "wavenet": {"generator": {"layers": 4, "stacks": 2, "residual_channels": 8, "gate_channels": 16,
                              "skip_channels": 8, "output": "categorical"}},
    "waveglow": {"generator": {"n_flows": 4, "n_group": 8, "early_every": 2, "early_size": 2, "wn_layers": 2,
                               "wn_channels": 8}},
}


def tiny_train_conf(name: str, **overrides) -> dict:
    conf = {**TINY[name], "max_steps": 2, "batch_size": 2, "segment_frames": 4, "disc_start_step": 1,
            "log_interval": 1, "eval_interval": 2, "save_interval": 2, "dev_utts": 1}
    conf.update(overrides)
    return conf


def make_corpus(root) -> tuple[Path, Path]:
    """``root/data/{train,dev}/wav.scp`` (vowels with silent edges) and their dumped log-mels
    under ``root/dump/{train,dev}``; returns (data root, dump dir)."""
    root = Path(root)
    for split, n in (("train", 3), ("dev", 1)):
        lines = []
        for i in range(n):
            utt = f"spk1_{split}{i:02d}"
            wav = write_wav(root / "wav" / f"{utt}.wav",
                            vowel(0.25 + 0.05 * i, f0=120.0 + 20 * i, seed=i, silence=0.1), FS)
            lines.append(f"{utt} {wav}\n")
        data = root / "data" / split
        data.mkdir(parents=True, exist_ok=True)
        (data / "wav.scp").write_text("".join(sorted(lines)))
        dump_feats(FEATS, data, root / "dump" / split, nj=1, progress=False)
    return root / "data", root / "dump"


def train_tiny(name: str, corpus: tuple[Path, Path], out, **overrides) -> dict:
    voc = {"name": name, "conf": {}, "train": tiny_train_conf(name, **overrides)}
    return train_vocoder(name, voc, FEATS, corpus[0], corpus[1], out, progress=False)


def check_trains_and_generates(name: str, corpus, out) -> None:
    """A few training steps on the tiny corpus, then synthesis from model.pt: one waveform of
    frames x hop samples per input, finite and within [-1, 1]."""
    info = train_tiny(name, corpus, out)
    assert info["steps"] == 2 and info["stopped"] == "max_steps"
    for key, value in info["history"]["train"][-1].items():
        assert np.isfinite(value), key
    assert (Path(out) / "model.pt").is_file() and (Path(out) / "curves.png").is_file()
    voc = build_vocoder(name, {"batch_size": 2}, FEATS, model_dir=out)
    assert isinstance(voc, VOCODERS[name])
    rng = np.random.default_rng(0)
    mels = [rng.normal(-4.0, 1.0, size=(n, 80)).astype(np.float32) for n in (7, 3, 5)]
    with torch.no_grad():
        wavs = voc(mels)
    assert [len(w) for w in wavs] == [7 * HOP, 3 * HOP, 5 * HOP]
    for w in wavs:
        assert w.dtype == np.float32 and np.isfinite(w).all() and np.abs(w).max() <= 1.0

"""Tiny fabricated TTS corpora (data dirs, tokens, dumped log-mels, stats) and tiny model confs
for the TTS tests.

The "speech" is learnable on purpose: every token has a fixed spectral shape held for a
number of frames set by the emotion (its speaking rate), the emotion adds a spectral tilt
and the speaker a level offset, so a model can only fit it by aligning text to frames.
"""

from __future__ import annotations

import copy
from pathlib import Path

import kaldiio
import numpy as np
import soundfile as sf

N_MELS = 16
EMOTIONS = ["neutral", "happy", "sad"]
SPEAKERS = ["spkA", "spkB"]
PHONES = list("abcdefgh")
FRAMES_PER_TOKEN = {"neutral": 3, "happy": 2, "sad": 4}
FEATS_CONF = {"fs": 8000, "n_fft": 256, "hop_length": 64, "win_length": 256, "window": "hann",
              "n_mels": N_MELS, "fmin": 0.0, "fmax": 4000.0, "log_floor": 1e-5, "resample": True,
              "trim_silence": False, "trim_top_db": 40.0, "trim_pad_ms": 20.0, "nj": 1}

TINY_COMMON = {
    "embed_dim": 16, "enc_conv_layers": 1, "enc_conv_channels": 16, "enc_conv_kernel": 3,
    "enc_lstm_dim": 16, "enc_dropout": 0.0, "speaker_dim": 4, "reduction_factor": 2,
    "prenet_dims": [16, 16], "prenet_dropout": 0.2, "attn_rnn_dim": 32, "decoder_rnn_dim": 32,
    "attn_dim": 16, "loc_channels": 4, "loc_kernel": 7, "rnn_dropout": 0.0, "postnet_layers": 2,
    "postnet_channels": 16, "postnet_kernel": 3, "postnet_dropout": 0.0,
    "guided_attn_weight": 1.0, "guided_attn_sigma": 0.3,
}
TINY_MODEL_CONF = {
    "tacotron2": dict(TINY_COMMON, use_speaker=True, use_emotion=True, emotion_dim=4),
    # like conf/tts/gst.yaml: learned durations (no attention), semi-supervised style; the other
    # backends keep the attention decoder here, so both alignments are tested everywhere
    "gst": dict(TINY_COMMON, use_speaker=True, gst_tokens=4, gst_heads=2, style_dim=8,
                ref_channels=[4, 4], ref_gru_dim=8, style_emotion_weight=1.0, alignment="durations",
                duration_model={"align_channels": 8, "predictor_channels": 8, "bin_loss_start": 2,
                                "bin_loss_warmup": 2}),
    "vae": dict(TINY_COMMON, use_speaker=True, latent_dim=4, ref_channels=[4, 4], ref_gru_dim=8,
                context_feedback=False, kl_weight=0.01, kl_anneal_steps=10, kl_floor=0.05,
                latent_emotion_weight=1.0),
    "emo_dnn": dict(TINY_COMMON, use_speaker=True, emotion_dim=4, prosody_layers=1, prosody_hidden=8,
                    prosody_dim=4, prosody_target="attention", prosody_combine="concat"),
    "emo_cvae": dict(TINY_COMMON, use_speaker=True, latent_dim=2, ref_channels=[4, 4], ref_gru_dim=8,
                     context_feedback=False, kl_weight=0.01, kl_anneal_steps=10, kl_floor=0.05),
}
TINY_TRAIN = {"seed": 3, "max_steps": 20, "batch_frames": 400, "max_batch_size": 8, "bucket_shuffle": True,
              "optimizer": {"name": "adam", "lr": 3.0e-3, "betas": [0.9, 0.999], "eps": 1.0e-6,
                            "weight_decay": 0.0},
              "scheduler": {"name": "none", "warmup_steps": 0, "min_lr": 0.0},
              "grad_clip": 1.0, "eval_interval": 10, "save_interval": 5, "keep_checkpoints": 3,
              "log_interval": 5, "ngpu": 0, "amp": False, "num_threads": 1, "max_minutes": None}
TINY_DECODE = {"split": "eval", "threshold": 0.5, "maxlenratio": 6.0, "minlenratio": 0.0,
               "style": "emotion_mean", "reference_wav": None, "num_attention_plots": 2, "seed": 1}


def tiny_conf(model: str = "gst", **train_overrides) -> dict:
    """The JSON conf slice steps/train_tts.py and steps/decode.py receive."""
    train = copy.deepcopy(TINY_TRAIN)
    train.update(train_overrides)
    return {"tts": {"model": model, "model_conf": copy.deepcopy(TINY_MODEL_CONF[model]), "train": train,
                    "decode": copy.deepcopy(TINY_DECODE)},
            "emotions": list(EMOTIONS), "feats": dict(FEATS_CONF), "token_type": "phn"}


def fake_mel(tokens: list[str], speaker: str, emotion: str, rng: np.random.Generator) -> np.ndarray:
    base = np.random.default_rng(0).normal(size=(len(PHONES), N_MELS)).astype(np.float32)
    k = FRAMES_PER_TOKEN[emotion]
    frames = [base[PHONES.index(t)] for t in tokens for _ in range(k)]
    mel = np.stack(frames) - 4.0
    mel += np.linspace(-1, 1, N_MELS) * (EMOTIONS.index(emotion) - 1) * 0.8
    mel += 0.5 * SPEAKERS.index(speaker)
    mel += rng.normal(scale=0.05, size=mel.shape)
    return mel.astype(np.float32)


def make_corpus(root, sentences: dict[str, int] | None = None, seed: int = 0) -> dict:
    """Write a tiny corpus under ``root``; returns the paths the steps take.

    ``sentences`` = sentences per (speaker, emotion) per split (default train 4, dev 1, eval 1).
    """
    root = Path(root)
    sentences = sentences or {"train": 4, "dev": 1, "eval": 1}
    rng = np.random.default_rng(seed)
    data_root = root / "data" / "tiny"
    tokens_dir = data_root / "tokens" / "phn"
    dump = root / "dump" / "tiny" / "mel16"
    tokens_dir.mkdir(parents=True)
    (tokens_dir / "token_list").write_text("\n".join(["<pad>", "<unk>", *PHONES, "<eos>"]) + "\n")
    all_train = []
    for split, n in sentences.items():
        split_dir = data_root / split
        split_dir.mkdir(parents=True)
        (tokens_dir / split).mkdir()
        (dump / split).mkdir(parents=True)
        utt2spk, utt2emo, text, mats = {}, {}, {}, {}
        for spk in SPEAKERS:
            for s in range(n):
                toks = list(rng.choice(PHONES, size=int(rng.integers(4, 9))))
                for emo in EMOTIONS:
                    utt = f"{spk}_{split}{s:02d}_{emo}"
                    utt2spk[utt], utt2emo[utt], text[utt] = spk, emo, " ".join(toks)
                    mats[utt] = fake_mel(toks, spk, emo, rng)
        keys = sorted(utt2spk, key=lambda k: k.encode())
        for name, mapping in (("utt2spk", utt2spk), ("utt2emo", utt2emo)):
            (split_dir / name).write_text("".join(f"{k} {mapping[k]}\n" for k in keys))
        (tokens_dir / split / "text_tokens").write_text("".join(f"{k} {text[k]}\n" for k in keys))
        kaldiio.save_ark(str(dump / split / "feats.ark"), {k: mats[k] for k in keys},
                         scp=str(dump / split / "feats.scp"))
        (dump / split / "utt2num_frames").write_text("".join(f"{k} {mats[k].shape[0]}\n" for k in keys))
        if split == "train":
            all_train = [mats[k] for k in keys]
    frames = np.concatenate(all_train)
    np.savez(dump / "stats.npz", mean=frames.mean(0).astype(np.float32),
             std=frames.std(0).astype(np.float32), count=np.int64(len(frames)))
    wav = root / "ref.wav"
    t = np.arange(int(0.4 * FEATS_CONF["fs"])) / FEATS_CONF["fs"]
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), FEATS_CONF["fs"])
    return {"data_root": data_root, "tokens": tokens_dir, "dump": dump, "ref_wav": wav}

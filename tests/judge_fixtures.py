"""A tiny transcribed eSpeak NG corpus for the recognizer and the judges' tests.

Short sentences over a small word set, spoken by two voices (``en-us+m1`` and ``en-us+f4``),
written as Kaldi data dirs (wav.scp, text, utt2spk, utt2emo) with dumped log-mel and stats
exactly where the stages look (the helpers of ser_fixtures do the dumping).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from pytorch_backend import espeak
from tests.ser_fixtures import FEATS_CONF, dump_corpus

SENTENCES = {
    "train": ["the cat sat.", "a dog ran!", "the dog sat.", "a cat ran.", "the red cat.", "a red dog?"],
    "dev": ["the cat ran.", "a dog sat."],
    "eval": ["the red dog ran.", "a cat sat."],
}
VOICES = {"m1": "en-us+m1", "f4": "en-us+f4"}
EMOTIONS = ["neutral", "happy"]


def speak(text: str, voice: str, rate: int = 170) -> tuple[np.ndarray, int]:
    """float32 audio of ``text`` (deterministic: a fresh library copy per call)."""
    audio, fs = espeak.synthesize_isolated(text, voice=voice, rate=rate)
    return audio.astype(np.float32) / 32768.0, fs


def make_transcribed_corpus(root: Path, sentences=SENTENCES, voices=VOICES) -> Path:
    """``root/wav/*.wav`` + ``root/data/<split>/{wav.scp,text,utt2spk,utt2emo}``; returns root/data."""
    root = Path(root)
    (root / "wav").mkdir(parents=True, exist_ok=True)
    for split, texts in sentences.items():
        rows = []
        for spk, voice in voices.items():
            for i, text in enumerate(texts):
                utt = f"{spk}-{split}-{i:02d}"
                wav, fs = speak(text, voice)
                assert fs == FEATS_CONF["fs"]
                path = root / "wav" / f"{utt}.wav"
                sf.write(path, wav, fs, subtype="PCM_16")
                rows.append((utt, str(path), text, spk, EMOTIONS[i % 2]))
        rows.sort(key=lambda r: r[0].encode())
        d = root / "data" / split
        d.mkdir(parents=True, exist_ok=True)
        for name, col in (("wav.scp", 1), ("text", 2), ("utt2spk", 3), ("utt2emo", 4)):
            (d / name).write_text("".join(f"{r[0]} {r[col]}\n" for r in rows))
    return root / "data"


def transcribed_setup(root: Path) -> dict:
    """{"data", "dump"} of the tiny corpus under ``root``."""
    data = make_transcribed_corpus(root / "corpus")
    dump = dump_corpus(data, root / "dump", ["train", "dev", "eval"])
    return {"data": data, "dump": dump}


# A recognizer small and quick enough for the tests (the real settings are in conf/eval.yaml).
ASR_CONF = {"model": "conv_ctc", "model_conf": {"channels": 64, "num_blocks": 2, "kernel_size": 5},
            "train": {"seed": 3, "max_steps": 40, "batch_size": 6, "lr": 3e-3, "warmup_steps": 5,
                      "eval_interval": 20, "save_interval": 10, "log_interval": 10, "keep_checkpoints": 0}}


def asr_step_conf(asr=None) -> dict:
    """The --conf slice of steps/train_asr.py."""
    return {"language": "en", "feats": FEATS_CONF, "asr": asr or ASR_CONF}

"""A tiny synthetic emotional corpus for the SER / evaluation tests.

Each utterance is a row of vowel-like syllables (harmonic tones shaped by two formants)
whose speaking rate, pitch, pitch range and loudness depend on the emotion, like the
embedded eSpeak corpus. The helpers write Kaldi data dirs, dumped log-mel ark/scp
(through the toolkit's LogMelExtractor) and stats.npz, exactly where the stages look.
"""

from __future__ import annotations

from pathlib import Path

import kaldiio
import numpy as np
import soundfile as sf

from pytorch_backend.feats.logmel import LogMelExtractor

FS = 22050
FEATS_CONF = {"fs": FS, "n_fft": 1024, "hop_length": 256, "win_length": 1024, "window": "hann",
              "n_mels": 80, "fmin": 0.0, "fmax": 8000.0, "log_floor": 1e-5, "resample": True,
              "trim_silence": True, "trim_top_db": 40.0, "trim_pad_ms": 20.0, "nj": 1}

# syllables per second, mean F0 (Hz), pitch range (log-F0 swing), peak amplitude
STYLES = {
    "neutral": {"rate": 4.0, "pitch": 120.0, "range": 0.08, "volume": 0.25},
    "happy": {"rate": 5.0, "pitch": 170.0, "range": 0.30, "volume": 0.45},
    "sad": {"rate": 2.8, "pitch": 100.0, "range": 0.04, "volume": 0.12},
    "angry": {"rate": 5.5, "pitch": 140.0, "range": 0.18, "volume": 0.80},
}
EMOTIONS = list(STYLES)
VOWELS = [(730, 1090), (270, 2290), (530, 1840), (300, 870), (640, 1190)]  # (F1, F2) Hz


def synth_utterance(emotion: str, seconds: float, rng: np.random.Generator, fs: int = FS) -> np.ndarray:
    """float32 mono audio of about ``seconds`` (plus 0.1 s of silence at both ends)."""
    style = STYLES[emotion]
    pitch = style["pitch"] * rng.uniform(0.93, 1.07)
    rate = style["rate"] * rng.uniform(0.9, 1.1)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    f0 = pitch * np.exp(style["range"] * np.sin(2 * np.pi * 0.8 * t + rng.uniform(0, 2 * np.pi)))
    phase = 2 * np.pi * np.cumsum(f0) / fs
    # syllable boundaries and vowels
    bounds = [0]
    while bounds[-1] < n:
        bounds.append(bounds[-1] + int(fs / rate * rng.uniform(0.7, 1.3)))
    env = np.zeros(n)
    out = np.zeros(n)
    for a, b in zip(bounds[:-1], bounds[1:]):
        b = min(b, n)
        if b - a < 16:
            continue
        f1, f2 = VOWELS[int(rng.integers(len(VOWELS)))]
        seg_f0 = f0[a:b]
        seg = np.zeros(b - a)
        for h in range(1, int(4000 / pitch)):
            freq = h * seg_f0
            gain = (np.exp(-((freq - f1) / 120.0) ** 2) + 0.6 * np.exp(-((freq - f2) / 180.0) ** 2)
                    + 0.05 / h)
            seg += gain * np.sin(h * phase[a:b])
        out[a:b] = seg
        env[a:b] = np.hanning(b - a) ** 0.5
    x = out * env
    x = style["volume"] * x / (np.max(np.abs(x)) + 1e-9)
    x += 3e-4 * rng.standard_normal(n)
    pad = np.zeros(int(0.1 * fs))
    return np.concatenate([pad, x, pad]).astype(np.float32)


def make_corpus(root: Path, per_emotion: dict, seconds: float = 1.0, seed: int = 0,
                emotions=EMOTIONS) -> Path:
    """Write ``root/wav/*.wav`` and ``root/data/<split>/{wav.scp,utt2emo,utt2spk}``.

    ``per_emotion``: {split: utterances per emotion}. Returns ``root/data``.
    """
    rng = np.random.default_rng(seed)
    root = Path(root)
    (root / "wav").mkdir(parents=True, exist_ok=True)
    for split, count in per_emotion.items():
        d = root / "data" / split
        d.mkdir(parents=True, exist_ok=True)
        rows = []
        for emo in emotions:
            for i in range(count):
                utt = f"spk1-{split}-{emo}-{i:03d}"
                path = root / "wav" / f"{utt}.wav"
                sf.write(path, synth_utterance(emo, seconds, rng), FS, subtype="PCM_16")
                rows.append((utt, str(path), emo))
        rows.sort(key=lambda r: r[0].encode())
        (d / "wav.scp").write_text("".join(f"{u} {p}\n" for u, p, _ in rows))
        (d / "utt2emo").write_text("".join(f"{u} {e}\n" for u, _, e in rows))
        (d / "utt2spk").write_text("".join(f"{u} spk1\n" for u, _, _ in rows))
    return root / "data"


def dump_corpus(data_root: Path, dump: Path, splits) -> Path:
    """Log-mel ark/scp of each split (from its wav.scp) and train stats.npz under ``dump``."""
    ext = LogMelExtractor.from_conf(FEATS_CONF)
    train_frames = []
    for split in splits:
        out = Path(dump) / split
        out.mkdir(parents=True, exist_ok=True)
        with kaldiio.WriteHelper(f"ark,scp:{out / 'feats.ark'},{out / 'feats.scp'}") as writer:
            for line in (Path(data_root) / split / "wav.scp").read_text().splitlines():
                utt, path = line.split(maxsplit=1)
                wav, _ = sf.read(path, dtype="float32")
                feats = ext(wav)
                writer(utt, feats)
                if split == "train":
                    train_frames.append(feats)
    frames = np.concatenate(train_frames)
    np.savez(Path(dump) / "stats.npz", mean=frames.mean(0).astype(np.float32),
             std=frames.std(0).astype(np.float32), count=np.int64(len(frames)))
    return Path(dump)


# A quick classifier set-up for the tests (the real one is in conf/eval.yaml).
SER_CONF = {"model": "cnn_pool", "model_conf": {"channels": 32, "hidden": 64},
            "train": {"seed": 1, "max_steps": 60, "batch_size": 16, "lr": 3e-3, "weight_decay": 1e-4,
                      "eval_interval": 20, "crop_frames": 60}}


def ser_step_conf(ser=None) -> dict:
    """The --conf slice of steps/train_ser.py."""
    return {"emotions": EMOTIONS, "feats": FEATS_CONF, "feats_name": "mel80", "ser": ser or SER_CONF}


def tiny_setup(root: Path, train_ser: bool = True, eval_per_emotion: int = 5) -> dict:
    """Corpus + dump (+ a trained classifier): {"data", "dump", "ser"} paths under ``root``."""
    data = make_corpus(root / "corpus", {"train": 12, "dev": 4, "eval": eval_per_emotion}, seconds=1.0)
    dump = dump_corpus(data, root / "dump", ["train", "dev", "eval"])
    out = {"data": data, "dump": dump, "ser": root / "exp" / "ser"}
    if train_ser:
        from pytorch_backend.ser.train import train_ser as run

        run(ser_step_conf(), data, dump, out["ser"], progress=False)
    return out

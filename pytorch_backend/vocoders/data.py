"""Training data of the neural vocoders: the corpus's dumped log-mels paired with its audio,
cut into random fixed-length segments.

Features were computed from silence-trimmed audio (feats conf ``trim_silence``), so the audio
is trimmed here with the same ``LogMelExtractor.trim`` and must give exactly the dumped frame
count (``1 + samples // hop``); a mismatch (features dumped with another conf) is a DataError
naming the utterance. Frame ``i`` is paired with samples ``[i * hop, (i + 1) * hop)`` (audio
zero-padded to ``frames * hop``), so a segment of F frames starting at frame s is
``mel[s:s+F]`` and ``audio[s*hop:(s+F)*hop]`` - what the generator maps at inference.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from pytorch_backend.errors import DataError
from pytorch_backend.feats.audio import load_audio
from pytorch_backend.feats.dump import read_wav_scp
from pytorch_backend.feats.logmel import LogMelExtractor
from pytorch_backend.vocoders.synth import load_feats_scp

log = logging.getLogger("emotts.vocoder")


class SegmentData:
    """All (log-mel, audio) pairs of one split in memory; ``batch`` draws random segments."""

    def __init__(self, data_dir, feats_scp, feats_conf: dict, allow_pipes: bool = False,
                 max_utts: int | None = None, progress: bool = False):
        data_dir = Path(data_dir)
        ext = LogMelExtractor.from_conf(feats_conf)
        self.hop, self.n_mels = ext.hop_length, ext.n_mels
        self.pad_value = float(np.log(ext.log_floor))
        feats = load_feats_scp(feats_scp, self.n_mels)
        if max_utts:
            feats = feats[:int(max_utts)]
        wav_scp = data_dir / "wav.scp"
        entries = {e.utt: e for e in read_wav_scp(wav_scp)}
        self.utts, self.mels, self.wavs = [], [], []
        for utt, mel in tqdm(feats, desc=f"load {data_dir.name}", unit="utt", disable=not progress):
            entry = entries.get(utt)
            if entry is None:
                raise DataError(feats_scp, f"utterance has features but no audio in {wav_scp}", utt=utt)
            wav = load_audio(entry.spec, ext.fs, resample=bool(feats_conf.get("resample", True)),
                             allow_pipes=allow_pipes, source=wav_scp, line=entry.line, utt=utt)
            if ext.trim_silence:
                wav = ext.trim(wav)
            frames = ext.num_frames(len(wav))
            if frames != len(mel):
                raise DataError(wav_scp, f"audio gives {frames} frames after trimming, the features in "
                                         f"{feats_scp} have {len(mel)} (dumped with another feats conf?)",
                                line=entry.line, utt=utt)
            padded = np.zeros(frames * self.hop, dtype=np.float32)
            padded[:len(wav)] = wav
            self.utts.append(utt)
            self.mels.append(np.ascontiguousarray(mel, dtype=np.float32))
            self.wavs.append(padded)
        log.info("loaded %d utterances (%.1f s of audio) from %s", len(self.utts),
                 sum(len(w) for w in self.wavs) / ext.fs, data_dir)

    def __len__(self) -> int:
        return len(self.utts)

    def segment(self, index: int, start: int, frames: int) -> tuple[np.ndarray, np.ndarray]:
        """``frames`` frames from ``start`` of utterance ``index`` (padded past its end)."""
        mel, wav = self.mels[index], self.wavs[index]
        m = np.full((frames, self.n_mels), self.pad_value, dtype=np.float32)
        w = np.zeros(frames * self.hop, dtype=np.float32)
        part = mel[start:start + frames]
        m[:len(part)] = part
        wpart = wav[start * self.hop:(start + frames) * self.hop]
        w[:len(wpart)] = wpart
        return m, w

    def batch(self, rng: np.random.Generator, batch_size: int, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Random segments: (mel (B, n_mels, frames), audio (B, frames * hop))."""
        mels, wavs = [], []
        for index in rng.integers(0, len(self.utts), size=batch_size):
            start = int(rng.integers(0, max(1, len(self.mels[index]) - frames + 1)))
            m, w = self.segment(int(index), start, frames)
            mels.append(m)
            wavs.append(w)
        return (torch.from_numpy(np.stack(mels)).transpose(1, 2).contiguous(),
                torch.from_numpy(np.stack(wavs)))

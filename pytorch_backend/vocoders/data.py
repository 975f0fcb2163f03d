"""Training data of the neural vocoders: the corpus's dumped log-mels paired with its audio,
cut into random fixed-length segments.

Features were computed from silence-trimmed audio (feats conf ``trim_silence``), so the audio
is trimmed here with the same ``LogMelExtractor.trim`` and must give exactly the dumped frame
count (``1 + samples // hop``); a mismatch (features dumped with another conf) is a DataError
naming the utterance. Frame ``i`` is paired with samples ``[i * hop, (i + 1) * hop)`` (audio
zero-padded to ``frames * hop``), so a segment of F frames starting at frame s is
``mel[s:s+F]`` and ``audio[s*hop:(s+F)*hop]`` - what the generator maps at inference.

Memory: by default nothing of the split is held. Construction reads each utterance's audio
once (to find its trimmed region and check it against the mel's frame count) and keeps an
index: per utterance its frame count, the ark position of its mel and where its trimmed audio
lies. A segment then reads only its rows of the mel (one positioned read in the ark) and only
its samples of the wav file (soundfile with start/stop). Audio that cannot be sliced from its
file in place (a piped wav.scp entry, or a rate other than the feature rate, resampled) is
written once, trimmed and as float32, into an unnamed temporary file (``cache_dir``, default
the system's temporary directory; removed when the data object goes) and sliced from there.
``preload=True`` keeps every mel and padded waveform in memory instead (small corpora). Both
give the same segments, bit for bit.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from tqdm import tqdm

from pytorch_backend.data.feats_table import FeatsTable
from pytorch_backend.errors import DataError
from pytorch_backend.feats.audio import is_pipe, load_audio
from pytorch_backend.feats.dump import read_wav_scp
from pytorch_backend.feats.logmel import LogMelExtractor
from pytorch_backend.io.kaldi_map import c_sorted
from pytorch_backend.vocoders.synth import check_utt_filename

log = logging.getLogger("emotts.vocoder")


class _AudioRef:
    """Where the trimmed audio of one utterance lies: ``path`` (a wav file, or None for the spill
    file), ``offset`` (first trimmed sample in it), ``length`` (trimmed samples)."""

    __slots__ = ("path", "offset", "length")

    def __init__(self, path, offset: int, length: int):
        self.path, self.offset, self.length = path, int(offset), int(length)


class _Utterances(Sequence):
    """Whole utterances of a :class:`SegmentData` read on access: ``mels[i]`` (frames, n_mels),
    ``wavs[i]`` (frames * hop,) - the interface of the in-memory lists."""

    def __init__(self, data: "SegmentData", kind: str):
        self._data, self._kind = data, kind

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        frames = self._data.frames[index]
        if self._kind == "mel":
            return self._data._mel_rows(index, 0, frames)
        return self._data._audio(index, 0, frames * self._data.hop)


class SegmentData:
    """(log-mel, audio) pairs of one split; ``batch`` draws random segments.

    ``mels``/``wavs`` give whole utterances by index (lists with ``preload``, read-on-access
    views otherwise); ``frames`` their frame counts; ``utts`` their ids (C order).
    """

    def __init__(self, data_dir, feats_scp, feats_conf: dict, allow_pipes: bool = False,
                 max_utts: int | None = None, progress: bool = False, preload: bool = False,
                 cache_dir=None):
        data_dir = Path(data_dir)
        feats_scp = Path(feats_scp)
        ext = LogMelExtractor.from_conf(feats_conf)
        self.hop, self.n_mels, self.fs = ext.hop_length, ext.n_mels, ext.fs
        self.pad_value = float(np.log(ext.log_floor))
        self.preload = bool(preload)
        self._table = FeatsTable(feats_scp, "features")
        if not len(self._table):
            raise DataError(feats_scp, "feats scp is empty")
        utts = c_sorted(self._table.utts())
        for utt in utts:
            check_utt_filename(utt, feats_scp, self._table.line(utt))
        if max_utts:
            utts = utts[:int(max_utts)]
        wav_scp = data_dir / "wav.scp"
        entries = {e.utt: e for e in read_wav_scp(wav_scp)}
        resample = bool(feats_conf.get("resample", True))
        self.utts: list[str] = []
        self.frames: list[int] = []
        self._refs: list[_AudioRef] = []
        self._spill = None
        self._spill_dir = cache_dir
        self._spill_len = 0
        mels, wavs = [], []
        seconds = 0.0
        for utt in tqdm(utts, desc=f"index {data_dir.name}", unit="utt", disable=not progress):
            entry = entries.get(utt)
            if entry is None:
                raise DataError(feats_scp, f"utterance has features but no audio in {wav_scp}", utt=utt)
            if self.preload:
                mel = self._table.load(utt)
                shape = mel.shape
            else:
                shape = self._table.shape(utt)
            if len(shape) != 2 or shape[1] != self.n_mels or shape[0] == 0:
                raise self._table.error(utt, f"expected a frames x {self.n_mels} log-mel matrix, got shape "
                                             f"{tuple(shape)}")
            wav = load_audio(entry.spec, ext.fs, resample=resample, allow_pipes=allow_pipes,
                             source=wav_scp, line=entry.line, utt=utt)
            start, end = ext.trim_bounds(wav) if ext.trim_silence else (0, len(wav))
            frames = ext.num_frames(end - start)
            if frames != shape[0]:
                raise DataError(wav_scp, f"audio gives {frames} frames after trimming, the features in "
                                         f"{feats_scp} have {shape[0]} (dumped with another feats conf?)",
                                line=entry.line, utt=utt)
            self.utts.append(utt)
            self.frames.append(int(frames))
            seconds += (end - start) / ext.fs
            if self.preload:
                padded = np.zeros(frames * self.hop, dtype=np.float32)
                padded[:end - start] = wav[start:end]
                mels.append(np.ascontiguousarray(mel, dtype=np.float32))
                wavs.append(padded)
            elif self._in_place(entry.spec, ext.fs):
                self._refs.append(_AudioRef(entry.spec.strip(), start, end - start))
            else:
                self._refs.append(self._write_spill(wav[start:end]))
        if self.preload:
            self.mels, self.wavs = mels, wavs
        else:
            self.mels, self.wavs = _Utterances(self, "mel"), _Utterances(self, "wav")
        log.info("%s %d utterances (%.1f s of audio) from %s%s", "loaded" if self.preload else "indexed",
                 len(self.utts), seconds, data_dir,
                 f"; {self._spill_len / ext.fs:.1f} s of it cached as float32" if self._spill_len else "")

    # -- where audio is read from -------------------------------------------------------------
    @staticmethod
    def _in_place(spec: str, fs: int) -> bool:
        """Whether the audio can be sliced from its file as it is (a file at the feature rate)."""
        if is_pipe(spec):
            return False
        try:
            return sf.info(spec.strip()).samplerate == fs
        except (sf.LibsndfileError, RuntimeError, OSError):
            return False

    def _write_spill(self, audio: np.ndarray) -> _AudioRef:
        if self._spill is None:
            self._spill = tempfile.TemporaryFile(dir=self._spill_dir, prefix="emotts-voc-audio-")
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        self._spill.seek(self._spill_len * 4)
        self._spill.write(audio.tobytes())
        self._spill.flush()
        ref = _AudioRef(None, self._spill_len, len(audio))
        self._spill_len += len(audio)
        return ref

    def close(self) -> None:
        """Remove the temporary audio file (if any); the object is unusable afterwards."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # -- reading ------------------------------------------------------------------------------
    def _mel_rows(self, index: int, start: int, stop: int) -> np.ndarray:
        if self.preload:
            return self.mels[index][start:stop]
        return self._table.rows(self.utts[index], start, stop)

    def _audio(self, index: int, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` of the trimmed audio zero-padded to ``frames * hop``."""
        out = np.zeros(max(0, stop - start), dtype=np.float32)
        if self.preload:
            part = self.wavs[index][start:stop]
            out[:len(part)] = part
            return out
        ref = self._refs[index]
        a, b = max(0, start), min(stop, ref.length)
        if b <= a:
            return out
        if ref.path is None:
            buf = os.pread(self._spill.fileno(), (b - a) * 4, (ref.offset + a) * 4)
            part = np.frombuffer(buf, dtype=np.float32)
        else:
            try:
                audio = sf.read(ref.path, start=ref.offset + a, stop=ref.offset + b, dtype="float32",
                                always_2d=True)[0]
            except (sf.LibsndfileError, RuntimeError, OSError) as exc:
                raise DataError(ref.path, f"cannot read audio samples {ref.offset + a}-{ref.offset + b}: {exc}",
                                utt=self.utts[index]) from None
            part = audio.mean(axis=1) if audio.shape[1] > 1 else audio[:, 0]
            part = np.clip(part, -1.0, 1.0)  # as load_audio does
        if len(part) != b - a:
            raise DataError(ref.path or "<audio cache>", f"expected {b - a} samples from {ref.offset + a}, "
                                                         f"got {len(part)} (file changed?)", utt=self.utts[index])
        out[a - start:b - start] = part
        return out

    def __len__(self) -> int:
        return len(self.utts)

    def segment(self, index: int, start: int, frames: int) -> tuple[np.ndarray, np.ndarray]:
        """``frames`` frames from ``start`` of utterance ``index`` (padded past its end)."""
        m = np.full((frames, self.n_mels), self.pad_value, dtype=np.float32)
        part = self._mel_rows(index, start, start + frames)
        m[:len(part)] = part
        w = self._audio(index, start * self.hop, (start + frames) * self.hop)
        return m, w

    def batch(self, rng: np.random.Generator, batch_size: int, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Random segments: (mel (B, n_mels, frames), audio (B, frames * hop))."""
        mels, wavs = [], []
        for index in rng.integers(0, len(self.utts), size=batch_size):
            start = int(rng.integers(0, max(1, self.frames[index] - frames + 1)))
            m, w = self.segment(int(index), start, frames)
            mels.append(m)
            wavs.append(w)
        return (torch.from_numpy(np.stack(mels)).transpose(1, 2).contiguous(),
                torch.from_numpy(np.stack(wavs)))

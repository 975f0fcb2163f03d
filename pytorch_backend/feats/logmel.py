"""The one log-mel definition of the toolkit (see docs/ARCHITECTURE.md).

``logmel = ln(max(mel_fb @ |STFT(wav)|, log_floor))`` with a librosa mel filterbank (slaney
norm, htk=False), a magnitude STFT with ``center=True`` and reflect padding, frames x n_mels,
float32. Feature dumping, the emotion classifier and evaluation all call this class, so
their features agree bit for bit.

Speed: the filterbank and the analysis window are built once per extractor and the STFT
runs in torch (pocketfft/MKL, single precision), which is several times faster per file
than ``librosa.feature.melspectrogram`` (it rebuilds the filterbank on every call and works
in double precision); ``benchmarks/bench_feats.py`` measures the gain.
"""

from __future__ import annotations

import inspect

import librosa
import numpy as np
import torch


class LogMelExtractor:
    """Trim leading/trailing silence, then compute log-mel frames of a waveform."""

    def __init__(self, fs: int = 22050, n_fft: int = 1024, hop_length: int = 256,
                 win_length: int | None = 1024, window: str = "hann", n_mels: int = 80,
                 fmin: float = 0.0, fmax: float | None = 8000.0, log_floor: float = 1e-5,
                 trim_silence: bool = True, trim_top_db: float = 40.0, trim_pad_ms: float = 20.0,
                 **ignored):
        # ``ignored`` takes the feats conf keys that concern other code (nj, resample).
        self.fs = int(fs)
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.win_length = int(win_length or n_fft)
        if self.win_length > self.n_fft:
            raise ValueError(f"win_length {self.win_length} exceeds n_fft {self.n_fft}")
        self.window = window
        self.n_mels = int(n_mels)
        self.fmin = float(fmin)
        self.fmax = float(fmax) if fmax is not None else self.fs / 2.0
        self.log_floor = float(log_floor)
        self.trim_silence = bool(trim_silence)
        self.trim_top_db = float(trim_top_db)
        self.trim_pad_ms = float(trim_pad_ms)
        self._mel = librosa.filters.mel(sr=self.fs, n_fft=self.n_fft, n_mels=self.n_mels,
                                        fmin=self.fmin, fmax=self.fmax, htk=False,
                                        norm="slaney").astype(np.float32)
        self._mel_t = torch.from_numpy(self._mel.T.copy())  # (n_freq, n_mels)
        # The window padded to n_fft and centred, exactly as librosa.stft does.
        win = librosa.filters.get_window(window, self.win_length, fftbins=True)
        win = librosa.util.pad_center(win, size=self.n_fft)
        self._window = torch.from_numpy(np.asarray(win, dtype=np.float32))

    @classmethod
    def from_conf(cls, conf: dict) -> "LogMelExtractor":
        """Build from a feats conf (conf/feats/*.yaml), ignoring keys that are not ours."""
        params = inspect.signature(cls.__init__).parameters
        return cls(**{k: v for k, v in conf.items() if k in params and k != "self"})

    @property
    def mel_basis(self) -> np.ndarray:
        """The mel filterbank, n_mels x (n_fft/2 + 1), float32 (a copy)."""
        return self._mel.copy()

    @property
    def stft_window(self) -> np.ndarray:
        """The analysis window, padded to n_fft (what the STFT multiplies each frame by)."""
        return self._window.numpy().copy()

    def num_frames(self, num_samples: int) -> int:
        """Frames of a signal of ``num_samples`` samples (center=True)."""
        return 1 + num_samples // self.hop_length

    def trim(self, wav: np.ndarray) -> np.ndarray:
        """Cut leading/trailing parts quieter than ``trim_top_db`` below the peak, keeping
        ``trim_pad_ms`` of margin on each side (clipped to the signal)."""
        start, end = self.trim_bounds(wav)
        return wav if (start, end) == (0, len(wav)) else wav[start:end]

    def trim_bounds(self, wav: np.ndarray) -> tuple[int, int]:
        """``(start, end)``: the samples :meth:`trim` keeps are ``wav[start:end]``."""
        _, (start, end) = librosa.effects.trim(wav, top_db=self.trim_top_db,
                                               frame_length=self.n_fft, hop_length=self.hop_length)
        pad = int(round(self.trim_pad_ms * self.fs / 1000.0))
        start = max(0, int(start) - pad)
        end = min(len(wav), int(end) + pad)
        if end <= start:  # nothing above the threshold: keep the signal as it is
            return 0, len(wav)
        return start, end

    def magnitude(self, wav: np.ndarray) -> torch.Tensor:
        """|STFT| of ``wav`` as a (frames, n_fft/2+1) float32 tensor (center=True, reflect)."""
        wav = np.asarray(wav, dtype=np.float32)
        if wav.ndim != 1 or wav.shape[0] == 0:
            raise ValueError(f"expected a non-empty 1-D waveform, got shape {wav.shape}")
        half = self.n_fft // 2
        # numpy's reflect padding also works for signals shorter than the padding
        # (torch's does not), and matches librosa's for the others.
        padded = torch.from_numpy(np.pad(wav, (half, half), mode="reflect"))
        spec = torch.stft(padded, n_fft=self.n_fft, hop_length=self.hop_length,
                          win_length=self.n_fft, window=self._window, center=False,
                          return_complex=True)
        return spec.abs().T

    def logmel(self, wav: np.ndarray) -> np.ndarray:
        """Log-mel frames of ``wav``: (1 + len(wav)//hop, n_mels) float32."""
        with torch.inference_mode():
            mel = self.magnitude(wav) @ self._mel_t
            out = torch.log(torch.clamp(mel, min=self.log_floor))
        return out.numpy()

    def __call__(self, wav: np.ndarray) -> np.ndarray:
        """Trim (if enabled) then log-mel."""
        if self.trim_silence:
            wav = self.trim(wav)
        return self.logmel(wav)

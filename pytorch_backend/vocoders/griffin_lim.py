"""Griffin-Lim vocoder: log-mel -> linear magnitude -> phase by fast Griffin-Lim, batched in torch.

Steps for a list of log-mel matrices (frames x n_mels, the dump scale):

1. mel magnitude = exp(log-mel), optionally raised to ``power`` (>1 sharpens harmonics);
2. linear magnitude from the mel magnitude, either with the pseudo-inverse of the mel
   filterbank clamped at zero (``pinv``), or as the non-negative least-squares solution
   (``nnls``) found by accelerated projected gradient (FISTA) on all frames at once;
3. fast Griffin-Lim (Perraudin, Balazs & Sondergaard 2013): with t_n the STFT of the
   inverse STFT of (magnitude x current phase), the next phase is that of
   c_n = t_n + momentum * (t_n - t_{n-1}); momentum 0 is the classic algorithm.

Batching: utterances are padded to a common frame count and processed in one STFT call
per iteration. The signal beyond an utterance's end is held at zero and the STFT pads with
zeros, so every utterance sees exactly the frames it would see alone: batched output equals
one-at-a-time output up to float rounding. The initial phase is seeded per utterance
(or zero), so output is deterministic. Batching pays on a GPU; on a CPU the per-iteration
element-wise work is memory-bound and a batch of long utterances falls out of cache, so
small batches (1-4) are as fast or faster (see benchmarks/bench_feats.py).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from pytorch_backend.feats.logmel import LogMelExtractor
from pytorch_backend.vocoders.base import Vocoder, VocoderArgError

PEAK = 0.95


class GriffinLim(Vocoder):
    """Griffin-Lim phase reconstruction from log-mel features (no training needed)."""

    def __init__(self, feats_conf: dict, n_iter: int = 32, momentum: float = 0.99,
                 inverse: str = "pinv", power: float = 1.0, batch_size: int = 16,
                 init: str = "random", seed: int = 0, nnls_iter: int = 100, device: str = "cpu"):
        if int(n_iter) < 0:
            raise VocoderArgError("n_iter", f"must be >= 0, got {n_iter}")
        if not 0.0 <= float(momentum) < 1.0 + 1e-9:
            raise VocoderArgError("momentum", f"must be in [0, 1], got {momentum}")
        if inverse not in ("pinv", "nnls"):
            raise VocoderArgError("inverse", f"must be 'pinv' or 'nnls', got '{inverse}'")
        if float(power) <= 0:
            raise VocoderArgError("power", f"must be > 0, got {power}")
        if int(batch_size) < 1:
            raise VocoderArgError("batch_size", f"must be >= 1, got {batch_size}")
        if init not in ("random", "zeros"):
            raise VocoderArgError("init", f"must be 'random' or 'zeros', got '{init}'")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            self.device = torch.device(device)
        except RuntimeError as exc:
            raise VocoderArgError("device", str(exc)) from None
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise VocoderArgError("device", "CUDA is not available on this machine (use cpu or auto)")
        self.n_iter = int(n_iter)
        self.momentum = float(momentum)
        self.inverse = inverse
        self.power = float(power)
        self.batch_size = int(batch_size)
        self.init = init
        self.seed = int(seed)
        self.nnls_iter = int(nnls_iter)

        extractor = LogMelExtractor.from_conf(feats_conf)
        self.fs = extractor.fs
        self.n_fft = extractor.n_fft
        self.hop_length = extractor.hop_length
        self.n_mels = extractor.n_mels
        self.window = torch.from_numpy(extractor.stft_window).to(self.device)
        mel = torch.from_numpy(extractor.mel_basis).double()  # (n_mels, n_freq)
        self.mel_basis = mel.float().to(self.device)
        self.mel_pinv = torch.linalg.pinv(mel).float().to(self.device)  # (n_freq, n_mels)
        # Lipschitz constant of the least-squares gradient: largest singular value squared.
        self._lipschitz = float(torch.linalg.matrix_norm(mel, ord=2) ** 2)

    # -- log-mel -> linear magnitude ---------------------------------------------------
    def mel_to_magnitude(self, logmel: np.ndarray) -> torch.Tensor:
        """Linear magnitude (n_freq, frames) of one log-mel matrix (frames, n_mels)."""
        logmel = np.asarray(logmel, dtype=np.float32)
        if logmel.ndim != 2 or logmel.shape[1] != self.n_mels or logmel.shape[0] == 0:
            raise ValueError(f"expected a frames x {self.n_mels} log-mel matrix, got shape {logmel.shape}")
        mel_mag = torch.exp(torch.tensor(logmel, device=self.device))  # (T, M), a copy
        lin = torch.clamp(mel_mag @ self.mel_pinv.T, min=0.0)  # (T, F)
        if self.inverse == "nnls":
            lin = self._nnls(mel_mag, lin)
        if self.power != 1.0:
            lin = lin ** self.power
        return lin.T.contiguous()

    def _nnls(self, target: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
        """min ||S B^T - target||^2 over S >= 0 by FISTA, starting from ``start`` (T, F)."""
        step = 1.0 / self._lipschitz
        basis = self.mel_basis
        x = y = start
        t = 1.0
        for _ in range(self.nnls_iter):
            grad = (y @ basis.T - target) @ basis
            x_next = torch.clamp(y - step * grad, min=0.0)
            t_next = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
            y = x_next + ((t - 1.0) / t_next) * (x_next - x)
            x, t = x_next, t_next
        return x

    # -- phase reconstruction ---------------------------------------------------------
    def _stft(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stft(x, n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.n_fft,
                          window=self.window, center=True, pad_mode="constant", return_complex=True)

    def _istft(self, spec: torch.Tensor, length: int) -> torch.Tensor:
        return torch.istft(spec, n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.n_fft,
                           window=self.window, center=True, length=length)

    def _initial_phase(self, frames: int) -> torch.Tensor:
        n_freq = self.n_fft // 2 + 1
        if self.init == "zeros":
            return torch.ones(n_freq, frames, dtype=torch.complex64)
        gen = torch.Generator().manual_seed(self.seed)  # per utterance: batching does not matter
        angle = 2.0 * math.pi * torch.rand(n_freq, frames, generator=gen)
        return torch.polar(torch.ones_like(angle), angle)

    def griffin_lim(self, mags: list[torch.Tensor]) -> list[np.ndarray]:
        """Waveforms (frames * hop samples each) whose STFT magnitudes approach ``mags``.

        ``mags`` are (n_freq, frames) tensors, all processed in one padded batch.
        """
        frames = [int(m.shape[1]) for m in mags]
        # Two spare zero frames: every sample before an utterance's end then gets the same
        # window overlap as when the utterance is processed alone.
        t_pad = max(frames) + 2
        length = t_pad * self.hop_length
        n_freq = self.n_fft // 2 + 1
        target = torch.zeros(len(mags), n_freq, t_pad, device=self.device)
        phase = torch.ones(len(mags), n_freq, t_pad, dtype=torch.complex64)
        for i, (mag, n) in enumerate(zip(mags, frames)):
            target[i, :, :n] = mag
            phase[i, :, :n] = self._initial_phase(n)
        phase = phase.to(self.device)
        ends = torch.tensor(frames, device=self.device) * self.hop_length
        inside = (torch.arange(length, device=self.device)[None, :] < ends[:, None]).float()

        previous = torch.zeros(len(mags), n_freq, t_pad, dtype=torch.complex64, device=self.device)
        for _ in range(self.n_iter):
            # In-place where possible: these tensors are large, memory traffic dominates.
            signal = self._istft(phase.mul_(target), length).mul_(inside)
            rebuilt = self._stft(signal)[..., :t_pad]
            # c = t + momentum (t - t_prev), written as a lerp from t_prev past t.
            accelerated = torch.lerp(previous, rebuilt, 1.0 + self.momentum)
            previous = rebuilt
            phase = torch.sgn(accelerated)  # z / |z| in one pass (0 where z == 0)
        signal = self._istft(phase.mul_(target), length).mul_(inside)
        out = []
        for i, n in enumerate(frames):
            wav = signal[i, :n * self.hop_length].float().cpu().numpy()
            peak = float(np.abs(wav).max()) if wav.size else 0.0
            if peak > 1.0:
                wav = wav * (PEAK / peak)
            out.append(np.ascontiguousarray(wav, dtype=np.float32))
        return out

    def __call__(self, logmels: list[np.ndarray]) -> list[np.ndarray]:
        """One float32 waveform per log-mel matrix, ``frames * hop_length`` samples long."""
        order = sorted(range(len(logmels)), key=lambda i: len(logmels[i]))  # less padding
        out: list[np.ndarray | None] = [None] * len(logmels)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start:start + self.batch_size]
                wavs = self.griffin_lim([self.mel_to_magnitude(logmels[i]) for i in chunk])
                for i, wav in zip(chunk, wavs):
                    out[i] = wav
        return out

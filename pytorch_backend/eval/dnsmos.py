"""Naturalness: DNSMOS (Reddy et al., ICASSP 2021/2022) through the ``speechmos`` package.

Its ONNX models ship inside the wheel, so nothing is downloaded. Audio is resampled to the
models' 16 kHz and clipped to [-1, 1]; a clip shorter than the models' 9.01 s input is repeated
until it is long enough, and longer ones are scored in 9.01 s windows every second and averaged
(``speechmos``'s own procedure, the one of the DNS challenge). Four numbers per utterance, on
the 1-5 MOS scale: P.835 ``sig`` (speech signal), ``bak`` (background noise), ``ovrl``
(overall), and the P.808 overall ``p808``.

The ONNX sessions are made here with an explicit thread count (one per evaluation worker).
"""

from __future__ import annotations

import os

import numpy as np

SR = 16000
KEYS = ("ovrl", "sig", "bak", "p808")
MIN_SECONDS = 0.05


def to_16k(wav: np.ndarray, fs: int) -> np.ndarray:
    """Float mono at 16 kHz, clipped to [-1, 1] (resampling may overshoot full scale)."""
    import librosa

    wav = np.asarray(wav, dtype=np.float32)
    if fs != SR:
        wav = librosa.resample(wav, orig_sr=fs, target_sr=SR)
    return np.clip(wav, -1.0, 1.0).astype(np.float32)


class Dnsmos:
    """One DNSMOS scorer (P.835 model + P.808 model)."""

    def __init__(self, personalized: bool = False, threads: int = 1):
        import onnxruntime as ort
        from speechmos import dnsmos as sm

        base = os.path.dirname(os.path.abspath(sm.__file__))
        primary = os.path.join(base, "pdnsmos_models" if personalized else "dnsmos_models", "sig_bak_ovr.onnx")
        p808 = os.path.join(base, "dnsmos_models", "model_v8.onnx")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]

        class _Scorer(sm.DNSMOS):  # speechmos's windowing and polynomial mapping, our sessions
            def __init__(self):
                self.primary_model_path = primary
                self.onnx_sess = ort.InferenceSession(primary, opts, providers=providers)
                self.p808_onnx_sess = ort.InferenceSession(p808, opts, providers=providers)

        self.personalized = bool(personalized)
        self._scorer = _Scorer()

    def score(self, wav: np.ndarray, fs: int) -> dict[str, float]:
        """``{"ovrl", "sig", "bak", "p808"}`` of one utterance."""
        audio = to_16k(wav, fs)
        if len(audio) < MIN_SECONDS * SR or not np.any(audio):
            raise ValueError(f"DNSMOS needs at least {MIN_SECONDS} s of non-silent audio, got {len(audio) / SR:.3f} s")
        out = self._scorer(audio, SR, self.personalized)
        return {"ovrl": float(out["ovrl_mos"]), "sig": float(out["sig_mos"]), "bak": float(out["bak_mos"]),
                "p808": float(out["p808_mos"])}


def summarize_dnsmos(rows: list[dict]) -> dict:
    """Mean and std over utterances of each DNSMOS number."""
    out = {"num_utts": len(rows)}
    for key in KEYS:
        values = np.asarray([r[key] for r in rows], dtype=np.float64)
        out[key] = {"mean": float(values.mean()) if len(values) else None,
                    "std": float(values.std()) if len(values) else None}
    return out

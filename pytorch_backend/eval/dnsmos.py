"""Naturalness: DNSMOS (Reddy et al., ICASSP 2021/2022) through the ``speechmos`` package.

Its ONNX models ship inside the wheel, so nothing is downloaded. Audio is resampled to the
models' 16 kHz and clipped to [-1, 1]; a clip shorter than the models' 9.01 s input is repeated
until it is long enough, and longer ones are scored in 9.01 s windows every second and averaged
(``speechmos``'s own procedure, the one of the DNS challenge). Four numbers per utterance, on
the 1-5 MOS scale: P.835 ``sig`` (speech signal), ``bak`` (background noise), ``ovrl``
(overall), and the P.808 overall ``p808``.

``max_windows`` caps the windows scored per utterance (None: all of them, the DNS procedure).
A short clip is repeated by doubling, so it gets up to 9 windows that are circular shifts of
the same speech, each costing one 9.01-s pass of the P.835 network (~0.4 s on one core):
DNSMOS was ~65% of an evaluation's time. With a cap the windows kept are spread evenly over
the ones the procedure would score (the first is always kept).

The ONNX sessions are made here with an explicit thread count (one per evaluation worker).
"""

from __future__ import annotations

import os

import numpy as np

SR = 16000
KEYS = ("ovrl", "sig", "bak", "p808")
MIN_SECONDS = 0.05
INPUT_SECONDS = 9.01  # the models' input (speechmos.dnsmos.INPUT_LENGTH)


def window_starts(num_samples: int, fs: int = SR, max_windows: int | None = None) -> tuple[int, list[int]]:
    """(length after the procedure's repeat-by-doubling, the sample offsets of the windows scored).

    The DNS procedure: a clip shorter than the input is doubled until it is long enough, then
    windows of the input length start every second while they fit. ``max_windows`` keeps at
    most that many of them, evenly spread, the first included.
    """
    if num_samples <= 0:
        raise ValueError("DNSMOS needs a non-empty clip")
    window = int(INPUT_SECONDS * fs)
    length = num_samples
    while length < window:
        length *= 2
    hops = max(1, int(np.floor(length / fs) - INPUT_SECONDS) + 1)
    starts = [i * fs for i in range(hops) if i * fs + window <= length]
    if max_windows is not None:
        if int(max_windows) < 1:
            raise ValueError(f"max_windows must be at least 1, got {max_windows}")
        if len(starts) > int(max_windows):
            keep = np.unique(np.round(np.linspace(0, len(starts) - 1, int(max_windows))).astype(int))
            starts = [starts[i] for i in keep]
    return length, starts


def to_16k(wav: np.ndarray, fs: int) -> np.ndarray:
    """Float mono at 16 kHz, clipped to [-1, 1] (resampling may overshoot full scale)."""
    import librosa

    wav = np.asarray(wav, dtype=np.float32)
    if fs != SR:
        wav = librosa.resample(wav, orig_sr=fs, target_sr=SR)
    return np.clip(wav, -1.0, 1.0).astype(np.float32)


class Dnsmos:
    """One DNSMOS scorer (P.835 model + P.808 model)."""

    def __init__(self, personalized: bool = False, threads: int = 1, max_windows: int | None = None):
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
        self.max_windows = None if max_windows is None else int(max_windows)
        if self.max_windows is not None and self.max_windows < 1:
            raise ValueError(f"max_windows must be at least 1, got {max_windows}")
        self._scorer = _Scorer()

    def score(self, wav: np.ndarray, fs: int) -> dict[str, float]:
        """``{"ovrl", "sig", "bak", "p808"}`` of one utterance."""
        audio = to_16k(wav, fs)
        if len(audio) < MIN_SECONDS * SR or not np.any(audio):
            raise ValueError(f"DNSMOS needs at least {MIN_SECONDS} s of non-silent audio, got {len(audio) / SR:.3f} s")
        length, starts = window_starts(len(audio), SR, self.max_windows)
        repeated = np.tile(audio, -(-length // len(audio)))[:length]  # = the procedure's doubling
        window = int(INPUT_SECONDS * SR)
        rows = []
        for start in starts:  # one window each: speechmos scores exactly that window
            out = self._scorer(repeated[start:start + window], SR, self.personalized)
            rows.append((out["ovrl_mos"], out["sig_mos"], out["bak_mos"], out["p808_mos"]))
        ovrl, sig, bak, p808 = (float(v) for v in np.mean(np.asarray(rows, dtype=np.float64), axis=0))
        return {"ovrl": ovrl, "sig": sig, "bak": bak, "p808": p808}


def summarize_dnsmos(rows: list[dict]) -> dict:
    """Mean and std over utterances of each DNSMOS number."""
    out = {"num_utts": len(rows)}
    for key in KEYS:
        values = np.asarray([r[key] for r in rows], dtype=np.float64)
        out[key] = {"mean": float(values.mean()) if len(values) else None,
                    "std": float(values.std()) if len(values) else None}
    return out

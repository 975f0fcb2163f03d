"""Speaker similarity: Resemblyzer's speaker encoder (GE2E, weights inside its wheel).

Each utterance becomes a unit 256-dim embedding (Resemblyzer's own preprocessing: 16 kHz,
volume normalization, long pauses cut by its voice-activity detector). An utterance of speaker
``s`` is scored by the cosine similarity of its embedding to the centroid of the REAL
recordings of ``s`` in the scored split, leaving out the real recording with the same id (so
the real-recording row is not compared with itself, and the synthesized and floor rows are
compared with the same references). A speaker with a single real recording has no reference
and is left out.
"""

from __future__ import annotations

import warnings

import librosa
import numpy as np


def speaker_similarity_enabled(conf: dict | None, num_speakers: int) -> bool:
    """``eval.speaker_similarity.enabled``: true, false, or auto (two or more speakers)."""
    enabled = (conf or {}).get("enabled", "auto")
    return num_speakers >= 2 if enabled == "auto" else bool(enabled)


class SpeakerEncoder:
    """Resemblyzer's VoiceEncoder on the CPU."""

    def __init__(self, device: str = "cpu"):
        with warnings.catch_warnings():  # webrtcvad imports pkg_resources
            warnings.simplefilter("ignore")
            from resemblyzer import VoiceEncoder, preprocess_wav
        from resemblyzer.audio import audio_norm_target_dBFS, normalize_volume, sampling_rate
        self._pre = preprocess_wav
        # Resemblyzer's own resampling and volume normalization, without its silence trimming
        self._untrimmed = lambda wav, fs: normalize_volume(
            librosa.resample(wav, orig_sr=fs, target_sr=sampling_rate), audio_norm_target_dBFS,
            increase_only=True)
        self.encoder = VoiceEncoder(device, verbose=False)

    def embed(self, wav: np.ndarray, fs: int) -> np.ndarray:
        audio = self._pre(np.asarray(wav, dtype=np.float32), source_sr=fs)
        if len(audio) == 0:
            # nothing the VAD calls speech (mush, or a very short synthesis): embed the whole
            # utterance instead, so it is scored (low) rather than stopping the evaluation
            audio = self._untrimmed(np.asarray(wav, dtype=np.float32), fs)
        if len(audio) == 0:
            raise ValueError("empty audio: nothing to embed")
        return np.asarray(self.encoder.embed_utterance(audio), dtype=np.float32)


def leave_one_out_centroids(ref_embeds: dict[str, np.ndarray], utt2spk: dict[str, str]) -> dict[str, np.ndarray]:
    """``{utt: unit centroid of the other real recordings of utt's speaker}`` (utts without one omitted)."""
    by_spk: dict[str, list[str]] = {}
    for utt in ref_embeds:
        by_spk.setdefault(utt2spk[utt], []).append(utt)
    out = {}
    for spk, utts in by_spk.items():
        total = np.sum([ref_embeds[u] for u in utts], axis=0)
        for utt in utts:
            if len(utts) < 2:
                continue
            c = (total - ref_embeds[utt]) / (len(utts) - 1)
            out[utt] = c / max(float(np.linalg.norm(c)), 1e-12)
    return out


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12))


def similarity_to_speakers(embeds: dict[str, np.ndarray], ref_embeds: dict[str, np.ndarray],
                           utt2spk: dict[str, str]) -> dict:
    """Per utterance of ``embeds``: cosine to its speaker's leave-one-out real centroid; mean/std."""
    centroids = leave_one_out_centroids(ref_embeds, utt2spk)
    per_utt = {u: cosine(e, centroids[u]) for u, e in embeds.items() if u in centroids}
    values = np.asarray(list(per_utt.values()), dtype=np.float64)
    return {"mean": float(values.mean()) if len(values) else None,
            "std": float(values.std()) if len(values) else None,
            "num_utts": len(per_utt), "num_speakers": len({utt2spk[u] for u in per_utt}), "per_utt": per_utt}

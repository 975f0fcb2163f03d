"""How decoded lengths compare with the real recordings' (a proxy for attention health)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pytorch_backend.io.kaldi_map import read_kv


def real_lengths(dump_dir, split: str) -> dict[str, int]:
    """Frames per utterance of the real features of ``split`` (empty if not dumped)."""
    path = Path(dump_dir) / split / "utt2num_frames"
    return {u: int(n) for u, n in read_kv(path).items()} if path.is_file() else {}


def length_report(decoded: dict[str, int], real: dict[str, int], emotions_of: dict[str, str]) -> dict:
    """Decoded / real length ratios: share within 20%, median, mean |log ratio|, median per emotion."""
    ratios = {u: decoded[u] / real[u] for u in decoded if u in real and real[u] > 0}
    if not ratios:
        return {}
    vals = np.array(list(ratios.values()))
    per_emo: dict[str, list[float]] = {}
    for u, r in ratios.items():
        per_emo.setdefault(emotions_of[u], []).append(r)
    return {"num_compared": len(vals), "within_20pct": float(np.mean(np.abs(vals - 1.0) <= 0.2)),
            "median_ratio": float(np.median(vals)), "mean_abs_log_ratio": float(np.mean(np.abs(np.log(vals)))),
            "per_emotion_median_ratio": {e: float(np.median(v)) for e, v in sorted(per_emo.items())}}

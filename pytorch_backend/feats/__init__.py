"""Audio loading, the log-mel definition, feature dumping and statistics."""

from pytorch_backend.feats.audio import load_audio
from pytorch_backend.feats.logmel import LogMelExtractor
from pytorch_backend.feats.stats import compute_stats, denormalize, load_stats, normalize, save_stats

__all__ = ["LogMelExtractor", "compute_stats", "denormalize", "load_audio", "load_stats", "normalize",
           "save_stats"]

"""A record of what produced an experiment: package versions, git commit, device."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path

PACKAGES = ("torch", "numpy", "scipy", "librosa", "kaldiio", "soundfile", "sentencepiece",
            "snakemake", "pysptk", "pyworld", "espeakng-loader", "matplotlib")
REPO = Path(__file__).resolve().parents[2]


def git_commit(repo: Path = REPO) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True)
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def environment_record() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    record = {"python": sys.version.split()[0], "platform": platform.platform(),
              "git_commit": git_commit(), "packages": versions}
    try:
        import torch

        record["cuda_available"] = torch.cuda.is_available()
        record["devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return record

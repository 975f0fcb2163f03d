"""Atomic training checkpoints: ``checkpoints/step_<N>.pt``, newest loadable one found on resume.

A checkpoint is written to a temporary name, fsynced and renamed, so a crash never leaves a
truncated file under a real name; a damaged newest file (a disk problem, a copy gone wrong)
is skipped with a warning and the previous one is used. Everything stored is tensors and
plain containers so ``torch.load(weights_only=True)`` reads it.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import torch

from pytorch_backend.utils.fileio import atomic_path

log = logging.getLogger("emotts.train")

STEP_RE = re.compile(r"^step_(\d+)\.pt$")


def save_atomic(obj, path) -> None:
    """``torch.save`` through a temporary file (fsync + rename), then fsync the directory so
    the rename itself survives a power cut, not only a killed process."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    _fsync_dir(Path(path).parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. a platform without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temps(directory) -> list[Path]:
    """Delete temporary files a killed writer left in ``directory`` (``.<name>.pt.*.tmp``);
    call only while no checkpoint is being written (at the start of training)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    stale = [p for p in directory.glob(".*.pt.*.tmp") if p.is_file()]
    for p in stale:
        p.unlink(missing_ok=True)
    if stale:
        log.info("removed %d temporary file(s) of an interrupted checkpoint write in %s", len(stale), directory)
    return stale


def checkpoint_path(ckpt_dir, step: int) -> Path:
    return Path(ckpt_dir) / f"step_{step}.pt"


def list_checkpoints(ckpt_dir) -> list[tuple[int, Path]]:
    """(step, path) of the checkpoints in ``ckpt_dir``, newest first."""
    ckpt_dir = Path(ckpt_dir)
    if not ckpt_dir.is_dir():
        return []
    found = []
    for p in ckpt_dir.iterdir():
        m = STEP_RE.match(p.name)
        if m:
            found.append((int(m.group(1)), p))
    return sorted(found, reverse=True)


def load_checkpoint(path, map_location="cpu") -> dict:
    return torch.load(path, map_location=map_location, weights_only=True)


def load_newest(ckpt_dir, map_location="cpu") -> tuple[dict | None, Path | None]:
    """The newest checkpoint that loads; unreadable newer ones are skipped with a warning.

    Unreadable = truncated or corrupt (torch.load fails), not a training checkpoint, or
    holding another step than its name says. Skipped files stay where they are (evidence).
    """
    for step, path in list_checkpoints(ckpt_dir):
        try:
            state = load_checkpoint(path, map_location)
            if not isinstance(state, dict) or "model" not in state or state.get("step") != step:
                raise ValueError("not a complete training checkpoint")
            return state, path
        except Exception as exc:  # truncated zip, wrong content, ...
            log.warning("skipping unreadable checkpoint %s: %s", path, exc)
    return None, None


def prune(ckpt_dir, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints (keep <= 0 keeps all)."""
    if keep <= 0:
        return
    for _, path in list_checkpoints(ckpt_dir)[keep:]:
        path.unlink(missing_ok=True)

"""Writing feature matrices as a Kaldi ark + scp pair (decoded mels, teacher-forced mels)."""

from __future__ import annotations

import os
from pathlib import Path

import kaldiio
import numpy as np

from pytorch_backend.utils.fileio import write_text_atomic


def write_ark_scp(out_dir, mats: dict[str, np.ndarray], name: str = "feats") -> None:
    """Write ``<name>.ark`` + ``<name>.scp`` into ``out_dir`` so that a present scp always means a
    complete ark.

    The ark goes to a temporary name; then the old scp is removed, the ark renamed into place
    and the scp (absolute ark paths, entries in the order of ``mats``) written atomically.
    """
    out_dir = Path(out_dir)
    ark = (out_dir / f"{name}.ark").resolve()
    tmp_ark = out_dir / f".{name}.ark.{os.getpid()}.tmp"
    try:
        offsets = {}
        with open(tmp_ark, "wb") as fd:
            for utt, mat in mats.items():
                start = fd.tell()
                kaldiio.save_ark(fd, {utt: mat})
                offsets[utt] = start + len(utt.encode("utf-8")) + 1
            fd.flush()
            os.fsync(fd.fileno())
        (out_dir / f"{name}.scp").unlink(missing_ok=True)
        os.replace(tmp_ark, ark)
    finally:
        tmp_ark.unlink(missing_ok=True)
    write_text_atomic(out_dir / f"{name}.scp", "".join(f"{u} {ark}:{o}\n" for u, o in offsets.items()))

"""The embedded corpus writes its own Kaldi data dirs (``to_kaldi.py``): its generator's
metadata.tsv already holds the ids, splits, speakers and emotions."""

from __future__ import annotations

from local.espeak_emo.to_kaldi import prepare_data_dirs


def prepare(conf: dict, root, data_dir, progress: bool = True) -> dict:
    """``data_dir/{train,dev,eval}/`` of the generated corpus at ``root`` (see ``to_kaldi.py``)."""
    return prepare_data_dirs(conf, root, data_dir)

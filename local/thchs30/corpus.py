"""Reader of THCHS-30 (``data_thchs30``): ``data/<spk>_<n>.wav`` + ``data/<spk>_<n>.wav.trn``.

A ``.trn`` file holds three lines: the words (Chinese characters, space-separated word segmentation),
the toned pinyin, the phones; the first line is the text. ``train/``, ``dev/`` and ``test/`` hold
links to ``data/`` (and their own ``.trn`` files, which only point to ``../data/...``); they are the
official split, used with ``split.mode: official``. The official dev/test speakers are not train
speakers, so the default is a per-speaker hold-out (TTS needs its eval speakers in train).
"""

from __future__ import annotations

from local.common.items import Utterance
from local.common.text import read_text_lines

PREP = {"split": {"mode": "holdout", "dev": 5, "eval": 5, "seed": 1}}
OFFICIAL = {"train": "train", "dev": "dev", "test": "eval"}


def collect(conf, root, prep, drops):
    official = {}
    for folder, split in OFFICIAL.items():
        if (root / folder).is_dir():
            for wav in (root / folder).glob("*.wav"):
                official[wav.stem] = split
    out = []
    for trn in sorted(t for t in (root / "data").glob("*.wav.trn") if not t.name.startswith(".")):
        stem = trn.name[: -len(".wav.trn")]
        speaker, sep, _ = stem.partition("_")
        if not sep:
            drops.drop("file name without <speaker>_<n>", trn.name)
            continue
        lines, _ = read_text_lines(trn)
        text = lines[0] if lines else ""
        out.append(Utterance(stem, speaker, text, root / "data" / f"{stem}.wav",
                             split=official.get(stem), source=str(trn)))
    return out

"""Reader of the segmented Blizzard 2013 release:
``BC2013_segmented_v0_wav<k>/<book>/<id>.wav`` + ``BC2013_segmented_v0_txt<k>/<book>/<id>.txt``.

Ids are ``CB-<BOOK>-<chapter>-<segment>`` (``CB-JE-33-71`` is Jane Eyre, chapter 33, segment 71;
CB = Catherine Byers, the one speaker). A ``.txt`` holds the segment's text (sometimes over several
lines, joined); a wav without its ``.txt`` is dropped. ``prep.books`` selects book folders
(``jane_eyre`` by default; null: all). No official split.
"""

from __future__ import annotations

import re

from local.common.items import Utterance
from local.common.text import read_text_lines

SPEAKER = "CB"
PREP = {
    "books": ["jane_eyre"],
    "split": {"mode": "holdout", "dev": 50, "eval": 50, "seed": 1},
}
WAV_DIR = re.compile(r"^BC2013_segmented_(v\d+)_wav(\w*)$")


def collect(conf, root, prep, drops):
    books = prep["books"]
    out = []
    for wav_root in sorted(p for p in root.iterdir() if p.is_dir() and WAV_DIR.match(p.name)):
        txt_root = root / wav_root.name.replace("_wav", "_txt", 1)
        for book in sorted(p for p in wav_root.iterdir() if p.is_dir()):
            if books is not None and book.name not in books:
                continue
            for wav in sorted(w for w in book.glob("*.wav") if not w.name.startswith(".")):
                txt = txt_root / book.name / f"{wav.stem}.txt"
                if not txt.is_file():
                    drops.drop("wav without txt", str(wav.relative_to(root)))
                    continue
                lines, _ = read_text_lines(txt)
                out.append(Utterance(wav.stem, SPEAKER, " ".join(lines), wav, source=str(txt)))
    return out

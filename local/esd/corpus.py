"""Reader of ESD: ``<spk>/<spk>.txt`` + the wavs of each ``<spk>/<Emotion>/``, in either release:

* today's archive (since 2021-05): ``<spk>/<Emotion>/<spk>_<nnnnnn>.wav``, no split folders;
* the first release: ``<spk>/<Emotion>/{train,evaluation,test}/<spk>_<nnnnnn>.wav``.

``root`` is the folder holding the speaker folders (the archive's top folder ``Emotion Speech
Dataset``) or the folder holding that one. Each speaker has 1750 utterances numbered in blocks of
350 per emotion (Neutral, Angry, Happy, Sad, Surprise); the official split is the position inside
the block: 1-20 evaluation, 21-50 test, 51-350 train. Where split folders exist they give the split
(train -> train, evaluation -> dev, test -> eval); where they do not it is computed from the number.
A wav whose name carries no number gets no official split (dropped as "no split" under
``split.mode: official``; ``holdout`` assigns every utterance).

Transcript lines are ``0011_000001<TAB>text<TAB>emotion`` (the emotion in English for 0011-0020,
in Chinese for 0001-0010). Quirks: the per-speaker files come in different encodings (UTF-8,
UTF-16 with a byte-order mark, GB2312, Latin-1), detected per file or set in ``prep.encodings``;
a few lines are broken (fields not separated by tabs): they are counted as malformed and their
utterances dropped as "no transcript". The label is the emotion folder (Angry, Happy, Neutral,
Sad, Surprise). The top folder's name has spaces: the data dirs point at the audio through a
whitespace-free link (see local/common/paths.py).
"""

from __future__ import annotations

import logging
import re

from local.common.items import Utterance
from local.common.text import read_text_lines
from local.esd import TOP_FOLDER

log = logging.getLogger("emotts.prepare")

PREP = {
    "split": {"mode": "official", "dev": 2, "eval": 2, "seed": 1},
    "encodings": {},  # speaker -> encoding of its transcript, when detection is not enough
}
EMOTIONS = ("Angry", "Happy", "Neutral", "Sad", "Surprise")
OFFICIAL = {"train": "train", "evaluation": "dev", "test": "eval"}
SPEAKER_DIR = re.compile(r"^\d{4}$")
UTT_NAME = re.compile(r"^\d{4}_(\d{6})$")
BLOCK = 350  # utterances per emotion and speaker
EVALUATION_LAST, TEST_LAST = 20, 50  # positions 1-20 evaluation, 21-50 test, 51-350 train


def official_split(name: str) -> str | None:
    """The emotts split (train/dev/eval) of ESD utterance ``name`` from its number, or None."""
    m = UTT_NAME.match(name)
    if not m or int(m.group(1)) < 1:
        return None
    position = (int(m.group(1)) - 1) % BLOCK + 1
    return "dev" if position <= EVALUATION_LAST else "eval" if position <= TEST_LAST else "train"


def speaker_base(root):
    """The folder holding the speaker folders: ``root`` itself or its ``Emotion Speech Dataset``."""
    if any(p.is_dir() and SPEAKER_DIR.match(p.name) for p in root.iterdir()):
        return root
    nested = root / TOP_FOLDER
    return nested if nested.is_dir() else root


def read_transcript(path, encoding, drops) -> dict[str, str]:
    lines, _ = read_text_lines(path, encoding)
    texts = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.strip().split("\t")
        if len(fields) < 2 or not fields[1].strip():
            drops.drop("malformed transcript line", f"{path.name}:{lineno}")
            continue
        texts[fields[0].strip()] = fields[1]
    return texts


def collect(conf, root, prep, drops):
    out = []
    layouts = {"split folders": 0, "no split folders": 0}
    base = speaker_base(root)
    for spk_dir in sorted(p for p in base.iterdir() if p.is_dir() and SPEAKER_DIR.match(p.name)):
        speaker = spk_dir.name
        transcript = spk_dir / f"{speaker}.txt"
        if not transcript.is_file():
            drops.drop("speaker without transcript", speaker)
            continue
        texts = read_transcript(transcript, prep["encodings"].get(speaker), drops)
        for emotion_dir in sorted(p for p in spk_dir.iterdir() if p.is_dir()):
            if emotion_dir.name not in EMOTIONS:
                continue
            for wav in sorted(w for w in emotion_dir.rglob("*.wav") if not w.name.startswith(".")):
                if wav.parent == emotion_dir:
                    split = official_split(wav.stem)
                    layouts["no split folders"] += 1
                else:
                    split = OFFICIAL.get(wav.parent.name)
                    layouts["split folders"] += 1
                if wav.stem not in texts:
                    drops.drop("no transcript", f"{speaker}/{emotion_dir.name}/{wav.name}")
                    continue
                out.append(Utterance(wav.stem, speaker, texts[wav.stem], wav, label=emotion_dir.name,
                                     split=split, source=str(wav.relative_to(root))))
    found = [f"{n} wav(s) with {what}" for what, n in layouts.items() if n]
    log.info("ESD under %s: %s%s", base, ", ".join(found) or "no wav",
             " (official split from the utterance numbers)" if layouts["no split folders"] else "")
    return out

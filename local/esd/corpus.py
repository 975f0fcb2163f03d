"""Reader of ESD: ``<spk>/<spk>.txt`` + ``<spk>/<Emotion>/{train,evaluation,test}/<spk>_<n>.wav``.

Transcript lines are ``0011_000001<TAB>text<TAB>emotion`` (the emotion in English for 0011-0020,
in Chinese for 0001-0010). Quirks: the per-speaker files come in different encodings (UTF-8,
UTF-16 with a byte-order mark, GB2312, Latin-1), detected per file or set in ``prep.encodings``;
a few lines are broken (fields not separated by tabs): they are counted as malformed and their
utterances dropped as "no transcript". The label is the emotion folder (Angry, Happy,
Neutral, Sad, Surprise); the split is the folder: train -> train, evaluation -> dev, test -> eval
(Kaggle's flat copy has no split folders: use ``split.mode: holdout`` there).
"""

from __future__ import annotations

import re

from local.common.items import Utterance
from local.common.text import read_text_lines

PREP = {
    "split": {"mode": "official", "dev": 2, "eval": 2, "seed": 1},
    "encodings": {},  # speaker -> encoding of its transcript, when detection is not enough
}
EMOTIONS = ("Angry", "Happy", "Neutral", "Sad", "Surprise")
OFFICIAL = {"train": "train", "evaluation": "dev", "test": "eval"}
SPEAKER_DIR = re.compile(r"^\d{4}$")


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
    for spk_dir in sorted(p for p in root.iterdir() if p.is_dir() and SPEAKER_DIR.match(p.name)):
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
                split = OFFICIAL.get(wav.parent.name)
                if wav.stem not in texts:
                    drops.drop("no transcript", f"{speaker}/{emotion_dir.name}/{wav.name}")
                    continue
                out.append(Utterance(wav.stem, speaker, texts[wav.stem], wav, label=emotion_dir.name,
                                     split=split, source=str(wav.relative_to(root))))
    return out

"""Reader of EmoV-DB as published on OpenSLR 115.

Layout after extraction (one folder per archive): ``<speaker>_<Style>/**/<style>_<range>_<NNNN>.wav``
(e.g. ``bea_Angry/anger_1-28_0011.wav``; speakers bea, jenie, josh, sam; styles Amused, Angry,
Disgusted, Neutral, Sleepy; josh has no Angry/Disgusted). Texts are the ARCTIC prompts of
``cmuarctic.data``: ``<NNNN>`` is the number of prompt ``arctic_a<NNNN>``. Quirks: the style word of
the file name differs from the folder's (``anger`` / ``Angry``, ``sleepiness`` / ``Sleepy``), so the
label is the folder's; file names are not unique across speakers, so ids are ``<spk>-<file stem>``;
sample rates are mixed (the audio is resampled to the conf's fs).
"""

from __future__ import annotations

import re

from local.cmu_arctic.arctic_prompts import read_prompts
from local.common.items import Utterance

PREP = {"split": {"mode": "holdout", "dev": 10, "eval": 10, "seed": 1}}
ARCHIVE_DIR = re.compile(r"^([a-z]+)_([A-Z][a-z]+)$")
NUMBER = re.compile(r"_(\d{4})$")


def collect(conf, root, prep, drops):
    prompts = read_prompts(root / "cmuarctic.data", drops)
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        m = ARCHIVE_DIR.match(folder.name)
        if not m:
            continue
        speaker, style = m.groups()
        for wav in sorted(w for w in folder.rglob("*.wav") if not w.name.startswith(".")):
            n = NUMBER.search(wav.stem)
            if not n:
                drops.drop("no prompt number in file name", str(wav.relative_to(root)))
                continue
            prompt = f"arctic_a{n.group(1)}"
            if prompt not in prompts:
                drops.drop("no prompt text", f"{wav.relative_to(root)} ({prompt})")
                continue
            out.append(Utterance(wav.stem, speaker, prompts[prompt], wav, label=style,
                                 source=str(wav.relative_to(root))))
    return out

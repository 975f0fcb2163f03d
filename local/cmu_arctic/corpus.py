"""Reader of CMU ARCTIC: ``cmu_us_<spk>_arctic/etc/txt.done.data`` + ``.../wav/<prompt>.wav``.

Every speaker reads the same prompts, so the Kaldi id is ``<spk>-<prompt>`` (e.g.
``bdl-arctic_a0001``). The corpus has no official split.
"""

from __future__ import annotations

import re

from local.cmu_arctic.arctic_prompts import read_prompts
from local.common.items import Utterance

PREP = {"split": {"mode": "holdout", "dev": 30, "eval": 30, "seed": 1}}
SPEAKER_DIR = re.compile(r"^cmu_us_([a-z0-9]+)_arctic$")


def collect(conf, root, prep, drops):
    out = []
    for spk_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        m = SPEAKER_DIR.match(spk_dir.name)
        if not m:
            continue
        speaker = m.group(1)
        prompts_path = spk_dir / "etc" / "txt.done.data"
        if not prompts_path.is_file():
            drops.drop("speaker without etc/txt.done.data", spk_dir.name)
            continue
        for prompt, text in read_prompts(prompts_path, drops).items():
            out.append(Utterance(prompt, speaker, text, spk_dir / "wav" / f"{prompt}.wav",
                                 source=str(prompts_path)))
    return out

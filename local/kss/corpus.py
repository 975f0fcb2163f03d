"""Reader of KSS: ``transcript.v.1.4.txt`` (or the older ``transcript.txt``) + wavs.

Transcript lines are ``|``-separated: version 1.4 has six fields (wav path such as ``1/1_0000.wav``,
original script, expanded script (numbers and symbols spelled out), decomposed script (jamo),
duration, English translation); version 1.0 has four (path, original, decomposed, duration). The wav
paths are relative to ``kss/`` in the Kaggle download and to the root in the GitHub layout; both are
looked up. No official split.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from local.common.items import Utterance
from local.common.text import read_text_lines
from pytorch_backend.errors import ConfigError, DataError

SPEAKER = "kss"
PREP = {
    "text_field": "expanded",  # expanded | original (v1.0 files have no expanded field: original)
    "split": {"mode": "holdout", "dev": 100, "eval": 100, "seed": 1},
}


def collect(conf, root, prep, drops):
    if prep["text_field"] not in ("expanded", "original"):
        raise ConfigError(f"conf/corpus/{conf['name']}.yaml", "must be expanded or original",
                          key="prep.text_field")
    candidates = [root / "transcript.v.1.4.txt", root / "transcript.txt"]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise DataError(root, "no transcript.v.1.4.txt or transcript.txt")
    lines, _ = read_text_lines(path, "utf-8-sig")
    wav_dir = root / "kss" if (root / "kss").is_dir() else root
    out = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) not in (4, 6):
            drops.drop("malformed transcript line", f"{path.name}:{lineno}")
            continue
        rel = PurePosixPath(fields[0].strip())
        text = fields[2] if len(fields) == 6 and prep["text_field"] == "expanded" else fields[1]
        out.append(Utterance(rel.stem, SPEAKER, text, wav_dir / rel, source=f"{path}:{lineno}"))
    return out

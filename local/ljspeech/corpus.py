"""Reader of LJSpeech 1.1: ``metadata.csv`` + ``wavs/<id>.wav``.

``metadata.csv`` is UTF-8, one clip a line, three fields separated by ``|``: id, transcription,
normalized transcription (numbers and abbreviations spelled out). It is not CSV in the quoting
sense: double quotes appear unbalanced inside fields (``"The proceedings...``), so a CSV reader
with quoting on joins lines; the file is split on ``|`` only. The corpus has no official split.
"""

from __future__ import annotations

from local.common.items import Utterance
from local.common.text import read_text_lines
from pytorch_backend.errors import ConfigError

SPEAKER = "LJ"
PREP = {
    "text_field": "normalized",  # normalized (numbers spelled out) | raw
    "split": {"mode": "holdout", "dev": 250, "eval": 250, "seed": 1},
}


def collect(conf, root, prep, drops):
    if prep["text_field"] not in ("normalized", "raw"):
        raise ConfigError(f"conf/corpus/{conf['name']}.yaml", "must be normalized or raw",
                          key="prep.text_field")
    path = root / "metadata.csv"
    lines, _ = read_text_lines(path, "utf-8")
    out = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 3:
            drops.drop("malformed metadata line", f"{path.name}:{lineno}")
            continue
        utt, raw, normalized = fields
        text = normalized if prep["text_field"] == "normalized" and normalized.strip() else raw
        out.append(Utterance(utt.strip(), SPEAKER, text, root / "wavs" / f"{utt.strip()}.wav",
                             source=f"{path}:{lineno}"))
    return out

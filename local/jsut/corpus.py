"""Reader of JSUT 1.1: ``<subset>/transcript_utf8.txt`` + ``<subset>/wav/<id>.wav``.

Transcript lines are ``BASIC5000_0001:水をマレーシアから買わなくてはならないのです。`` (id, a colon,
the text in kanji and kana with full-width punctuation). No official split.
"""

from __future__ import annotations

from local.common.items import Utterance
from local.common.text import read_text_lines
from pytorch_backend.errors import ConfigError

SPEAKER = "jsut"
SUBSETS = ("basic5000", "countersuffix26", "loanword128", "onomatopee300", "precedent130",
           "repeat500", "travel1000", "utparaphrase512", "voiceactress100")
PREP = {
    "subsets": None,  # null: every subset found; else a list of SUBSETS
    "split": {"mode": "holdout", "dev": 100, "eval": 100, "seed": 1},
}


def collect(conf, root, prep, drops):
    subsets = prep["subsets"]
    if subsets is not None:
        unknown = set(subsets) - set(SUBSETS)
        if unknown:
            raise ConfigError(f"conf/corpus/{conf['name']}.yaml", f"unknown subset(s) {sorted(unknown)} "
                              f"(JSUT has {', '.join(SUBSETS)})", key="prep.subsets")
    out = []
    for transcript in sorted(root.glob("*/transcript_utf8.txt")):
        subset = transcript.parent.name
        if subsets is not None and subset not in subsets:
            continue
        lines, _ = read_text_lines(transcript, "utf-8-sig")
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            utt, sep, text = line.partition(":")
            if not sep:
                drops.drop("malformed transcript line", f"{subset}/{transcript.name}:{lineno}")
                continue
            out.append(Utterance(utt.strip(), SPEAKER, text, transcript.parent / "wav" / f"{utt.strip()}.wav",
                                 source=f"{transcript}:{lineno}"))
    return out

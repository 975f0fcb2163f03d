"""LJSpeech 1.1: ``metadata.csv`` (id|raw|normalized, UTF-8, unbalanced quotes) + ``wavs/``."""

from tests.corpus_fixtures import Expected, write_wav

LINES = [
    "LJ001-0001|Printing, in the only sense with which we are at present concerned, differs from most "
    "if not from all the arts and crafts represented in the Exhibition|Printing, in the only sense with "
    "which we are at present concerned, differs from most if not from all the arts and crafts represented "
    "in the Exhibition",
    "LJ001-0002|in being comparatively modern.|in being comparatively modern.",
    # fields that open with a quote and never close it: a CSV reader with quoting mangles the line
    'LJ001-0003|"The earliest book printed with movable types, the Gutenberg, or forty-two line Bible '
    'of about 1455,|"The earliest book printed with movable types, the Gutenberg, or forty-two line '
    'Bible of about fourteen fifty-five,',
    "LJ001-0004|Dr. Smith paid $16 for it.|Doctor Smith paid sixteen dollars for it.",
    "LJ001-0005|a line that lost its normalized field",
    "LJ001-0006|No wav for this one.|No wav for this one.",
]


def make(root):
    root.mkdir(parents=True, exist_ok=True)
    (root / "metadata.csv").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    (root / "README").write_text("LJ Speech Dataset\n")
    utts = {}
    for line in LINES[:4]:
        utt, _, normalized = line.split("|")
        write_wav(root / "wavs" / f"{utt}.wav", fs=22050)
        utts[utt] = ("LJ", normalized, "neutral")
    write_wav(root / "wavs" / "LJ001-0005.wav", fs=22050)
    return Expected(root, utts, {"malformed metadata line": 1, "missing audio": 1},
                    prep={"split": {"dev": 1, "eval": 1}})

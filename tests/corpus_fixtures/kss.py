"""KSS: ``transcript.v.1.4.txt`` (6 ``|`` fields) + ``kss/<n>/<n>_<i>.wav`` at 44.1 kHz."""

import unicodedata

from tests.corpus_fixtures import Expected, write_wav

ROWS = [
    ("1/1_0000.wav", "그는 괜찮은 척하려고 애쓰는 것 같았다.", "그는 괜찮은 척하려고 애쓰는 것 같았다.", 3.5,
     "He seemed to be pretending to be okay."),
    ("1/1_0001.wav", "그녀의 사랑을 얻기 위해 애썼지만 헛수고였다.", "그녀의 사랑을 얻기 위해 애썼지만 헛수고였다.", 4.0,
     "I tried to win her love, but it was in vain."),
    ("1/1_0002.wav", "용돈을 3번 아껴 써라.", "용돈을 세 번 아껴 써라.", 1.8, "Save your pocket money."),
    ("2/2_0000.wav", "그 애 전화번호 알아?", "그 애 전화번호 알아?", 1.3, "Do you know his number?"),
]


def make(root):
    root.mkdir(parents=True, exist_ok=True)
    lines, utts = [], {}
    for path, original, expanded, dur, english in ROWS:
        decomposed = unicodedata.normalize("NFD", expanded)
        lines.append("|".join([path, original, expanded, decomposed, str(dur), english]))
        write_wav(root / "kss" / path, fs=44100)
        stem = path.split("/")[1][:-4]
        utts[f"kss-{stem}"] = ("kss", expanded, "neutral")
    lines.append("3/3_0000.wav|a line with three fields|3.0")
    (root / "transcript.v.1.4.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Expected(root, utts, {"malformed transcript line": 1}, prep={"split": {"dev": 1, "eval": 1}})

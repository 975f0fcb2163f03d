"""Reader of IEMOCAP (``IEMOCAP_full_release``): sentences, transcriptions and categorical labels.

* audio: ``Session<k>/sentences/wav/<dialog>/<turn>.wav`` (one file per turn);
* text: ``Session<k>/dialog/transcriptions/<dialog>.txt``, lines
  ``Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.``; some lines have no wav (turns such as
  ``Ses01F_impro01_MXX0``, or lines without a time stamp), and texts carry tags like ``[LAUGHTER]``
  (removed with ``prep.strip_tags``);
* labels: ``Session<k>/dialog/EmoEvaluation/<dialog>.txt``, one summary line per turn,
  ``[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]``, followed by the
  annotators' lines; the label is the majority vote (``xxx`` when there was none).

The speaker is the actor who speaks the turn: session number + the gender letter that starts the
turn's last field (``Ses01F_impro01_M000`` is spoken by ``Ses01M``). No official split (the usual
leave-one-session-out holds out speakers, which a TTS model cannot synthesize).
"""

from __future__ import annotations

import re

from local.common.items import Utterance
from local.common.text import read_text_lines
from pytorch_backend.errors import ConfigError

PREP = {
    "sessions": [1, 2, 3, 4, 5],
    "strip_tags": True,  # remove [LAUGHTER], [BREATHING], ... from the text
    "split": {"mode": "holdout", "dev": 20, "eval": 20, "seed": 1},
}
EVAL_LINE = re.compile(r"^\[(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\]\t(\S+)\t(\S+)\t\[")
TRANSCRIPT_LINE = re.compile(r"^(\S+)\s+\[(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)\]:\s*(.*)$")
TURN = re.compile(r"^Ses(\d\d)[FM]_.*_([FM])[A-Z]*\d+$")
TAG = re.compile(r"\[[A-Za-z_ ]+\]|<[^>]*>")


def speaker_of(turn: str) -> str | None:
    m = TURN.match(turn)
    return f"Ses{m.group(1)}{m.group(2)}" if m else None


def read_labels(path, drops) -> dict[str, str]:
    lines, _ = read_text_lines(path)
    labels = {}
    for line in lines:
        if line.startswith("["):
            m = EVAL_LINE.match(line)
            if not m:
                drops.drop("malformed EmoEvaluation line", f"{path.name}: {line[:40]}")
                continue
            labels[m.group(3)] = m.group(4)
    return labels


def read_transcriptions(path, drops) -> dict[str, str]:
    lines, _ = read_text_lines(path)
    texts = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        m = TRANSCRIPT_LINE.match(line.strip())
        if not m:
            drops.drop("transcription line without a time stamp", f"{path.name}:{lineno}")
            continue
        texts[m.group(1)] = m.group(4)
    return texts


def collect(conf, root, prep, drops):
    sessions = prep["sessions"]
    if not sessions or any(s not in (1, 2, 3, 4, 5) for s in sessions):
        raise ConfigError(f"conf/corpus/{conf['name']}.yaml", "must be a non-empty list of 1..5",
                          key="prep.sessions")
    out = []
    for session in sessions:
        sdir = root / f"Session{session}"
        for eval_file in sorted((sdir / "dialog" / "EmoEvaluation").glob("Ses*.txt")):
            dialog = eval_file.stem
            labels = read_labels(eval_file, drops)
            texts = read_transcriptions(sdir / "dialog" / "transcriptions" / f"{dialog}.txt", drops)
            wav_dir = sdir / "sentences" / "wav" / dialog
            for turn in texts:
                if turn not in labels and not (wav_dir / f"{turn}.wav").is_file():
                    drops.drop("transcription line without wav", turn)
            for turn, label in labels.items():
                speaker = speaker_of(turn)
                if speaker is None:
                    drops.drop("turn name without speaker", turn)
                    continue
                if turn not in texts:
                    drops.drop("no transcription", turn)
                    continue
                text = TAG.sub(" ", texts[turn]) if prep["strip_tags"] else texts[turn]
                out.append(Utterance(turn, speaker, text, wav_dir / f"{turn}.wav", label=label,
                                     source=str(eval_file)))
    return out

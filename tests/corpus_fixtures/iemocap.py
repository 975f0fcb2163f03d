"""IEMOCAP: ``Session<k>/dialog/{EmoEvaluation,transcriptions}/<dialog>.txt`` +
``Session<k>/sentences/wav/<dialog>/<turn>.wav`` (16 kHz).

Quirks: a turn labelled ``xxx`` (no majority) and one ``fru`` (not in the 4-class map); a
transcription line with no wav and no label (``..._MXX0``); a line without a time stamp; a text
with a ``[LAUGHTER]`` tag; turns of the male actor inside a dialog named after the female one.
"""

from tests.corpus_fixtures import Expected, write_wav

HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
DIALOGS = {
    (1, "Ses01F_impro01"): [
        ("Ses01F_impro01_F000", 6.2901, 8.2357, "neu", "Excuse me."),
        ("Ses01F_impro01_M000", 10.0100, 11.3925, "exc", "Do you have your forms? [LAUGHTER]"),
        ("Ses01F_impro01_F001", 14.8872, 18.0175, "xxx", "Yeah."),
        ("Ses01F_impro01_M001", 19.2900, 20.7875, "fru", "Let me see them."),
        ("Ses01F_impro01_F002", 21.3000, 23.5000, "ang", "Is there a problem?"),
        ("Ses01F_impro01_M002", 24.1000, 26.0000, "sad", "Who told you to get in this line?"),
        ("Ses01F_impro01_F003", 26.5000, 27.9000, "hap", "You did."),
    ],
    (2, "Ses02M_script01_1"): [
        ("Ses02M_script01_1_F000", 3.1000, 5.2000, "neu", "What's he going to say?"),
        ("Ses02M_script01_1_M000", 5.9000, 8.0000, "ang", "Maybe we ought to tell him."),
    ],
}
LABELS = {"neu": "neutral", "exc": "happy", "hap": "happy", "sad": "sad", "ang": "angry"}
TEXT = {"Do you have your forms? [LAUGHTER]": "Do you have your forms?"}


def make(root):
    utts = {}
    for (session, dialog), turns in DIALOGS.items():
        sdir = root / f"Session{session}"
        eval_lines, tr_lines = [], []
        for turn, start, end, label, text in turns:
            eval_lines.append(f"[{start:.4f} - {end:.4f}]\t{turn}\t{label}\t[2.5000, 3.0000, 3.5000]\n"
                              "C-E2:\tNeutral;\t()\nC-E3:\tNeutral;\t()\nC-E4:\tNeutral;\t()\n"
                              "A-E3:\tval 3; act 2; dom  2;\t()\nA-E4:\tval 2; act 3; dom  3;\t()\n")
            tr_lines.append(f"{turn} [{start:08.4f}-{end:08.4f}]: {text}")
            write_wav(sdir / "sentences" / "wav" / dialog / f"{turn}.wav", fs=16000, seconds=0.6)
            spk = f"Ses0{session}{turn.split('_')[-1][0]}"
            if label in LABELS:
                utts[f"{spk}-{turn}"] = (spk, TEXT.get(text, text), LABELS[label])
        if session == 1:
            tr_lines.insert(4, f"{dialog}_MXX0 [019.0000-019.2000]: Hmm.")
            tr_lines.append("M: [BREATHING]")
        (sdir / "dialog" / "EmoEvaluation").mkdir(parents=True, exist_ok=True)
        (sdir / "dialog" / "EmoEvaluation" / f"{dialog}.txt").write_text(HEADER + "\n".join(eval_lines))
        (sdir / "dialog" / "transcriptions").mkdir(parents=True, exist_ok=True)
        (sdir / "dialog" / "transcriptions" / f"{dialog}.txt").write_text("\n".join(tr_lines) + "\n")
    drops = {"label 'xxx' not in label_map": 1, "label 'fru' not in label_map": 1,
             "transcription line without wav": 1, "transcription line without a time stamp": 1}
    return Expected(root, utts, drops, prep={"sessions": [1, 2], "split": {"dev": 1, "eval": 1},
                                             "min_duration": 0.0})

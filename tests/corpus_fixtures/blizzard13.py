"""Blizzard 2013 segmented release: ``BC2013_segmented_v0_wav1/<book>/CB-XX-<ch>-<seg>.wav`` +
``BC2013_segmented_v0_txt1/<book>/<same>.txt`` (44.1 kHz here: resampled to the conf's fs)."""

from tests.corpus_fixtures import Expected, write_wav

JANE_EYRE = [
    ("CB-JE-01-01", "There was no possibility of taking a walk that day."),
    ("CB-JE-01-02", "We had been wandering, indeed,\nin the leafless shrubbery an hour in the morning;"),
    ("CB-JE-33-71", "Yes. Again came the blank of a pause: the clock struck eight strokes."),
    ("CB-JE-33-72", "Reader, I married him."),
]


def make(root):
    wav1, txt1 = root / "BC2013_segmented_v0_wav1", root / "BC2013_segmented_v0_txt1"
    utts = {}
    for seg, text in JANE_EYRE:
        write_wav(wav1 / "jane_eyre" / f"{seg}.wav", fs=44100)
        (txt1 / "jane_eyre").mkdir(parents=True, exist_ok=True)
        (txt1 / "jane_eyre" / f"{seg}.txt").write_text(text + "\n")
        utts[seg] = ("CB", " ".join(text.split()), "neutral")
    write_wav(wav1 / "jane_eyre" / "CB-JE-40-01.wav", fs=44100)  # its txt is missing
    write_wav(wav1 / "emma" / "CB-EM-54-136.wav", fs=44100)  # another book, not selected
    (txt1 / "emma").mkdir(parents=True)
    (txt1 / "emma" / "CB-EM-54-136.txt").write_text("Emma Woodhouse, handsome, clever, and rich.\n")
    return Expected(root, utts, {"wav without txt": 1}, prep={"split": {"dev": 1, "eval": 1},
                                                             "min_duration": 0.0})

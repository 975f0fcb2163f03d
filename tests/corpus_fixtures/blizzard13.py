"""Blizzard 2013 in either segmented release (44.1 kHz here: resampled to the conf's fs):

* ``release="bc2013_segmented"`` (the default): ``BC2013_segmented_v0_wav1/<book>/CB-XX-<ch>-<seg>.wav``
  + ``BC2013_segmented_v0_txt1/<book>/<same>.txt``;
* ``release="train_segmented"``: ``train/segmented/prompts.gui`` (blocks of three lines: id, text
  with ``@ # |`` markup and tokenizer spaces before punctuation, a word-level annotation line
  ending in ``||``) + ``train/segmented/wavn/<id>.wav``.

Quirks: a wav without its text, another book (Emma) that the default ``books`` leaves out, and in
prompts.gui a prompt whose wav is missing.
"""

from tests.corpus_fixtures import Expected, write_wav

RELEASES = ("bc2013_segmented", "train_segmented")
JANE_EYRE = [
    ("CB-JE-01-01", "There was no possibility of taking a walk that day."),
    ("CB-JE-01-02", "We had been wandering, indeed,\nin the leafless shrubbery an hour in the morning;"),
    ("CB-JE-33-71", "Yes. Again came the blank of a pause: the clock struck eight strokes."),
    ("CB-JE-33-72", "Reader, I married him."),
]
EMMA = ("CB-EM-54-136", "Emma Woodhouse, handsome, clever, and rich.")
# prompts.gui blocks of the train_segmented release: (id, marked-up text, expected text)
PROMPTS = [
    ("CB-JE-01-01", "@ There was no | possibility of taking a walk # that day .",
     "There was no possibility of taking a walk that day."),
    ("CB-JE-01-02", "We had been wandering , indeed , # in the leafless shrubbery | an hour in the morning ;",
     "We had been wandering, indeed, in the leafless shrubbery an hour in the morning;"),
    ("CB-JE-33-71", "@ Yes . | Again came the blank of a pause : # the clock struck eight strokes .",
     "Yes. Again came the blank of a pause: the clock struck eight strokes."),
    ("CB-JE-37-10", "It was Mr Rochester 's voice , # and it was near !",
     "It was Mr Rochester's voice, and it was near!"),
    ("CB-JE-40-02", "My tale draws to its close : | one word respecting my experience of married life .",
     None),  # its wav is missing
    ("CB-EM-54-136", "Emma Woodhouse , handsome , clever , # and rich .",
     "Emma Woodhouse, handsome, clever, and rich."),
]


def annotation(text: str) -> str:
    """A word-level annotation line: one number per word of the text, then '||'."""
    return " ".join(str(i % 3) for i, _ in enumerate(text.split())) + " ||"


def make(root, release: str = "bc2013_segmented"):
    assert release in RELEASES, release
    if release == "train_segmented":
        return make_train_segmented(root)
    wav1, txt1 = root / "BC2013_segmented_v0_wav1", root / "BC2013_segmented_v0_txt1"
    utts = {}
    for seg, text in JANE_EYRE:
        write_wav(wav1 / "jane_eyre" / f"{seg}.wav", fs=44100)
        (txt1 / "jane_eyre").mkdir(parents=True, exist_ok=True)
        (txt1 / "jane_eyre" / f"{seg}.txt").write_text(text + "\n")
        utts[seg] = ("CB", " ".join(text.split()), "neutral")
    write_wav(wav1 / "jane_eyre" / "CB-JE-40-01.wav", fs=44100)  # its txt is missing
    write_wav(wav1 / "emma" / f"{EMMA[0]}.wav", fs=44100)  # another book, not selected
    (txt1 / "emma").mkdir(parents=True)
    (txt1 / "emma" / f"{EMMA[0]}.txt").write_text(EMMA[1] + "\n")
    return Expected(root, utts, {"wav without txt": 1}, prep={"split": {"dev": 1, "eval": 1},
                                                             "min_duration": 0.0})


def make_train_segmented(root):
    seg = root / "train" / "segmented"
    seg.mkdir(parents=True, exist_ok=True)
    blocks = [f"{utt}\n{text}\n{annotation(text)}\n" for utt, text, _ in PROMPTS]
    (seg / "prompts.gui").write_text("".join(blocks), encoding="utf-8")
    utts = {}
    for utt, _, expected in PROMPTS:
        if expected is None:
            continue
        write_wav(seg / "wavn" / f"{utt}.wav", fs=44100)
        if not utt.startswith("CB-EM"):
            utts[utt] = ("CB", expected, "neutral")
    write_wav(seg / "wavn" / "CB-JE-40-01.wav", fs=44100)  # no prompt for it
    return Expected(root, utts, {"wav without prompt": 1, "prompt without wav": 1},
                    prep={"split": {"dev": 1, "eval": 1}, "min_duration": 0.0})

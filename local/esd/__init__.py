"""ESD: 10 Mandarin (0001-0010) and 10 English (0011-0020) speakers, 350 parallel sentences in
5 emotions each, 16 kHz, with its own train/evaluation/test split (split folders in the first
release; today's archive has none and the split follows from the utterance numbers)."""

from local.common.source import Source

TOP_FOLDER = "Emotion Speech Dataset"  # the archive's top folder (with spaces)

SOURCE = Source(
    name="ESD",
    obtain="https://github.com/HLTSingapore/Emotional-Speech-Data (sign the licence agreement there to "
           f"get the download link); unzip it and point root at '{TOP_FOLDER}' (the folder holding "
           "0001 ... 0020) or at the folder you unzipped it into.",
    licence="research use under a signed licence agreement",
    gated=True,
    layout=("00[0-9][0-9]/00[0-9][0-9].txt",),
    alternatives=((f"{TOP_FOLDER}/00[0-9][0-9]/00[0-9][0-9].txt",),),
)

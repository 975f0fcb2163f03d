"""ESD: 10 Mandarin (0001-0010) and 10 English (0011-0020) speakers, 350 parallel sentences in
5 emotions each, 16 kHz, with its own train/evaluation/test split."""

from local.common.source import Source

SOURCE = Source(
    name="ESD",
    obtain="https://github.com/HLTSingapore/Emotional-Speech-Data (sign the licence agreement there to "
           "get the download link); unzip it and point root at 'Emotion Speech Dataset' (the folder "
           "holding 0001 ... 0020).",
    licence="research use under a signed licence agreement",
    gated=True,
    layout=("00[0-9][0-9]/00[0-9][0-9].txt",),
)

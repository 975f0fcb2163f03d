"""KSS: one Korean female speaker, 12,853 clips, ~12 h, 44.1 kHz (CC BY-NC-SA 4.0)."""

from local.common.source import Source

SOURCE = Source(
    name="KSS",
    obtain="https://www.kaggle.com/datasets/bryanpark/korean-single-speaker-speech-dataset "
           "(needs a Kaggle account); unpack it so that transcript.v.1.4.txt and kss/1/1_0000.wav "
           "(or 1/1_0000.wav) lie under one directory.",
    licence="CC BY-NC-SA 4.0, behind a Kaggle login",
    gated=True,
    layout=("transcript*.txt",),
)

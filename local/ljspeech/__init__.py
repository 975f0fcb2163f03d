"""LJSpeech 1.1: one US English reader (Linda Johnson), 13,100 clips, ~24 h, 22.05 kHz, public domain."""

from local.common.source import Source

SOURCE = Source(
    name="LJSpeech",
    obtain="https://keithito.com/LJ-Speech-Dataset/ (LJSpeech-1.1.tar.bz2, fetched by the download_corpus rule).",
    licence="public domain",
    gated=False,
    layout=("metadata.csv", "wavs/*.wav"),
)

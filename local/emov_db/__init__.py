"""EmoV-DB (OpenSLR 115): 4 English speakers, ARCTIC prompts in 5 styles, mostly 16 kHz."""

from local.common.source import Source

SOURCE = Source(
    name="EmoV-DB",
    obtain="https://www.openslr.org/115/ (18 archives <speaker>_<Style>.tar.gz) and the ARCTIC prompts "
           "http://www.festvox.org/cmu_arctic/cmuarctic.data, fetched by the download_corpus rule.",
    licence="see https://github.com/numediart/EmoV-DB (research use, cite the papers)",
    gated=False,
    layout=("cmuarctic.data", "*_*/**/*.wav"),
)

"""CMU ARCTIC: US English (and accented) speakers reading ~1,130 ARCTIC prompts each, 16 kHz."""

from local.common.source import Source

SOURCE = Source(
    name="CMU ARCTIC",
    obtain="http://festvox.org/cmu_arctic/ (cmu_us_<speaker>_arctic.tar.bz2 per speaker, fetched by "
           "the download_corpus rule).",
    licence="free use, modification and redistribution with the copyright notice (BSD-style)",
    gated=False,
    layout=("cmu_us_*_arctic/etc/txt.done.data",),
)

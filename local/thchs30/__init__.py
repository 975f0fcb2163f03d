"""THCHS-30 (OpenSLR 18): Mandarin read speech, 60 speakers, ~30 h, 16 kHz (Apache 2.0)."""

from local.common.source import Source

SOURCE = Source(
    name="THCHS-30",
    obtain="https://www.openslr.org/18/ (data_thchs30.tgz, fetched by the download_corpus rule).",
    licence="Apache 2.0",
    gated=False,
    layout=("data/*.wav.trn", "data/*.wav"),
)

"""JSUT 1.1: one Japanese female speaker, ~10 h in 9 subsets (basic5000, ...), 48 kHz."""

from local.common.source import Source

SOURCE = Source(
    name="JSUT",
    obtain="https://sites.google.com/site/shinnosuketakamichi/publication/jsut "
           "(jsut_ver1.1.zip, fetched by the download_corpus rule).",
    licence="research and personal use; commercial use needs permission (see its README)",
    gated=False,
    layout=("*/transcript_utf8.txt", "*/wav/*.wav"),
)

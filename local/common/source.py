"""Where a corpus comes from, and the check that stops the DAG when a licence-gated one is missing.

Each ``local/<corpus>/__init__.py`` defines ``SOURCE = Source(...)``. The recipe's prepare rule
takes :func:`corpus_input` as its input function: for a public corpus it asks for the download
marker (the download rule fetches and verifies the corpus, or only checks the layout when the
corpus is already at ``root``); for a gated corpus it raises a ConfigError naming where to get the
corpus and the conf key to set, when ``root`` does not hold the expected layout. Snakemake
evaluates input functions while it builds the DAG, so a dry run stops there too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pytorch_backend.errors import ConfigError


@dataclass(frozen=True)
class Source:
    name: str  # the corpus's own name, for messages
    obtain: str  # where and how to get it
    licence: str
    gated: bool  # True: nothing is downloaded, the user fetches it
    layout: tuple[str, ...] = field(default=())  # glob patterns under root that must match something


def corpus_root(conf: dict) -> Path:
    return Path(conf.get("root") or f"downloads/{conf['name']}")


def missing_layout(root: Path, layout) -> list[str]:
    """The layout patterns that match nothing under ``root`` (all of them when root is missing)."""
    if not root.is_dir():
        return list(layout) or ["."]
    return [pattern for pattern in layout if not any(root.glob(pattern))]


def download_marker(corpus: str) -> str:
    return f"downloads/{corpus}/.download.done"


def corpus_input(source: Source, conf: dict, conf_path) -> list[str]:
    """Input of a recipe's prepare rule (see the module docstring)."""
    if not source.gated:
        return [download_marker(conf["name"])]
    root = corpus_root(conf)
    missing = missing_layout(root, source.layout)
    if missing:
        where = "is missing" if not root.is_dir() else f"does not hold {missing[0]}"
        raise ConfigError(conf_path, f"{source.name} corpus not found: {root} {where}. {source.name} is "
                          f"licence-gated ({source.licence}) and is not downloaded for you: "
                          f"{source.obtain} Then set root in {conf_path} to the directory that holds "
                          f"{', '.join(source.layout)}.", key="root")
    return []

"""Where a corpus comes from, and the check that stops the DAG when a licence-gated one is missing.

Each ``local/<corpus>/__init__.py`` defines ``SOURCE = Source(...)``. The recipe's prepare rule
takes :func:`corpus_input` as its input function: for a public corpus it asks for the download
marker (the download rule fetches and verifies the corpus, or only checks the layout when the
corpus is already at ``root``); for a gated corpus it raises a ConfigError naming where to get the
corpus and the conf key to set, when ``root`` does not hold the expected layout. Snakemake
evaluates input functions while it builds the DAG, so a dry run stops there too.

A corpus published in several forms (releases, archive layouts) lists each complete form: ``layout``
is the first, ``alternatives`` the others; ``root`` is accepted when it holds any one of them.

The missing-corpus error is raised as :class:`CorpusMissing`, a ``SystemExit`` carrying the
ConfigError's message: Snakemake wraps every ``Exception`` an input function raises in an
``InputFunctionException`` whose report ends in a traceback listing, while a ``SystemExit`` ends the
DAG build with exactly the message (exit status 1, no lock left behind).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.paths import DOWNLOAD_DONE, DOWNLOADS, fill
from pytorch_backend.errors import ConfigError


@dataclass(frozen=True)
class Source:
    name: str  # the corpus's own name, for messages
    obtain: str  # where and how to get it
    licence: str
    gated: bool  # True: nothing is downloaded, the user fetches it
    layout: tuple[str, ...] = field(default=())  # glob patterns under root that must match something
    alternatives: tuple[tuple[str, ...], ...] = field(default=())  # other complete layouts (releases)
    generated: bool = False  # True: made on this machine by the recipe's own generator rule

    @property
    def layouts(self) -> tuple[tuple[str, ...], ...]:
        return (tuple(self.layout),) + tuple(tuple(a) for a in self.alternatives)


class CorpusMissing(SystemExit):
    """A licence-gated corpus is not at ``root``; ``error`` is the ConfigError saying where to get it."""

    def __init__(self, error: ConfigError):
        super().__init__(f"ERROR: {error}")
        self.error = error


def corpus_root(conf: dict) -> Path:
    return Path(conf.get("root") or fill(DOWNLOADS, corpus=conf["name"]))


def missing_layout(root: Path, layout) -> list[str]:
    """The layout patterns that match nothing under ``root`` (all of them when root is missing)."""
    if not root.is_dir():
        return list(layout) or ["."]
    return [pattern for pattern in layout if not any(root.glob(pattern))]


def download_marker(corpus: str) -> str:
    return fill(DOWNLOAD_DONE, corpus=corpus)


def held_layout(root: Path, source: Source) -> tuple[str, ...] | None:
    """The first of ``source.layouts`` that ``root`` holds completely, or None."""
    for layout in source.layouts:
        if root.is_dir() and not missing_layout(root, layout):
            return layout
    return None


def corpus_input(source: Source, conf: dict, conf_path) -> list[str]:
    """Input of a recipe's prepare rule (see the module docstring)."""
    if not source.gated:
        return [download_marker(conf["name"])]
    root = corpus_root(conf)
    if held_layout(root, source) is not None:
        return []
    if not root.is_dir():
        where = "is missing"
    else:
        where = "does not hold " + " nor ".join(missing_layout(root, layout)[0] for layout in source.layouts)
    layouts = source.layouts
    forms = ", ".join(layouts[0]) if len(layouts) == 1 else "one of: " + "; ".join(" + ".join(layout)
                                                                                 for layout in layouts)
    raise CorpusMissing(ConfigError(
        conf_path, f"{source.name} corpus not found: {root} {where}. {source.name} is licence-gated "
        f"({source.licence}) and is not downloaded for you: {source.obtain} Then set root in {conf_path} "
        f"to the directory that holds {forms}.", key="root"))

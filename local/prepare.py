"""Prepare a corpus's Kaldi data dirs with its recipe package ``local/<recipe>/``.

    python -m local.prepare --recipe <recipe> --conf '<prep slice JSON>' --root DIR \\
        --data-dir data/<corpus> [--no-progress] [--log F]

A recipe package is a folder ``local/<recipe>/`` with

- ``__init__.py``: ``SOURCE = Source(...)`` (:mod:`local.common.source`): where the corpus comes
  from, whether it is licence-gated, downloaded or generated here, and the layout ``root`` holds;
- ``corpus.py``: ``collect(conf, root, prep, drops)`` and ``PREP`` (the recipe's ``prep`` options
  and defaults), from which :func:`local.common.prepare.prepare_corpus` writes the data dirs; or,
  for a corpus that writes its data dirs itself (the embedded generator's),
  ``prepare(conf, root, data_dir, progress)``.

The generic rules of ``recipes/corpus.smk`` serve every corpus conf whose ``recipe`` names such a
package: adding a corpus touches no rule file.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from local.common.source import Source, corpus_input
from pipeline.paths import GENERATED, fill
from pipeline.slices import check_generated_root
from pytorch_backend.errors import ConfigError
from pytorch_backend.utils import cli

RECIPE_NAME = re.compile(r"[a-z][a-z0-9_]*")
NOT_RECIPES = ("common",)


def known_recipes() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(p.parent.name for p in here.glob("*/__init__.py") if p.parent.name not in NOT_RECIPES)


def _package(recipe: str, conf_path, module: str = ""):
    name = f"local.{recipe}{module}"
    if not isinstance(recipe, str) or not RECIPE_NAME.fullmatch(recipe) or recipe in NOT_RECIPES:
        raise ConfigError(conf_path, f"'{recipe}' is not a recipe name (known: {', '.join(known_recipes())})",
                          key="recipe")
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name not in (f"local.{recipe}", name):
            raise
        what = f"local/{recipe}/" if exc.name == f"local.{recipe}" else f"local/{recipe}/{module[1:]}.py"
        raise ConfigError(conf_path, f"no recipe package {what} (known recipes: "
                          f"{', '.join(known_recipes())})", key="recipe") from None


def recipe_source(recipe: str, conf_path) -> Source:
    """``local.<recipe>.SOURCE``; a ConfigError naming ``conf_path`` and ``recipe`` when missing."""
    source = getattr(_package(recipe, conf_path), "SOURCE", None)
    if not isinstance(source, Source):
        raise ConfigError(conf_path, f"local/{recipe}/__init__.py defines no SOURCE = Source(...)", key="recipe")
    return source


def recipe_corpus(recipe: str, conf_path):
    """``local.<recipe>.corpus``, checked to hold ``prepare`` or ``collect`` and ``PREP``."""
    module = _package(recipe, conf_path, ".corpus")
    if not (callable(getattr(module, "prepare", None))
            or (callable(getattr(module, "collect", None)) and isinstance(getattr(module, "PREP", None), dict))):
        raise ConfigError(conf_path, f"local/{recipe}/corpus.py defines neither prepare() nor collect() "
                          "with PREP", key="recipe")
    return module


def prepare_input(source: Source, conf: dict, conf_path) -> list[str]:
    """What the prepare rule of a corpus waits for: the generator's output (generated corpora),
    the download marker (public ones), nothing (gated ones, once ``root`` is checked to hold
    the corpus: see :func:`local.common.source.corpus_input`)."""
    if source.generated:
        check_generated_root(conf, conf_path)
        return [fill(GENERATED, corpus=conf["name"])]
    return corpus_input(source, conf, conf_path)


def is_downloaded(source: Source) -> bool:
    """Public corpora are fetched (or found in place) by the download rule."""
    return not source.gated and not source.generated


# -- what the rules of recipes/corpus.smk ask (confs: a pipeline.lookup.ConfLookup) ---------------
def corpus_source(confs, corpus: str) -> Source:
    """The SOURCE of the recipe package that prepares ``corpus``."""
    return recipe_source(confs.corpus_conf(corpus)["recipe"], confs.corpus_path(corpus))


def downloaded_corpora(confs) -> list[str]:
    """The public corpora, which the download rule serves (a corpus whose recipe is broken is
    left out here and reported by its prepare rule)."""
    out = []
    for corpus in confs.corpora:
        try:
            source = corpus_source(confs, corpus)
        except ConfigError:
            continue
        if is_downloaded(source):
            out.append(corpus)
    return out


def corpus_prepare_input(confs, corpus: str) -> list[str]:
    """The input of ``corpus``'s prepare job (:func:`prepare_input`)."""
    return prepare_input(corpus_source(confs, corpus), confs.corpus_conf(corpus), confs.corpus_path(corpus))


def prepare(recipe: str, conf: dict, root, data_dir, progress: bool = True):
    """Write ``data_dir/{train,dev,eval}/`` of a corpus with the reader of ``local/<recipe>/``."""
    from local.common.prepare import conf_source, prepare_corpus

    corpus = recipe_corpus(recipe, conf_source(conf))
    if callable(getattr(corpus, "prepare", None)):
        return corpus.prepare(conf, root, data_dir, progress=progress)
    return prepare_corpus(conf, root, data_dir, corpus.collect, corpus.PREP, progress=progress)


def main() -> None:
    p = cli.parser("Prepare the Kaldi data dirs of a corpus with its recipe package local/<recipe>/")
    p.add_argument("--recipe", default=None, help="local/<recipe>/ (default: the conf's recipe)")
    p.add_argument("--root", required=True, help="the corpus in its own layout")
    p.add_argument("--data-dir", required=True, help="output: data/<corpus>")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)
    recipe = args.recipe or args.conf.get("recipe") or args.conf.get("name")
    prepare(recipe, args.conf, args.root, args.data_dir, progress=not args.no_progress)


if __name__ == "__main__":
    cli.run(main)

"""The command line every ``local/<corpus>/prepare.py`` shares.

    python -m local.<corpus>.prepare --conf '<corpus conf JSON>' --root DIR --data-dir data/<corpus> [--log F]
"""

from __future__ import annotations

import importlib

from steps import _cli


def main(recipe: str) -> None:
    """Parse the arguments and prepare the corpus with ``local.<recipe>.corpus``."""
    p = _cli.parser(f"Prepare the Kaldi data dirs of a {recipe} corpus")
    p.add_argument("--root", required=True, help="the corpus in its own layout")
    p.add_argument("--data-dir", required=True, help="output: data/<corpus>")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args()
    _cli.setup_logging(args.log, args.verbose)

    from local.common.prepare import prepare_corpus

    corpus = importlib.import_module(f"local.{recipe}.corpus")
    prepare_corpus(args.conf, args.root, args.data_dir, corpus.collect, corpus.PREP,
                   progress=not args.no_progress)


def run(recipe: str) -> None:
    _cli.run(lambda: main(recipe))

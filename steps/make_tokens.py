#!/usr/bin/env python3
"""Build the token list (from train) and the tokenized text of each split.

    python steps/make_tokens.py --conf '{"token_type": "phn", "bpe_vocab_size": 200, "language": "en"}' \
        --data-root data/<corpus> --out data/<corpus>/tokens/<type> [--splits train dev eval] [--log F]

Writes ``OUT/token_list`` (+ ``OUT/bpe.model`` for bpe) and ``OUT/<split>/text_tokens``.
"""

import time

from pytorch_backend.utils import cli

CONF_KEYS = {"token_type", "bpe_vocab_size", "language"}


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--data-root", required=True, help="data/<corpus>: holds <split>/text")
    p.add_argument("--out", required=True, help="output dir, e.g. data/<corpus>/tokens/<type>")
    p.add_argument("--splits", nargs="+", default=["train", "dev", "eval"],
                   help="splits to tokenize (the token list always comes from train)")
    args = p.parse_args()
    log = cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.config import check_keys
    from pytorch_backend.errors import ConfigError
    from pytorch_backend.text import TOKENIZERS
    from pytorch_backend.text.build import make_tokens

    conf = args.conf
    check_keys(conf, dict.fromkeys(CONF_KEYS), "--conf")
    token_type = conf.get("token_type", "phn")
    if token_type not in TOKENIZERS:
        raise ConfigError("--conf", f"token_type must be one of {', '.join(sorted(TOKENIZERS))}, "
                          f"got '{token_type}'", key="token_type")
    vocab_size = conf.get("bpe_vocab_size", 200)
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
        raise ConfigError("--conf", f"bpe_vocab_size must be a positive integer, got {vocab_size!r}",
                          key="bpe_vocab_size")

    start = time.time()
    summary = make_tokens(args.data_root, args.out, token_type, language=conf.get("language", "en"),
                          bpe_vocab_size=vocab_size, splits=args.splits)
    n_utts = sum(s["utterances"] for s in summary["splits"].values())
    log.info("tokenized %d utterances (%s) in %.1f s; %d tokens in the list",
             n_utts, token_type, time.time() - start, summary["token_list_size"])


if __name__ == "__main__":
    cli.run(main)

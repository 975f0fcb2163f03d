#!/usr/bin/env python
"""Write the resolved experiment config (and a record of the environment) into exp/<exp>/."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _cli  # noqa: E402

from pytorch_backend.config import dump_yaml  # noqa: E402
from pytorch_backend.utils.environment import environment_record  # noqa: E402
from pytorch_backend.utils.fileio import write_text_atomic  # noqa: E402


def main():
    p = _cli.parser(__doc__)
    p.add_argument("--out", required=True, help="exp/<exp>/config.yaml")
    args = p.parse_args()
    log = _cli.setup_logging(args.log, args.verbose)
    write_text_atomic(os.path.join(os.path.dirname(args.out), "environment.yaml"),
                      dump_yaml(environment_record()))
    write_text_atomic(args.out, dump_yaml(args.conf))
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    _cli.run(main)

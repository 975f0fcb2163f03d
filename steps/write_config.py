#!/usr/bin/env python
"""Write the resolved experiment config (and a record of the environment) into exp/<exp>/."""

import os

from pytorch_backend.config import dump_yaml
from pytorch_backend.utils import cli
from pytorch_backend.utils.environment import environment_record
from pytorch_backend.utils.fileio import write_text_atomic


def main():
    p = cli.parser(__doc__)
    p.add_argument("--out", required=True, help="exp/<exp>/config.yaml")
    args = p.parse_args()
    log = cli.setup_logging(args.log, args.verbose)
    write_text_atomic(os.path.join(os.path.dirname(args.out), "environment.yaml"),
                      dump_yaml(environment_record()))
    write_text_atomic(args.out, dump_yaml(args.conf))
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    cli.run(main)

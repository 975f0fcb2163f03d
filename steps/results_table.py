#!/usr/bin/env python
"""Write results/<corpus>.md (+ .json): every backend of a corpus side by side.

Example:
    python -m steps.results_table --exps exp/espeak_emo_gst/done exp/espeak_emo_vae/done \
        --out results/espeak_emo.md
"""

from pytorch_backend.utils import cli


def main():
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--exps", nargs="+", required=True, help="exp/<exp> dirs or their done files")
    p.add_argument("--out", required=True, help="results/<corpus>.md")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)
    from pathlib import Path

    from pytorch_backend.eval.results_table import write_results

    dirs = [Path(e).parent if Path(e).name == "done" else Path(e) for e in args.exps]
    write_results(dirs, args.out)


if __name__ == "__main__":
    cli.run(main)

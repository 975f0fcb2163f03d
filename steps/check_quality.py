#!/usr/bin/env python
"""Check finished experiments against the quality guard (conf/guard.yaml); exit 1 on a miss.

Example (what `make guard` runs after the demo):
    python -m steps.check_quality --guard conf/guard.yaml exp/espeak_emo_gst

Each EXP_DIR must hold summary.json (its `done` stage) and have an entry in the guard conf
under `experiments:` (by the directory's name). Prints one line per guarded quantity.
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--guard", default="conf/guard.yaml", help="the guard conf (default: conf/guard.yaml)")
    p.add_argument("exp_dirs", nargs="+", help="exp/<corpus>_<model> directories")
    args = p.parse_args()
    logger = cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.eval.guard import check_experiment

    failed = []
    for exp_dir in args.exp_dirs:
        checks = check_experiment(exp_dir, args.guard)
        for chk in checks:
            print(f"{exp_dir}: {chk.line()}")
        failed += [f"{exp_dir}: {c.quantity}" for c in checks if not c.passed]
    if failed:
        logger.error("quality guard missed: %s", "; ".join(failed))
        raise SystemExit(1)
    logger.info("quality guard passed for %d experiment(s)", len(args.exp_dirs))


if __name__ == "__main__":
    cli.run(main)

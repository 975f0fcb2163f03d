#!/usr/bin/env python
"""Mean/std of the train features: writes stats.npz (mean, std, count).

Example:
    python steps/compute_stats.py --feats-scp dump/espeak_emo/mel80/train/feats.scp \
        --out dump/espeak_emo/mel80/stats.npz
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _cli  # noqa: E402  (puts the repository on sys.path)


def main() -> None:
    p = _cli.parser(__doc__.splitlines()[0])
    p.add_argument("--feats-scp", required=True, help="feats.scp of the train split")
    p.add_argument("--out", required=True, help="stats.npz to write")
    args = p.parse_args()
    logger = _cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.feats.stats import compute_stats, save_stats

    stats = compute_stats(args.feats_scp)
    save_stats(stats, args.out)
    logger.info("wrote %s: %d frames, %d dims, mean of std %.3f", args.out, stats["count"],
                len(stats["mean"]), float(stats["std"].mean()))


if __name__ == "__main__":
    _cli.run(main)

#!/usr/bin/env python
"""Mean/std of the train features: writes stats.npz (mean, std, count; pitch_*/energy_* too).

When pitch.scp and energy.scp lie beside feats.scp (dumped by steps/make_feats.py with the feats
conf's pitch_energy: true), their statistics are added: log-F0 over voiced frames, log energy
over all frames (see pytorch_backend/feats/stats.py).

Example:
    python steps/compute_stats.py --feats-scp dump/espeak_emo/mel80/train/feats.scp \
        --out dump/espeak_emo/mel80/stats.npz
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--feats-scp", required=True, help="feats.scp of the train split")
    p.add_argument("--out", required=True, help="stats.npz to write")
    args = p.parse_args()
    logger = cli.setup_logging(args.log, args.verbose)

    from pathlib import Path

    from pytorch_backend.feats.stats import PROSODY_KINDS, compute_prosody_stats, compute_stats, save_stats

    stats = compute_stats(args.feats_scp)
    for kind in PROSODY_KINDS:
        scp = Path(args.feats_scp).parent / f"{kind}.scp"
        if scp.is_file():
            stats.update(compute_prosody_stats(scp, kind))
            logger.info("%s: mean %.4f std %.4f over %d frames", scp, stats[f"{kind}_mean"],
                        stats[f"{kind}_std"], stats[f"{kind}_count"])
    save_stats(stats, args.out)
    logger.info("wrote %s: %d frames, %d dims, mean of std %.3f", args.out, stats["count"],
                len(stats["mean"]), float(stats["std"].mean()))


if __name__ == "__main__":
    cli.run(main)

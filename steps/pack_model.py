#!/usr/bin/env python
"""Pack a trained experiment into one file that synthesizes anywhere (pytorch_backend/synth/assets.py).

Example:
    python -m steps.pack_model --exp-dir exp/espeak_emo_gst --out exp/espeak_emo_gst/pack.zip
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--exp-dir", required=True, help="exp/<exp> (with assets.json)")
    p.add_argument("--out", required=True, help="exp/<exp>/pack.zip")
    args = p.parse_args()
    logger = cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.synth.export import pack_experiment

    manifest = pack_experiment(args.exp_dir, args.out)
    logger.info("wrote %s: %s", args.out, ", ".join(manifest["members"]))


if __name__ == "__main__":
    cli.run(main)

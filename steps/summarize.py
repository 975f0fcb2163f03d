#!/usr/bin/env python
"""Gather an experiment's results into summary.json and results.md, then write done.

Example:
    python steps/summarize.py --exp-dir exp/espeak_emo_gst --ser-dir exp/espeak_emo_ser \
        --vocoders griffin_lim --split eval --log exp/espeak_emo_gst/log/summarize.log
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--exp-dir", required=True, help="exp/<corpus>_<model>")
    p.add_argument("--ser-dir", required=True, help="exp/<corpus>_ser (ser.json)")
    p.add_argument("--vocoders", nargs="+", required=True, help="vocoder names (synth/ and eval/ subdirs)")
    p.add_argument("--split", default="eval", help="the decoded split (default: eval)")
    p.add_argument("--no-floor", action="store_true",
                   help="the analysis-synthesis floor was not evaluated (eval.floor: false)")
    p.add_argument("--real-dir", default=None,
                   help="exp/<corpus>_real/<split>: the judges' scores of the real recordings")
    p.add_argument("--textemo-dir", default=None,
                   help="exp/<corpus>_textemo: the text emotion classifier (textemo.json)")
    args = p.parse_args()
    logger = cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.eval.summary import summarize

    summary = summarize(args.exp_dir, args.ser_dir, args.vocoders, args.split, floor=not args.no_floor,
                        real_dir=args.real_dir, textemo_dir=args.textemo_dir)
    for voc, entry in summary["vocoders"].items():
        logger.info("%s: MCD %s dB, emotion accuracy %s (real %s), RTF %s", voc, entry["synth"]["mcd_mean"],
                    entry["synth"]["emotion_accuracy"], summary["ser"]["real_accuracy"], entry["rtf"])


if __name__ == "__main__":
    cli.run(main)

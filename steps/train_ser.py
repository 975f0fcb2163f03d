#!/usr/bin/env python
"""Train the corpus's speech-emotion classifier on real speech; score it on the real eval split.

Example:
    python steps/train_ser.py --conf '{"emotions": [...], "feats": {...}, "feats_name": "mel80",
        "ser": {...}}' --data-root data/espeak_emo --dump dump/espeak_emo/mel80 \
        --out exp/espeak_emo_ser --log exp/espeak_emo_ser/log/train_ser.log

Writes OUT/model.pt, OUT/ser.json, OUT/confusion_real_eval.png, OUT/curves.png, then OUT/done.
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--data-root", required=True, help="data/<corpus> (train, dev, eval dirs with utt2emo)")
    p.add_argument("--dump", required=True, help="dump/<corpus>/<feats> (split feats.scp + stats.npz)")
    p.add_argument("--out", required=True, help="output dir, e.g. exp/<corpus>_ser")
    p.add_argument("--conf-source", default="conf/eval.yaml",
                   help="the conf file named in config errors (the ser section comes from there)")
    args = p.parse_args()
    logger = cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.errors import ConfigError
    from pytorch_backend.ser.train import train_ser

    if not args.conf.get("emotions"):
        raise ConfigError(args.conf_source, "the --conf JSON needs the corpus 'emotions' list", key="emotions")
    result = train_ser(args.conf, args.data_root, args.dump, args.out, source=args.conf_source)
    logger.info("wrote %s: real eval accuracy %.4f over %d utterances", args.out,
                result["accuracy"], result["num_utts"])


if __name__ == "__main__":
    cli.run(main)

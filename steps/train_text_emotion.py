#!/usr/bin/env python
"""Train the corpus's text emotion classifier (tf-idf + logistic regression) on the train
split's text and utt2emo; score it on the eval split (pytorch_backend/synth/textemo.py).

Example:
    python -m steps.train_text_emotion --conf '{"emotions": ["neutral", "happy"], "language": "en"}' \
        --data-root data/espeak_emo --out exp/espeak_emo_textemo --log exp/espeak_emo_textemo/log/train.log

Writes OUT/model.json (JSON, no pickle), OUT/textemo.json (accuracy, confusion), OUT/confusion.png, then OUT/done.
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--data-root", required=True, help="data/<corpus> (train and eval dirs with text, utt2emo)")
    p.add_argument("--out", required=True, help="exp/<corpus>_textemo")
    args = p.parse_args()
    logger = cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.errors import ConfigError
    from pytorch_backend.synth.textemo import train_text_emotion

    if not args.conf.get("emotions"):
        raise ConfigError("--conf", "needs the corpus 'emotions' list", key="emotions")
    report = train_text_emotion(args.data_root, args.out, list(args.conf["emotions"]),
                                args.conf.get("language") or "en")
    logger.info("wrote %s: eval accuracy %.4f over %d texts", args.out, report["accuracy"], report["num_utts"])


if __name__ == "__main__":
    cli.run(main)

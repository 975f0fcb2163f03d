#!/usr/bin/env python
"""Train a TTS acoustic model (Tacotron 2 / GST) into exp/<exp>/train/.

Resumes from the newest loadable checkpoint; does nothing when training already finished.
Writes checkpoints/, best.pt, speakers.txt, curves.png, attention/, train.json and, last,
train.done.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _cli  # noqa: E402  (puts the repository on sys.path)


def main():
    p = _cli.parser(__doc__.splitlines()[0])
    _cli.add_model_job_args(p)
    p.add_argument("--out", required=True, help="exp/<exp>/train")
    args = p.parse_args()
    _cli.setup_logging(args.log, args.verbose)
    from pytorch_backend.train.run_tts import train_tts

    train_tts(args.conf, args.data_root, args.tokens, args.dump, args.out, gpus=args.gpus,
              threads=args.threads, source=args.source)


if __name__ == "__main__":
    _cli.run(main)

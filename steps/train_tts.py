#!/usr/bin/env python
"""Train a TTS acoustic model (any of pytorch_backend.tts.MODELS, named by the conf) into exp/<exp>/train/.

Resumes from the newest loadable checkpoint; does nothing when training already finished.
Writes checkpoints/, best.pt, speakers.txt, curves.png, attention/, train.json and, last,
train.done.
"""

from pytorch_backend.utils import cli


def main():
    p = cli.parser(__doc__.splitlines()[0])
    cli.add_model_job_args(p)
    p.add_argument("--out", required=True, help="exp/<exp>/train")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)
    from pytorch_backend.tts.training import train_tts

    train_tts(args.conf, args.data_root, args.tokens, args.dump, args.out, gpus=args.gpus,
              threads=args.threads, source=args.source)


if __name__ == "__main__":
    cli.run(main)

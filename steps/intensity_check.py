#!/usr/bin/env python
"""Intensity check: decode a fixed eval subset at each level of eval.intensity.levels (0 ... 1),
vocode with Griffin-Lim and report the emotion classifier's probability of the target emotion.

Writes <out>/intensity.json, intensity.png and level_<x>/ (decoded mels).
"""

from pytorch_backend.utils import cli


def main():
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--model-dir", required=True, help="exp/<exp>/train (holds best.pt)")
    cli.add_model_job_args(p)
    p.add_argument("--ser-dir", required=True, help="exp/<corpus>_ser (model.pt)")
    p.add_argument("--out", required=True, help="exp/<exp>/eval/intensity")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)
    from pytorch_backend.eval.intensity import intensity_check
    from pytorch_backend.train.device import choose_device, set_threads

    set_threads(args.threads)
    intensity_check(args.conf, args.model_dir, args.data_root, args.tokens, args.dump, args.ser_dir, args.out,
                    device=choose_device(args.gpus), source=args.source)


if __name__ == "__main__":
    cli.run(main)

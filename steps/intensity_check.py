#!/usr/bin/env python
"""Intensity check: decode a fixed eval subset at intensities 0, 0.5, 1 (eval.intensity.levels),
vocode with Griffin-Lim and report the emotion classifier's probability of the target emotion.

Writes <out>/intensity.json, intensity.png and level_<x>/ (decoded mels).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _cli  # noqa: E402  (puts the repository on sys.path)


def main():
    p = _cli.parser(__doc__.splitlines()[0])
    p.add_argument("--model-dir", required=True, help="exp/<exp>/train (holds best.pt)")
    _cli.add_model_job_args(p)
    p.add_argument("--ser-dir", required=True, help="exp/<corpus>_ser (model.pt)")
    p.add_argument("--out", required=True, help="exp/<exp>/eval/intensity")
    args = p.parse_args()
    _cli.setup_logging(args.log, args.verbose)
    from pytorch_backend.eval.intensity import intensity_check
    from pytorch_backend.train.device import choose_device, set_threads

    set_threads(args.threads)
    intensity_check(args.conf, args.model_dir, args.data_root, args.tokens, args.dump, args.ser_dir, args.out,
                    device=choose_device(args.gpus), source=args.source)


if __name__ == "__main__":
    _cli.run(main)

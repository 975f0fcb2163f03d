#!/usr/bin/env python
"""Run a command on GPUs no other local job holds: python -m steps.with_gpus --gpus N -- CMD ...

Takes N GPU slots (lock files; see pytorch_backend/utils/gpu_slots.py), sets
CUDA_VISIBLE_DEVICES and replaces itself with CMD, which keeps the slots until it exits or
dies. The Snakefile puts this in front of the GPU rules (train_tts, train_ser, decode).
Without GPUs (or with --gpus 0, or under SLURM) CMD runs unchanged.
"""

import sys

from pytorch_backend.utils import cli


def main() -> None:
    argv = sys.argv[1:]
    if "--" not in argv:
        print("usage: python -m steps.with_gpus --gpus N [--timeout S] -- CMD ...", file=sys.stderr)
        sys.exit(2)
    split = argv.index("--")
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--gpus", type=int, required=True, help="GPU slots to take (0: none)")
    p.add_argument("--timeout", type=float, default=None, help="give up after waiting this long (s)")
    args = p.parse_args(argv[:split])
    cli.setup_logging(args.log, args.verbose)
    from pytorch_backend.errors import ConfigError
    from pytorch_backend.utils.gpu_slots import GpuSlotError, run_with_gpus

    try:
        run_with_gpus(args.gpus, argv[split + 1:], timeout=args.timeout)
    except GpuSlotError as exc:
        raise ConfigError("--gpus", str(exc)) from None


if __name__ == "__main__":
    cli.run(main)

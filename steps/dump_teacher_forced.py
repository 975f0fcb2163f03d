#!/usr/bin/env python
"""Dump the teacher-forced (ground-truth-aligned) log-mels of a trained TTS model, for vocoder fine-tuning.

Example:
    python -m steps.dump_teacher_forced --model-dir exp/espeak_emo_gst/train --data-root data/espeak_emo \
        --tokens data/espeak_emo/tokens/phn --dump dump/espeak_emo/mel80 --split train \
        --out exp/espeak_emo_gst/teacher_forced

Writes OUT/<split>/feats.ark, utt2num_frames and feats.scp (last).
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--model-dir", required=True, help="exp/<corpus>_<model>/train (best.pt)")
    p.add_argument("--data-root", required=True, help="data/<corpus>")
    p.add_argument("--tokens", required=True, help="data/<corpus>/tokens/<type>")
    p.add_argument("--dump", required=True, help="dump/<corpus>/<feats> (real mels, stats.npz)")
    p.add_argument("--split", action="append", required=True, help="split(s) to dump")
    p.add_argument("--out", required=True, help="exp/<corpus>_<model>/teacher_forced")
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)

    import torch

    from pytorch_backend.vocoders.teacher_forced import dump_teacher_forced

    if args.threads:
        torch.set_num_threads(args.threads)
    dump_teacher_forced(args.model_dir, args.data_root, args.tokens, args.dump, args.split, args.out)


if __name__ == "__main__":
    cli.run(main)

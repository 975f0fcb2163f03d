#!/usr/bin/env python
"""Train the corpus's CTC recognizer on real train speech; score it on the real eval split.

Example:
    python -m steps.train_asr --conf '{"language": "en", "feats": {...}, "asr": {...}}' \
        --data-root data/espeak_emo --dump dump/espeak_emo/mel80 --out exp/espeak_emo_asr \
        --log exp/espeak_emo_asr/log/train_asr.log

Writes OUT/checkpoints/ (resumed when started again), OUT/model.pt, OUT/asr.json (CER/WER on
the real eval recordings), OUT/curves.png, then OUT/done.
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--data-root", required=True, help="data/<corpus> (train, dev, eval dirs with text)")
    p.add_argument("--dump", required=True, help="dump/<corpus>/<feats> (split feats.scp + stats.npz)")
    p.add_argument("--out", required=True, help="output dir, e.g. exp/<corpus>_asr")
    p.add_argument("--gpus", type=int, default=0, help="GPUs granted to this job (0: CPU)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: OMP_NUM_THREADS)")
    p.add_argument("--conf-source", default="conf/eval.yaml",
                   help="the conf file named in config errors (the asr section comes from there)")
    args = p.parse_args()
    logger = cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.asr.train import train_asr
    from pytorch_backend.train.device import choose_device, set_threads

    set_threads(args.threads)
    result = train_asr(args.conf, args.data_root, args.dump, args.out, device=choose_device(args.gpus),
                       source=args.conf_source)
    logger.info("wrote %s: real eval CER %.4f, WER %.4f over %d utterances (%d steps, %.1f s)", args.out,
                result["cer"], result["wer"], result["num_utts"], result["steps"], result["train_seconds"])


if __name__ == "__main__":
    cli.run(main)

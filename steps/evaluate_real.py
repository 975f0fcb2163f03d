#!/usr/bin/env python
"""Score the real recordings of a split with the judges of synthesized speech (DNSMOS, the
recognizer's CER, PocketSphinx WER, speaker similarity, the emotion classifier): the
real-recording row of every results table, once per corpus.

Example:
    python -m steps.evaluate_real --conf '{"eval": {...}, "feats": {...}, "emotions": [...],
        "corpus": "espeak_emo", "language": "en", "allow_pipes": false}' \
        --ref-data-dir data/espeak_emo/eval --ser-dir exp/espeak_emo_ser --asr-dir exp/espeak_emo_asr \
        --dump dump/espeak_emo/mel80 --out exp/espeak_emo_real/eval

Writes OUT/per_utt.tsv and OUT/metrics.json (last).
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--ref-data-dir", required=True, help="data/<corpus>/<split> (wav.scp, text, utt2spk, utt2emo)")
    p.add_argument("--ser-dir", required=True, help="exp/<corpus>_ser (model.pt)")
    p.add_argument("--asr-dir", default=None, help="exp/<corpus>_asr (model.pt); none: no CER")
    p.add_argument("--dump", required=True, help="dump/<corpus>/<feats> (stats.npz)")
    p.add_argument("--out", required=True, help="output dir, e.g. exp/<corpus>_real/<split>")
    p.add_argument("--nj", type=int, default=None, help="worker processes (default: $OMP_NUM_THREADS)")
    p.add_argument("--conf-source", default="conf/eval.yaml", help="the conf file named in config errors")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.eval.real import evaluate_real

    cli.require_conf_keys(args.conf, ("feats", "emotions"), args.conf_source)
    evaluate_real(args.conf, args.ref_data_dir, args.ser_dir, args.asr_dir, args.dump, args.out, nj=args.nj)


if __name__ == "__main__":
    cli.run(main)

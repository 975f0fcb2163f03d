#!/usr/bin/env python
"""Score synthesized speech: MCD, log-F0 RMSE, voicing error, emotion accuracy (SER) and the judges
from outside the corpus (DNSMOS, the recognizer's CER, PocketSphinx WER, speaker similarity).

Example:
    python steps/evaluate.py --conf '{"eval": {...}, "feats": {...}, "emotions": [...],
        "allow_pipes": false}' --synth-wav-scp exp/espeak_emo_gst/synth/griffin_lim/eval/wav.scp \
        --ref-data-dir data/espeak_emo/eval --ser-dir exp/espeak_emo_ser \
        --dump dump/espeak_emo/mel80 --out exp/espeak_emo_gst/eval/griffin_lim/eval

Writes OUT/per_utt.tsv, OUT/confusion.png and OUT/metrics.json (last).
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--synth-wav-scp", required=True, help="wav.scp of the synthesized utterances")
    p.add_argument("--ref-data-dir", required=True, help="data/<corpus>/<split>: reference wav.scp + utt2emo")
    p.add_argument("--ser-dir", required=True, help="exp/<corpus>_ser (model.pt)")
    p.add_argument("--dump", required=True, help="dump/<corpus>/<feats> (stats.npz)")
    p.add_argument("--out", required=True, help="output dir, e.g. exp/<exp>/eval/<vocoder>/<split>")
    p.add_argument("--targets", default=None,
                   help="utt2emo of the intended emotions (decode/<split>/utt2emo; default: the reference's)")
    p.add_argument("--asr-dir", default=None,
                   help="exp/<corpus>_asr (model.pt): the recognizer whose CER judges intelligibility")
    p.add_argument("--nj", type=int, default=None,
                   help="worker processes for MCD/F0 (default: $OMP_NUM_THREADS, else all cores)")
    p.add_argument("--ref-analysis", default=None,
                   help="reference_analysis.npz of the reference split (steps/analyse_reference.py); "
                        "default: analyse the references here")
    p.add_argument("--conf-source", default="conf/eval.yaml", help="the conf file named in config errors")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.eval.evaluate import evaluate_dir

    cli.require_conf_keys(args.conf, ("feats", "emotions"), args.conf_source)
    evaluate_dir(args.conf, args.synth_wav_scp, args.ref_data_dir, args.ser_dir, args.dump, args.out,
                 nj=args.nj, conf_source=args.conf_source, targets=args.targets, asr_dir=args.asr_dir,
                 ref_analysis=args.ref_analysis)


if __name__ == "__main__":
    cli.run(main)

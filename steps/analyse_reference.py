#!/usr/bin/env python
"""Analyse the real recordings of a split once for every evaluation against them: the SPTK
mel-cepstrum and Harvest F0 of MCD and log-F0 RMSE (pytorch_backend/eval/reference.py).

Example:
    python -m steps.analyse_reference --conf '{"eval": {"mcd": {...}, "f0": {...}}, "feats": {...},
        "emotions": [...], "allow_pipes": false}' --ref-data-dir data/espeak_emo/eval \
        --out exp/espeak_emo_real/eval/reference_analysis.npz

Writes OUT (one file, atomically); steps/evaluate.py reads it with --ref-analysis.
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--ref-data-dir", required=True, help="data/<corpus>/<split> (wav.scp, utt2emo)")
    p.add_argument("--out", required=True, help="the .npz to write, e.g. exp/<corpus>_real/<split>/reference_analysis.npz")
    p.add_argument("--nj", type=int, default=None, help="worker processes (default: $OMP_NUM_THREADS)")
    p.add_argument("--conf-source", default="conf/eval.yaml", help="the conf file named in config errors")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.errors import ConfigError
    from pytorch_backend.eval.reference import analyse_references

    cli.require_conf_keys(args.conf, ("feats", "emotions"), args.conf_source)
    try:
        analyse_references(args.conf, args.ref_data_dir, args.out, nj=args.nj)
    except ValueError as exc:  # an fs without default mel-cepstrum settings
        raise ConfigError(args.conf_source, str(exc), key="mcd.mcep_dim") from None


if __name__ == "__main__":
    cli.run(main)

#!/usr/bin/env python
"""Dump log-mel features of a Kaldi data dir: OUT/feats.scp (+ feats.<j>.ark), utt2num_frames
and (feats conf pitch_energy: true) the frame-level F0 and log energy: OUT/pitch.scp, OUT/energy.scp.

Example:
    python steps/make_feats.py --conf '{"fs": 22050, "n_mels": 80}' \
        --data-dir data/espeak_emo/train --out dump/espeak_emo/mel80/train --nj 2
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True, help="Kaldi data dir with wav.scp")
    p.add_argument("--out", required=True, help="output dir (dump/<corpus>/<feats>/<split>)")
    p.add_argument("--nj", type=int, default=None, help="parallel jobs (default: conf nj)")
    p.add_argument("--allow-pipes", action="store_true", help="run 'cmd |' entries of wav.scp")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.config import FEATS_SCHEMA, check_keys, deep_merge, defaults_of
    from pytorch_backend.feats.dump import dump_feats

    check_keys(args.conf, FEATS_SCHEMA, "--conf")
    conf = deep_merge(defaults_of(FEATS_SCHEMA), args.conf)
    dump_feats(conf, args.data_dir, args.out, nj=args.nj, allow_pipes=args.allow_pipes)


if __name__ == "__main__":
    cli.run(main)

#!/usr/bin/env python
"""Synthesize an experiment's fixed report sample set (pytorch_backend/synth/report_samples.py).

Example:
    python -m steps.report_samples --model exp/espeak_emo_gst --data-dir data/espeak_emo/eval \
        --vocoders griffin_lim --floor griffin_lim=exp/espeak_emo_gst/synth/griffin_lim/floor/wav.scp \
        --out exp/espeak_emo_gst/samples --log exp/espeak_emo_gst/log/report_samples.log
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="exp/<exp> (its assets.json) or a packed model")
    p.add_argument("--data-dir", required=True, help="the eval split's data dir (text, utt2emo, utt2spk, wav.scp)")
    p.add_argument("--vocoders", nargs="+", default=None, help="vocoders to synthesize with (default: the model's)")
    p.add_argument("--floor", action="append", default=[], metavar="VOCODER=WAV_SCP",
                   help="the analysis-synthesis floor of a vocoder (repeatable)")
    p.add_argument("--sentences", type=int, default=2, help="eval sentences per emotion (default 2)")
    p.add_argument("--levels", default="0,0.5,1", help="intensities of the sweep (default 0,0.5,1)")
    p.add_argument("--allow-pipes", action="store_true", help="the corpus's wav.scp may hold commands")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--out", required=True, help="exp/<exp>/samples")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.errors import ConfigError
    from pytorch_backend.synth.report_samples import collect_samples
    from pytorch_backend.synth.synthesizer import Synthesizer

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    floors = {}
    for item in args.floor:
        voc, sep, scp = item.partition("=")
        if not sep or not voc or not scp:
            raise ConfigError("<command line>", f"expected VOCODER=WAV_SCP, got '{item}'", key="--floor")
        floors[voc] = scp
    try:
        levels = [float(x) for x in args.levels.split(",") if x.strip()]
    except ValueError:
        raise ConfigError("<command line>", f"not a list of numbers: '{args.levels}'", key="--levels") from None
    if not levels or any(not 0.0 <= x <= 1.0 for x in levels):
        raise ConfigError("<command line>", f"intensities must lie in [0, 1]: '{args.levels}'", key="--levels")
    synth = Synthesizer.load(args.model)
    collect_samples(synth, args.data_dir, args.out, vocoders=args.vocoders, floors=floors,
                    per_emotion=args.sentences, levels=levels, allow_pipes=args.allow_pipes)


if __name__ == "__main__":
    cli.run(main)

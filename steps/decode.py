#!/usr/bin/env python
"""Decode (synthesize log-mels for) a split with a trained TTS model.

Writes <out>/feats.ark + feats.scp (raw log-mel, scp last), utt2emo (intended emotions),
decode.json and plots/. Emotion controls come from the conf's decode section; the options
below override them (a control the model does not support is an error naming it):

    python -m steps.decode ... --emotion happy --intensity 0.5
    python -m steps.decode ... --mix happy=0.7,sad=0.3
    python -m steps.decode ... --reference-wav ref.wav           # gst, vae, emo_cvae
    python -m steps.decode ... --gst-weights 0,0,1,0,0,0,0,0,0,0 # gst (';' separates heads)
"""

from pytorch_backend.utils import cli


def main():
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--model-dir", required=True, help="exp/<exp>/train (holds best.pt)")
    cli.add_model_job_args(p)
    p.add_argument("--split", default=None, help="split to decode (default: decode.split of the conf)")
    p.add_argument("--out", required=True, help="exp/<exp>/decode/<split>")
    p.add_argument("--utts", default=None, help="decode only these utterances (comma-separated ids)")
    g = p.add_argument_group("emotion controls (override the conf's decode section)")
    g.add_argument("--emotion", default=None, help="one emotion label for every utterance")
    g.add_argument("--intensity", type=float, default=None, help="0..1: from --neutral-emotion to the emotion")
    g.add_argument("--neutral-emotion", dest="neutral", default=None, help="the label of intensity 0")
    g.add_argument("--mix", default=None, help="a mixture of two emotions: label=w,label=w (weights sum to 1)")
    g.add_argument("--reference-wav", default=None, help="gst/vae/emo_cvae: take the style of this recording")
    g.add_argument("--gst-weights", default=None, help="gst: style-token weights w1,w2,... (';' between heads)")
    g.add_argument("--style", default=None, choices=["emotion_mean", "prior"],
                   help="latent models: emotion-mean styles or (emo_cvae) the learned prior means")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)
    from pytorch_backend.train.device import choose_device, set_threads
    from pytorch_backend.tts.loading import tts_conf_of
    from pytorch_backend.tts.controls import parse_mix, parse_weights
    from pytorch_backend.tts.inference import decode

    set_threads(args.threads)
    split = args.split or tts_conf_of(args.conf, args.source)["decode"]["split"]
    overrides = {"emotion": args.emotion, "intensity": args.intensity, "neutral": args.neutral,
                 "mix": parse_mix(args.mix) if args.mix else None, "reference_wav": args.reference_wav,
                 "gst_weights": parse_weights(args.gst_weights) if args.gst_weights else None,
                 "style": args.style}
    utts = args.utts.split(",") if args.utts else None
    decode(args.conf, args.model_dir, args.data_root, split, args.tokens, args.dump, args.out,
           device=choose_device(args.gpus), source=args.source, overrides=overrides, utts=utts)


if __name__ == "__main__":
    cli.run(main)

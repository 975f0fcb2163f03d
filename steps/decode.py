#!/usr/bin/env python
"""Decode (synthesize log-mels for) a split with a trained TTS model.

Writes <out>/feats.ark + feats.scp (raw log-mel, scp last), decode.json and plots/.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _cli  # noqa: E402  (puts the repository on sys.path)


def main():
    p = _cli.parser(__doc__.splitlines()[0])
    p.add_argument("--model-dir", required=True, help="exp/<exp>/train (holds best.pt)")
    _cli.add_model_job_args(p)
    p.add_argument("--split", default=None, help="split to decode (default: decode.split of the conf)")
    p.add_argument("--out", required=True, help="exp/<exp>/decode/<split>")
    p.add_argument("--reference-wav", default=None, help="GST: take the style of this recording")
    args = p.parse_args()
    _cli.setup_logging(args.log, args.verbose)
    from pytorch_backend.train.device import choose_device, set_threads
    from pytorch_backend.train.run_tts import tts_conf_of
    from pytorch_backend.tts.inference import decode

    set_threads(args.threads)
    split = args.split or tts_conf_of(args.conf, args.source)["decode"]["split"]
    decode(args.conf, args.model_dir, args.data_root, split, args.tokens, args.dump, args.out,
           reference_wav=args.reference_wav, device=choose_device(args.gpus), source=args.source)


if __name__ == "__main__":
    _cli.run(main)

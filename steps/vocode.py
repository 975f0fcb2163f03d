#!/usr/bin/env python
"""Turn log-mel features into wavs with a registered vocoder: OUT/wav/*.wav, OUT/wav.scp.

Example:
    python steps/vocode.py \
        --conf '{"vocoder": {"name": "griffin_lim", "conf": {"n_iter": 32}}, "feats": {"fs": 22050}}' \
        --feats-scp exp/x/decode/eval/feats.scp --out exp/x/synth/griffin_lim/eval
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--feats-scp", required=True, help="log-mel feats.scp (raw, dump scale)")
    p.add_argument("--out", required=True, help="output dir (exp/<exp>/synth/<vocoder>/<split>)")
    p.add_argument("--model-dir", default=None, help="trained vocoder dir (neural vocoders only)")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.config import FEATS_SCHEMA, VOCODER_SCHEMA, check_keys, deep_merge, defaults_of
    from pytorch_backend.errors import ConfigError
    from pytorch_backend.vocoders import build_vocoder
    from pytorch_backend.vocoders.synth import vocode_scp

    voc = args.conf.get("vocoder")
    if not isinstance(voc, dict) or not voc.get("name"):
        raise ConfigError("--conf", "needs {'vocoder': {'name': ..., 'conf': {...}}}", key="vocoder")
    check_keys(voc, VOCODER_SCHEMA, "--conf", "vocoder")
    check_keys(args.conf.get("feats", {}), FEATS_SCHEMA, "--conf", "feats")
    feats = deep_merge(defaults_of(FEATS_SCHEMA), args.conf.get("feats", {}))
    vocoder = build_vocoder(voc["name"], voc.get("conf") or {}, feats, model_dir=args.model_dir)
    vocode_scp(vocoder, args.feats_scp, args.out, n_mels=int(feats["n_mels"]))


if __name__ == "__main__":
    cli.run(main)

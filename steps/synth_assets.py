#!/usr/bin/env python
"""Make a trained experiment usable for synthesis: its emotion-mean styles (styles.pt) and the
index of everything synthesis reads (assets.json; pytorch_backend/synth/assets.py).

Example:
    python -m steps.synth_assets --exp-dir exp/espeak_emo_gst --data-root data/espeak_emo \
        --tokens data/espeak_emo/tokens/phn --dump dump/espeak_emo/mel80 \
        --ser exp/espeak_emo_ser/model.pt --text-emotion exp/espeak_emo_textemo/model.json \
        --vocoder hifigan=exp/espeak_emo_voc_hifigan/model.pt --default-vocoder griffin_lim
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--exp-dir", required=True, help="exp/<exp> (config.yaml, train/best.pt; gets styles.pt, assets.json)")
    p.add_argument("--data-root", required=True, help="data/<corpus> (the train split, for the styles)")
    p.add_argument("--tokens", required=True, help="data/<corpus>/tokens/<type> (token_list [+ bpe.model])")
    p.add_argument("--dump", required=True, help="dump/<corpus>/<feats> (train feats.scp, stats.npz)")
    p.add_argument("--ser", default=None, help="exp/<corpus>_ser/model.pt (for --emotion-from-wav)")
    p.add_argument("--text-emotion", default=None, help="exp/<corpus>_textemo/model.json (for --emotion auto)")
    p.add_argument("--vocoder", action="append", default=[], metavar="NAME=MODEL_PT",
                   help="a trained vocoder of the experiment (repeatable)")
    p.add_argument("--default-vocoder", default="griffin_lim", help="the vocoder synthesis uses by default")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = p.parse_args()
    logger = cli.setup_logging(args.log, args.verbose)

    from pathlib import Path

    from pytorch_backend.errors import ConfigError
    from pytorch_backend.synth.assets import INDEX_NAME, write_index
    from pytorch_backend.synth.export import compute_styles

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    exp, tokens, dump = Path(args.exp_dir), Path(args.tokens), Path(args.dump)
    vocoders = {}
    for item in args.vocoder:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ConfigError("<command line>", f"expected NAME=MODEL_PT, got '{item}'", key="--vocoder")
        vocoders[name] = path
    compute_styles(exp / "train", args.data_root, tokens, dump, exp / "styles.pt")
    files = {"model": exp / "train" / "best.pt", "config": exp / "config.yaml", "token_list": tokens / "token_list",
             "bpe_model": tokens / "bpe.model" if (tokens / "bpe.model").is_file() else None,
             "stats": dump / "stats.npz", "styles": exp / "styles.pt", "ser": args.ser,
             "text_emotion": args.text_emotion, "results": exp / "results.md"}
    write_index(exp / INDEX_NAME, exp.name, files, vocoders, args.default_vocoder)
    logger.info("wrote %s (vocoders: %s; default %s)", exp / INDEX_NAME, ", ".join(["griffin_lim", *vocoders]),
                args.default_vocoder)


if __name__ == "__main__":
    cli.run(main)

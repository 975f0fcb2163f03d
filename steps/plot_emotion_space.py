#!/usr/bin/env python
"""Map a trained model's emotion space: the style/emotion embedding of every TRAIN utterance,
projected by PCA and t-SNE and coloured by label.

Writes <out>/emotion_space_pca.png, emotion_space_tsne.png and emotion_space.json.
"""

from pytorch_backend.utils import cli


def main():
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--model-dir", required=True, help="exp/<exp>/train (holds best.pt)")
    cli.add_model_job_args(p)
    p.add_argument("--out", required=True, help="exp/<exp>/plots")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)
    from pathlib import Path

    from pytorch_backend.eval.emotion_space import map_emotion_space
    from pytorch_backend.train.device import choose_device, set_threads
    from pytorch_backend.tts.loading import load_split, load_trained

    set_threads(args.threads)
    device = choose_device(args.gpus)
    model, meta = load_trained(args.model_dir, device, args.source)
    train = load_split(args.data_root, args.tokens, args.dump, "train", meta["tokens"], meta["speakers"],
                       meta["emotions"], n_mels=meta["n_mels"])
    sconf = (args.conf.get("eval") or {}).get("emotion_space") or {}
    map_emotion_space(model, train, meta["emotions"], args.out, title=Path(args.model_dir).resolve().parent.name,
                      device=device, max_utts=int(sconf.get("max_utts", 1000)), tsne=bool(sconf.get("tsne", True)),
                      perplexity=float(sconf.get("perplexity", 30.0)), seed=int(sconf.get("seed", 0)))


if __name__ == "__main__":
    cli.run(main)

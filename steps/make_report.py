#!/usr/bin/env python
"""Gather an experiment's (or a corpus's backends') report items: listening page, tables, plots.

Example:
    python -m steps.make_report --corpus espeak_emo --models gst --vocoders griffin_lim \
        --tables "espeak_emo_gst=exp/espeak_emo_gst/results.md" --out exp/espeak_emo_gst/report
"""

import re
from pathlib import Path

from pipeline import paths as P
from pytorch_backend.utils import cli

STEP = re.compile(r"step_(\d+)\.png$")


def figures_of(corpus: str, model: str, vocoders: list[str], split: str, floor: bool) -> list[tuple]:
    """(kind, name, png, caption) of an experiment's plots, from the DAG's path table."""
    exp = P.fill(P.EXP, corpus=corpus, model=model)
    train = Path(P.fill(P.TRAIN, corpus=corpus, model=model))
    out = [("curves", model, train / "curves.png",
            f"Training curves of **{model}** (``{exp}``): train and dev loss terms per step.")]
    steps = sorted(train.glob("attention/step_*.png"), key=lambda p: int(STEP.search(p.name).group(1)))
    if steps:
        out.append(("attention", model, steps[-1],
                    f"Teacher-forced attention of one dev utterance, **{model}**, at training step "
                    f"{STEP.search(steps[-1].name).group(1)} (the last plotted): a clean diagonal is a learned alignment."))
    samples = Path(P.fill(P.SAMPLES, corpus=corpus, model=model))
    for png in sorted(samples.glob("mels/*.png")):
        emotion, _, sentence = png.stem.rpartition("_")
        out.append(("mels", f"{model}_{png.stem}", png,
                    f"Log-mel spectrograms of sentence {sentence} in emotion **{emotion}**: the real recording "
                    f"(top) and **{model}**'s synthesis of its text (bottom)."))
    for voc in vocoders:
        names = [split] + (["floor"] if floor else [])
        for name in names:
            what = ("the analysis-synthesis floor (real mels through the vocoder)" if name == "floor"
                    else f"**{model}**'s synthesized {name} utterances")
            out.append(("confusion", f"{model}_{voc}_{name}",
                        Path(P.fill(P.EVAL, corpus=corpus, model=model, vocoder=voc, name=name)) / "confusion.png",
                        f"Confusion of the corpus's emotion classifier on {what}, vocoder **{voc}**: rows are "
                        "the intended emotions, columns what the classifier heard."))
    plots = Path(P.fill(P.PLOTS, corpus=corpus, model=model))
    for method in ("pca", "tsne"):
        out.append(("emotion_maps", f"{model}_{method}", plots / f"emotion_space_{method}.png",
                    f"The train utterances' style/latent (or label-path) embeddings of **{model}** in 2-D "
                    f"({method.upper()}), coloured by emotion."))
    out.append(("intensity", model, Path(P.fill(P.INTENSITY, corpus=corpus, model=model)) / "intensity.png",
                f"**{model}**: the emotion classifier's probability of the target emotion at each intensity "
                "(a fixed eval subset); it should rise from 0 to 1."))
    return out


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--corpus", required=True)
    p.add_argument("--models", nargs="+", required=True, help="the backends, in the order of the columns")
    p.add_argument("--vocoders", nargs="+", required=True, help="the vocoders each experiment evaluates")
    p.add_argument("--split", default="eval", help="the evaluated split")
    p.add_argument("--no-floor", action="store_true", help="the floor was not evaluated")
    p.add_argument("--tables", action="append", default=[], metavar="HEADING=RESULTS_MD",
                   help="a results markdown file for the tables page (repeatable)")
    p.add_argument("--title", default=None)
    p.add_argument("--out", required=True, help="exp/<exp>/report or results/report/<corpus>")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.errors import ConfigError
    from pytorch_backend.synth.report_pages import build_report

    tables = []
    for item in args.tables:
        heading, sep, path = item.partition("=")
        if not sep or not path:
            raise ConfigError("<command line>", f"expected HEADING=RESULTS_MD, got '{item}'", key="--tables")
        tables.append((heading, path))
    figures = []
    for model in args.models:
        figures += figures_of(args.corpus, model, args.vocoders, args.split, not args.no_floor)
    ser = Path(P.fill(P.SER, corpus=args.corpus))
    figures.append(("confusion", "real_speech", ser / "confusion_real_eval.png",
                    f"Confusion of the {args.corpus} emotion classifier on the real {args.split} recordings "
                    "(the judge of every synthesized-speech score)."))
    figures.append(("curves", "emotion_classifier", ser / "curves.png",
                    f"Training curves of the {args.corpus} emotion classifier."))
    sample_dirs = [P.fill(P.SAMPLES, corpus=args.corpus, model=m) for m in args.models]
    title = args.title or (P.fill(P.EXP, corpus=args.corpus, model=args.models[0]).rpartition("/")[2]
                           if len(args.models) == 1 else f"{args.corpus}: every backend")
    build_report(args.out, title, sample_dirs, figures, tables)


if __name__ == "__main__":
    cli.run(main)

"""The ``emotts`` console script (installed by ``make setup``; also ``python -m steps.synthesize``).

    emotts synthesize -m exp/espeak_emo_gst --text "We won the cup!" --emotion happy -o won.wav
    emotts synthesize -m pack.zip --text-file lines.txt --out-dir wavs/ --intensity 0.5
    emotts info -m pack.zip          # emotions, speakers, controls, vocoders (JSON)

``-m`` is an experiment directory or a packed model. See pytorch_backend/synth/text.py for the
inline emotion tags and the text-file format (one utterance per line, optional
``[key=value ...]`` controls in front). Any bad input is one ``ERROR:`` line naming the option,
file, line or column; the exit status is then 1 (2 for a usage error).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

log = logging.getLogger("emotts.synth")

LINE_GROUPS = (("emotion", "mix", "emotion_from_wav"), ("reference_wav", "gst_weights"))


def add_synthesize_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--model", required=True, help="exp/<exp> (with assets.json) or a packed model (pack.zip)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="the text to say (inline tags: <happy 0.8>...</happy>)")
    src.add_argument("--text-file", help="one utterance per line, optional [key=value ...] controls in front")
    dst = p.add_mutually_exclusive_group(required=True)
    dst.add_argument("-o", "--out", help="one wav (the lines of a text file are joined with pauses)")
    dst.add_argument("--out-dir", help="one wav per utterance (<id>.wav), wav.scp and synth.json")
    g = p.add_argument_group("speaker and emotion")
    g.add_argument("--speaker", default=None, help="a train speaker (default: the first); see `emotts info`")
    g.add_argument("--emotion", default=None, help="an emotion label, or 'auto' (predicted from the text)")
    g.add_argument("--intensity", type=float, default=1.0, help="0..1: from the neutral label to the emotion")
    g.add_argument("--mix", default=None, help="two emotions: label=w,label=w (weights sum to 1)")
    g.add_argument("--emotion-from-wav", default=None,
                   help="a recording whose emotion (by the corpus's emotion classifier) drives the soft label")
    g.add_argument("--reference-wav", default=None, help="gst/vae/emo_cvae: take the style of this recording")
    g.add_argument("--gst-weights", default=None, help="gst: style-token weights w1,w2,... (';' between heads)")
    g.add_argument("--style", default=None, choices=["emotion_mean", "prior"],
                   help="latent models: emotion-mean styles or (emo_cvae) the learned prior means")
    g = p.add_argument_group("prosody (fastspeech2)")
    g.add_argument("--speed", type=float, default=1.0, help="speaking rate factor (2: twice as fast)")
    g.add_argument("--pitch-scale", type=float, default=1.0, help="F0 factor (1.2: 20%% higher)")
    g.add_argument("--energy-scale", type=float, default=1.0, help="frame energy factor")
    g = p.add_argument_group("synthesis")
    g.add_argument("--vocoder", default=None, help="griffin_lim or a vocoder trained for the corpus "
                   "(default: the model's); see `emotts info`")
    g.add_argument("--seed", type=int, default=None, help="seed of sentence 1 (sentence k: seed + k - 1)")
    g.add_argument("--batch-size", type=int, default=16, help="sentences synthesized together")
    g.add_argument("--max-tokens", type=int, default=150, help="longer sentences are split at clauses/words")
    g.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    g.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--verbose", action="store_true")


def requests_of(args) -> list:
    """The requests of the command line: one for --text, one per line of --text-file."""
    from pytorch_backend.synth.synthesizer import Request
    from pytorch_backend.synth.text import parse_text_file

    defaults = {"speaker": args.speaker, "emotion": args.emotion, "intensity": args.intensity, "mix": args.mix,
                "emotion_from_wav": args.emotion_from_wav, "reference_wav": args.reference_wav,
                "gst_weights": args.gst_weights, "style": args.style, "speed": args.speed,
                "pitch_scale": args.pitch_scale, "energy_scale": args.energy_scale, "seed": args.seed}
    if args.text is not None:
        return [Request(args.text, id="utt0001", source="--text", **defaults)]
    path = Path(args.text_file)
    out = []
    for n, line in enumerate(parse_text_file(path), start=1):
        controls = dict(defaults)
        for group in LINE_GROUPS:  # a line's own choice replaces the command's in its group
            if any(k in line.controls for k in group):
                controls.update({k: None for k in group})
        for key, value in line.controls.items():
            if key in ("reference_wav", "emotion_from_wav"):
                value = str((path.parent / value)) if not Path(value).is_absolute() else value
            controls[key] = value
        rid = controls.pop("id", None) or f"utt{n:04d}"
        out.append(Request(line.text, id=rid, source=str(path), line=line.line, column=line.column, **controls))
    return out


def write_wav(path, wav, fs: int) -> None:
    import soundfile as sf

    from pytorch_backend.utils.fileio import atomic_path

    with atomic_path(path, suffix=".wav") as tmp:
        sf.write(str(tmp), wav, fs, subtype="PCM_16", format="WAV")


def synthesize_main(args) -> None:
    import time

    from pytorch_backend.data.validate import safe_file_stem
    from pytorch_backend.synth.synthesizer import Synthesizer, join_with_pauses
    from pytorch_backend.synth.text import PAUSES
    from pytorch_backend.synth.errors import RequestError
    from pytorch_backend.utils.fileio import write_text_atomic

    if args.threads:
        import torch

        torch.set_num_threads(int(args.threads))
    requests = requests_of(args)
    if args.out_dir:
        seen = {}
        for req in requests:
            try:
                safe_file_stem(req.id, req.source, req.line)
            except Exception as exc:
                raise RequestError("id", str(getattr(exc, "message", exc)), req.source, req.line) from None
            if req.id in seen:
                raise RequestError("id", f"'{req.id}' already names line {seen[req.id]}", req.source, req.line)
            seen[req.id] = req.line
    t0 = time.perf_counter()
    synth = Synthesizer.load(args.model, device=args.device, vocoder=args.vocoder, max_tokens=args.max_tokens)
    t1 = time.perf_counter()
    results = synth.synthesize(requests, batch_size=args.batch_size, progress=len(requests) > 1)
    wall = time.perf_counter() - t1
    fs = synth.sample_rate
    seconds = sum(len(r.wav) for r in results) / fs
    if args.out:
        pauses = [PAUSES["line"]] * (len(results) - 1) + [0.0]
        wav = join_with_pauses([(r.wav, p) for r, p in zip(results, pauses)], fs) if len(results) > 1 else results[0].wav
        write_wav(args.out, wav, fs)
        where = args.out
    else:
        out = Path(args.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for r in results:
            write_wav(out / f"{r.request.id}.wav", r.wav, fs)
        write_text_atomic(out / "synth.json", json.dumps(
            {"model": synth.info(), "vocoder": args.vocoder or synth.vocoder_name,
             "utterances": [r.record() for r in results]}, indent=2, ensure_ascii=False) + "\n")
        write_text_atomic(out / "wav.scp", "".join(f"{r.request.id} {(out / (r.request.id + '.wav')).resolve()}\n"
                                                   for r in results))
        where = f"{out}/ ({len(results)} wavs)"
    sentences = sum(len(r.sentences) for r in results)
    intended = sorted({s["intended"] for r in results for s in r.sentences})
    log.info("%s: %d sentence(s), %.2f s of audio in %.2f s (RTF %.3f; loading %.2f s), emotion(s) %s -> %s",
             synth.model_name, sentences, seconds, wall, wall / max(seconds, 1e-9), t1 - t0, ", ".join(intended),
             where)


def info_main(args) -> None:
    from pytorch_backend.synth.synthesizer import Synthesizer

    print(json.dumps(Synthesizer.load(args.model).info(), indent=2, ensure_ascii=False))


def add_serve_args(p: argparse.ArgumentParser) -> None:
    from pytorch_backend.synth.server import add_serve_args as add

    add(p)


def serve_main(args) -> None:
    from pytorch_backend.synth.server import serve_main as run

    run(args)


COMMANDS = {"synthesize": (add_synthesize_args, synthesize_main, "synthesize text with a trained model"),
            "info": (None, info_main, "what a trained model offers (emotions, speakers, controls, vocoders)"),
            "serve": (add_serve_args, serve_main, "a local web page and JSON API for a trained model "
                      "(pytorch_backend/synth/server.py)")}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="emotts", description="emotional text-to-speech with trained emotts models")
    sub = p.add_subparsers(dest="command", required=True)
    for name, (add_args, _, help_text) in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        if add_args is None:
            sp.add_argument("-m", "--model", required=True, help="exp/<exp> or a packed model (pack.zip)")
            sp.add_argument("--verbose", action="store_true")
        else:
            add_args(sp)
    return p


def main(argv=None) -> int:
    """Entry point of ``emotts``; returns the exit status (errors: one line on stderr, 1)."""
    from pytorch_backend.errors import EmottsError

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)
    try:
        COMMANDS[args.command][1](args)
    except EmottsError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


def _quiet_imports() -> None:
    import warnings

    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)


def console() -> None:
    """``[project.scripts] emotts``."""
    _quiet_imports()
    sys.exit(main())


def synthesize_console(argv=None) -> None:
    """``python -m steps.synthesize ...`` = ``emotts synthesize ...``."""
    _quiet_imports()
    sys.exit(main(["synthesize", *(sys.argv[1:] if argv is None else argv)]))


def serve_console(argv=None) -> None:
    """``python -m steps.serve ...`` = ``emotts serve ...``."""
    _quiet_imports()
    sys.exit(main(["serve", *(sys.argv[1:] if argv is None else argv)]))

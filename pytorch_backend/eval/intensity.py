"""Intensity check: does the emotion get stronger as the requested intensity rises?

A fixed subset of the eval split (the first ``utts_per_emotion`` utterances, C order, of each
emotion other than neutral) is decoded at every intensity level (0 = the neutral label,
1 = the utterance's own emotion; see pytorch_backend/tts/controls.py), vocoded with
Griffin-Lim and scored by the corpus's emotion classifier. Reported per level: the mean
probability the classifier gives the TARGET emotion (overall and per emotion) and its
accuracy. ``monotonic`` says whether the mean probability rises from level to level.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch

from pytorch_backend.data.kaldi_map import c_sorted, read_kv
from pytorch_backend.utils.fileio import write_text_atomic

log = logging.getLogger("emotts.intensity")


def pick_utterances(utt2emo_path, emotions: list[str], neutral: str, per_emotion: int) -> list[str]:
    utt2emo = read_kv(utt2emo_path)
    chosen = []
    for emo in emotions:
        if emo == neutral:
            continue
        chosen += [u for u in c_sorted(utt2emo) if utt2emo[u] == emo][:per_emotion]
    return chosen


def target_probabilities(predictor, mats: list[np.ndarray], targets: list[int], mean, std) -> np.ndarray:
    from pytorch_backend.ser.data import normalize

    logits = predictor.logits([normalize(m, mean, std) for m in mats])
    probs = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    return probs[np.arange(len(targets)), targets], probs.argmax(axis=1)


def level_name(level: float) -> str:
    return f"{level:g}"


def intensity_check(conf: dict, model_dir, data_root, tokens_dir, dump_dir, ser_dir, out_dir, device="cpu",
                    source="<conf>", progress: bool = True) -> dict:
    """Decode, vocode and score the subset at every level; write ``intensity.json`` (+ plot)."""
    from pytorch_backend.errors import ConfigError
    from pytorch_backend.feats.logmel import LogMelExtractor
    from pytorch_backend.feats.stats import load_stats
    from pytorch_backend.plots.intensity import plot_intensity
    from pytorch_backend.ser.infer import EmotionPredictor
    from pytorch_backend.tts.controls import check_supported, controls_from_conf
    from pytorch_backend.tts.inference import decode, load_trained
    from pytorch_backend.vocoders.griffin_lim import GriffinLim

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    iconf = conf["eval"]["intensity"]
    levels = [float(x) for x in iconf["levels"]]
    emotions = list(conf["emotions"])
    neutral = (conf["tts"].get("decode") or {}).get("neutral") or "neutral"
    model, meta = load_trained(model_dir, device, source)
    record = {"levels": levels, "neutral": neutral}
    try:
        check_supported(model, meta["model"], controls_from_conf({"intensity": 0.5, "neutral": neutral}, emotions,
                                                                 source), source)
    except ConfigError as exc:
        record.update(supported=False, reason=str(exc))
        write_text_atomic(out / "intensity.json", json.dumps(record, indent=2) + "\n")
        log.info("intensity check skipped: %s", exc)
        return record
    utts = pick_utterances(Path(data_root) / "eval" / "utt2emo", emotions, neutral, int(iconf["utts_per_emotion"]))
    utt2emo = read_kv(Path(data_root) / "eval" / "utt2emo")
    targets = [emotions.index(utt2emo[u]) for u in utts]
    feats_conf = conf["feats"]
    vocoder = GriffinLim(feats_conf, **(iconf.get("griffin_lim") or {}))
    extractor = LogMelExtractor.from_conf(feats_conf)
    predictor = EmotionPredictor.load(Path(ser_dir) / "model.pt", device)
    mean, std = load_stats(Path(dump_dir) / "stats.npz")
    per_level = {}
    for level in levels:
        sub = out / f"level_{level_name(level)}"
        decode(conf, model_dir, data_root, "eval", tokens_dir, dump_dir, sub, device=device, source=source,
               progress=progress, overrides={"intensity": level, "emotion": None, "mix": None}, utts=utts)
        import kaldiio

        mels = {k: np.asarray(v) for k, v in kaldiio.load_scp(str(sub / "feats.scp")).items()}
        wavs = vocoder([mels[u] for u in utts])
        feats = [np.asarray(extractor(w), dtype=np.float32) for w in wavs]
        p_target, pred = target_probabilities(predictor, feats, targets, mean, std)
        per_emo = {emotions[e]: float(np.mean([p for p, t in zip(p_target, targets) if t == e]))
                   for e in sorted(set(targets))}
        per_level[level_name(level)] = {"target_prob": float(np.mean(p_target)), "per_emotion": per_emo,
                                        "accuracy": float(np.mean(pred == np.asarray(targets)))}
        log.info("intensity %s: P(target) %.3f, accuracy %.3f", level_name(level),
                 per_level[level_name(level)]["target_prob"], per_level[level_name(level)]["accuracy"])
    probs = [per_level[level_name(lv)]["target_prob"] for lv in levels]
    record.update(supported=True, utts=utts, per_level=per_level,
                  monotonic=bool(all(b > a for a, b in zip(probs, probs[1:]))))
    plot_intensity(levels, per_level, out / "intensity.png", title=f"{Path(model_dir).parent.name}: intensity")
    write_text_atomic(out / "intensity.json", json.dumps(record, indent=2) + "\n")
    return record

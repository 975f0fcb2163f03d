"""Intensity check: does the emotion get stronger as the requested intensity rises?

A fixed subset of the eval split (the first ``utts_per_emotion`` utterances, C order, of each
emotion other than neutral) is decoded at every intensity level (0 = the neutral label,
1 = the utterance's own emotion; see pytorch_backend/tts/controls.py), vocoded with
Griffin-Lim and scored by the corpus's emotion classifier. Reported per level: the mean
probability the classifier gives the TARGET emotion (overall, per emotion and per utterance)
and its accuracy. ``monotonic`` says whether the mean probability rises from level to level;
``ranking`` is Spearman's correlation between the requested intensity and P(target)
(:func:`intensity_ranking`). On multi-speaker corpora (``eval.speaker_similarity``),
``speaker_similarity`` is each level's Resemblyzer similarity to the speakers' real recordings
and its change from the lowest level to the highest.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch

from pytorch_backend.eval.speaker_sim import speaker_similarity_enabled
from pytorch_backend.io.kaldi_map import c_sorted, read_kv, read_kv_lines
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


def intensity_ranking(levels: list[float], p_target: list[list[float]]) -> dict:
    """How well P(target) ranks the requested intensities (Spearman's rho).

    ``p_target[i][j]``: P(target) of utterance j decoded at ``levels[i]``. ``spearman``: over
    every (utterance, level) pair at once (the headline: 1 when every utterance's probability
    rises with the level and the levels do not overlap); ``spearman_per_utt``: the mean of each
    utterance's own correlation over the levels (utterances whose probability never moves are
    left out); ``spearman_of_means``: of the level means.
    """
    from pytorch_backend.eval.rank import spearman

    probs = np.asarray(p_target, dtype=np.float64)
    xs = np.repeat(np.asarray(levels, dtype=np.float64), probs.shape[1])
    per_utt = [spearman(levels, probs[:, j]) for j in range(probs.shape[1])]
    per_utt = [r for r in per_utt if r is not None]
    return {"spearman": spearman(xs, probs.reshape(-1)),
            "spearman_per_utt": float(np.mean(per_utt)) if per_utt else None,
            "spearman_of_means": spearman(levels, probs.mean(axis=1))}


def speaker_similarity_by_level(encoder, level_wavs: dict[str, list[np.ndarray]], utts: list[str], data_root,
                                conf: dict, extractor) -> dict:
    """Resemblyzer similarity of each level's synthesized utterances to their speakers' real eval
    recordings (leave-one-out centroids, eval/speaker_sim.py), and its change from the lowest
    level to the highest (emotion should not change the voice: near 0 is good)."""
    from pytorch_backend.eval.speaker_sim import similarity_to_speakers
    from pytorch_backend.feats.audio import load_audio

    eval_dir = Path(data_root) / "eval"
    utt2spk = read_kv(eval_dir / "utt2spk")
    speakers = {utt2spk[u] for u in utts}
    fs = int(conf["feats"]["fs"])
    ref_embeds = {}
    for lineno, utt, spec in read_kv_lines(eval_dir / "wav.scp"):
        if utt2spk.get(utt) in speakers:
            wav = load_audio(spec, fs, resample=bool(conf["feats"].get("resample", True)),
                             allow_pipes=bool(conf.get("allow_pipes", False)), source=eval_dir / "wav.scp",
                             line=lineno, utt=utt)
            ref_embeds[utt] = encoder.embed(extractor.trim(wav), fs)
    by_level = {}
    for name, wavs in level_wavs.items():
        embeds = {u: encoder.embed(extractor.trim(w), fs) for u, w in zip(utts, wavs)}
        sims = similarity_to_speakers(embeds, ref_embeds, utt2spk)
        by_level[name] = {"mean": sims["mean"], "std": sims["std"], "num_utts": sims["num_utts"]}
    names = list(level_wavs)
    lo, hi = by_level[names[0]]["mean"], by_level[names[-1]]["mean"]
    change = None if lo is None or hi is None else hi - lo
    return {"per_level": by_level, "change": change, "from": names[0], "to": names[-1]}


def intensity_check(conf: dict, model_dir, data_root, tokens_dir, dump_dir, ser_dir, out_dir, device="cpu",
                    source="<conf>", progress: bool = True) -> dict:
    """Decode, vocode and score the subset at every level; write ``intensity.json`` (+ plot)."""
    from pytorch_backend.errors import ConfigError
    from pytorch_backend.feats.logmel import LogMelExtractor
    from pytorch_backend.feats.stats import load_stats
    from pytorch_backend.plots.intensity import plot_intensity
    from pytorch_backend.ser.infer import EmotionPredictor
    from pytorch_backend.tts.controls import check_supported, controls_from_conf
    from pytorch_backend.tts.inference import decode
    from pytorch_backend.tts.loading import load_trained
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
    utt2spk_path = Path(data_root) / "eval" / "utt2spk"
    speakers = {v for u, v in read_kv(utt2spk_path).items()} if utt2spk_path.is_file() else set()
    encoder = None
    spk_conf = conf["eval"].get("speaker_similarity")  # absent: off (the DAG passes the schema default)
    if spk_conf is not None and speaker_similarity_enabled(spk_conf, len(speakers)):
        from pytorch_backend.eval.speaker_sim import SpeakerEncoder

        encoder = SpeakerEncoder("cpu")
    per_level, level_wavs, level_probs = {}, {}, []
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
                                        "accuracy": float(np.mean(pred == np.asarray(targets))),
                                        "per_utt": {u: round(float(p), 5) for u, p in zip(utts, p_target)}}
        level_probs.append([float(p) for p in p_target])
        if encoder is not None:
            level_wavs[level_name(level)] = wavs
        log.info("intensity %s: P(target) %.3f, accuracy %.3f", level_name(level),
                 per_level[level_name(level)]["target_prob"], per_level[level_name(level)]["accuracy"])
    probs = [per_level[level_name(lv)]["target_prob"] for lv in levels]
    record.update(supported=True, utts=utts, per_level=per_level,
                  monotonic=bool(all(b > a for a, b in zip(probs, probs[1:]))),
                  ranking=intensity_ranking(levels, level_probs), speaker_similarity=None)
    log.info("intensity ranking: Spearman %s (per utterance %s)", record["ranking"]["spearman"],
             record["ranking"]["spearman_per_utt"])
    if encoder is not None:
        record["speaker_similarity"] = speaker_similarity_by_level(encoder, level_wavs, utts, data_root, conf,
                                                                   extractor)
        log.info("speaker similarity by level: %s (change %s)",
                 {k: v["mean"] for k, v in record["speaker_similarity"]["per_level"].items()},
                 record["speaker_similarity"]["change"])
    plot_intensity(levels, per_level, out / "intensity.png", title=f"{Path(model_dir).parent.name}: intensity")
    write_text_atomic(out / "intensity.json", json.dumps(record, indent=2) + "\n")
    return record

"""The real-recording row of every results table: the real recordings of a split scored by the
same judges as synthesized speech (eval/judges.py), once per corpus.

Reads ``<ref_data_dir>/{wav.scp,utt2emo,utt2spk,text}``, the emotion classifier
(``<ser_dir>/model.pt``) and the recognizer (``<asr_dir>/model.pt``); writes
``<out>/metrics.json`` (``num_utts``, ``emotion_accuracy``, ``dnsmos``, ``cer``,
``pocketsphinx``, ``speaker_similarity``, ``per_utt``) and ``per_utt.tsv``. MCD and F0 have no
real-recording row (a recording against itself scores 0).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from pytorch_backend.utils.fileio import atomic_open

log = logging.getLogger("emotts.eval")


def evaluate_real(conf: dict, ref_data_dir, ser_dir, asr_dir, dump, out, nj: int | None = None,
                  progress: bool = True) -> dict:
    """Score the real recordings of ``ref_data_dir``; write ``out/metrics.json``; return it."""
    from pytorch_backend.eval.evaluate import JUDGE_TSV_COLUMNS, default_nj, judges_line, plan_jobs, score_all
    from pytorch_backend.eval.judges import judge_flags, judge_set, scored_speakers, scored_transcripts
    from pytorch_backend.eval.utterance import judge_utterance
    from pytorch_backend.feats.stats import load_stats
    from pytorch_backend.ser.data import normalize
    from pytorch_backend.ser.infer import EmotionPredictor

    ref_dir, out = Path(ref_data_dir), Path(out)
    eval_conf, feats_conf = conf.get("eval") or {}, conf["feats"]
    emotions = list(conf["emotions"])
    language = conf.get("language") or "en"
    jobs = plan_jobs(ref_dir / "wav.scp", ref_dir, emotions)  # every utterance, against itself
    utt2spk, num_speakers = scored_speakers(ref_dir, [j.utt for j in jobs])
    flags = judge_flags(eval_conf, conf.get("corpus") or "", language, num_speakers)
    scored_transcripts(flags, asr_dir, ref_data_dir, [j.utt for j in jobs], language)  # fail before scoring
    nj = default_nj() if nj is None else nj
    log.info("judging %d real recordings of %s with %d jobs", len(jobs), ref_dir, nj)
    results = score_all(jobs, feats_conf, eval_conf, bool(conf.get("allow_pipes", False)), ref_dir / "wav.scp",
                        ref_dir / "wav.scp", nj, progress, judges=flags, worker=judge_utterance)
    judged, per_utt = judge_set(results, flags, ref_dir, asr_dir, language, utt2spk)

    predictor = EmotionPredictor.load(Path(ser_dir) / "model.pt")
    mean, std = load_stats(Path(dump) / "stats.npz")
    preds = predictor.predict([normalize(r["feats"], mean, std) for r in results])
    targets = np.asarray([r["target"] for r in results])
    for r, p in zip(results, preds):
        per_utt[r["utt"]].update(target=emotions[r["target"]], pred=emotions[int(p)])
    metrics = {"num_utts": len(results), "emotion_accuracy": float(np.mean(preds == targets)), **judged,
               "judges": flags, "ref_data_dir": str(ref_dir), "per_utt": per_utt}

    out.mkdir(parents=True, exist_ok=True)
    extra = [k for k in JUDGE_TSV_COLUMNS if any(k in row for row in per_utt.values())]
    with atomic_open(out / "per_utt.tsv") as fh:
        fh.write("\t".join(["utt", "target", "pred"] + extra) + "\n")
        for utt, row in per_utt.items():
            fh.write("\t".join([utt, row["target"], row["pred"]] + [str(row.get(k, "")) for k in extra]) + "\n")
    with atomic_open(out / "metrics.json") as fh:
        json.dump(metrics, fh, indent=2)
        fh.write("\n")
    log.info("real recordings: emotion accuracy %.3f; %s", metrics["emotion_accuracy"], judges_line(judged))
    return metrics

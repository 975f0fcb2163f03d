"""Evaluate one set of synthesized utterances against the real recordings of a data dir.

Inputs: the synthesized ``wav.scp`` (ids = reference utterance ids), the reference data dir
(``wav.scp`` + ``utt2emo``: the intended emotion of each synthesized utterance), the
corpus's emotion classifier (``<ser_dir>/model.pt``) and the train ``stats.npz``.
Every utterance of the reference ``utt2emo`` is scored:
MCD and log-F0 RMSE / voicing error (in a process pool, Harvest is slow) and the
classifier's emotion prediction on the synthesized speech.

Outputs in ``out``: ``per_utt.tsv``, ``confusion.png`` and, last, ``metrics.json``::

    {"num_utts", "mcd": {"mean", "std"}, "log_f0_rmse": {"mean", "std"}, "log_f0_rmse_cents",
     "vuv_error", "emotion_accuracy", "per_class_recall", "confusion", "labels",
     "dnsmos", "cer", "pocketsphinx", "speaker_similarity", "per_utt"}

The last four are the judges from outside the corpus's classifier (eval/judges.py); each is
None when it did not run (switched off, PocketSphinx on a non-English corpus, speaker
similarity on a single-speaker split, no recognizer given).

Means are over utterances (an utterance without any frame voiced in both signals has no
log-F0 RMSE and is left out of that mean; ``num_f0_utts`` counts the others).
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
from pathlib import Path

import numpy as np

from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.eval.mcd import mcep_params, mean_std
from pytorch_backend.eval.utterance import UttJob, init_worker, score_utterance
from pytorch_backend.io.kaldi_map import read_kv_lines
from pytorch_backend.utils.fileio import atomic_open

log = logging.getLogger("emotts.eval")

# per-utterance judge values written to per_utt.tsv after the fixed columns (when they ran)
JUDGE_TSV_COLUMNS = ("dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak", "dnsmos_p808", "asr_char_errors", "ref_chars",
                     "speaker_similarity", "asr_hyp", "pocketsphinx_hyp")


def _index_scp(path) -> dict[str, tuple[int, str]]:
    out: dict[str, tuple[int, str]] = {}
    for lineno, utt, spec in read_kv_lines(path):
        if utt in out:
            raise DataError(path, f"duplicate utterance id (first on line {out[utt][0]})", line=lineno, utt=utt)
        out[utt] = (lineno, spec)
    return out


def plan_jobs(synth_wav_scp, ref_data_dir, emotions, targets=None) -> list[UttJob]:
    """One job per utterance of the reference utt2emo (or of ``targets``, the utt2emo decode
    wrote: the emotions it meant); ids must match the synthesized wav.scp."""
    from pytorch_backend.ser.data import read_labels

    ref_dir = Path(ref_data_dir)
    ref_scp = ref_dir / "wav.scp"
    utt2emo = Path(targets) if targets else ref_dir / "utt2emo"
    labels = read_labels(utt2emo, emotions)
    refs, syns = _index_scp(ref_scp), _index_scp(synth_wav_scp)
    wanted = {utt for utt, _ in labels}
    for utt, (lineno, _) in syns.items():
        if utt not in wanted:
            raise DataError(synth_wav_scp, f"synthesized utterance is not in {utt2emo}", line=lineno, utt=utt)
    jobs = []
    for utt, target in labels:
        if utt not in syns:
            raise DataError(synth_wav_scp, f"no synthesized audio for this utterance of {utt2emo}", utt=utt)
        if utt not in refs:
            raise DataError(ref_scp, f"no reference audio for this utterance of {utt2emo}", utt=utt)
        jobs.append(UttJob(utt, target, refs[utt][1], refs[utt][0], syns[utt][1], syns[utt][0]))
    if not jobs:
        raise DataError(utt2emo, "no utterances to evaluate")
    return jobs


def default_nj() -> int:
    """Snakemake exports OMP_NUM_THREADS={threads}; otherwise use the machine's cores."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "")))
    except ValueError:
        return max(1, os.cpu_count() or 1)


def score_all(jobs: list[UttJob], feats_conf: dict, eval_conf: dict, allow_pipes: bool, ref_scp,
              syn_scp, nj: int, progress: bool = True, judges: dict | None = None,
              worker=score_utterance, ref_analysis=None) -> list[dict]:
    """Score every job with ``worker`` (``score_utterance``, or ``judge_utterance`` /
    ``analyse_utterance`` for the real recordings alone) and the judges of ``judges``, in ``nj``
    worker processes (in this process when nj == 1); ``ref_analysis``: the split's
    ``reference_analysis.npz`` (eval/reference.py), whose reference side the workers reuse.

    Workers come from a forkserver, so a script calling this with nj > 1 needs the usual
    ``if __name__ == "__main__":`` guard (steps/evaluate.py has it).
    """
    from tqdm import tqdm

    initargs = (feats_conf, eval_conf, allow_pipes, str(ref_scp), str(syn_scp))
    nj = max(1, min(int(nj), len(jobs)))
    bar = tqdm(total=len(jobs), desc="evaluate", unit="utt", disable=not progress)
    results = []
    try:
        if nj == 1:
            init_worker(*initargs, single_thread=False, judges=judges, ref_analysis=ref_analysis)
            for job in jobs:
                results.append(worker(job))
                bar.update()
        else:
            # forkserver: workers start from a clean process (no torch/OpenMP state inherited
            # from this one) that has imported the scoring code once.
            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(["pytorch_backend.eval.utterance"])
            with ctx.Pool(nj, initializer=init_worker, initargs=initargs + (True, judges, ref_analysis)) as pool:
                for res in pool.imap(worker, jobs, chunksize=1):
                    results.append(res)
                    bar.update()
    finally:
        bar.close()
    return results


def evaluate_dir(conf: dict, synth_wav_scp, ref_data_dir, ser_dir, dump, out, nj: int | None = None,
                 conf_source="conf/eval.yaml", progress: bool = True, targets=None, asr_dir=None,
                 ref_analysis=None) -> dict:
    """Score ``synth_wav_scp`` against ``ref_data_dir``; write ``out`` files; return metrics.

    ``conf`` also names the ``corpus`` and its ``language`` (which judges run, eval/judges.py);
    ``asr_dir``: the corpus's recognizer (exp/<corpus>_asr), for the character error rate;
    ``ref_analysis``: the split's ``reference_analysis.npz`` (eval/reference.py: the reference
    side of MCD and F0, made once per split), checked before scoring; None: computed here.
    """
    from pytorch_backend.eval.judges import judge_flags, judge_set, scored_speakers, scored_transcripts
    from pytorch_backend.feats.stats import load_stats
    from pytorch_backend.plots.confusion import plot_confusion
    from pytorch_backend.ser.data import normalize
    from pytorch_backend.ser.infer import EmotionPredictor
    from pytorch_backend.ser.metrics import classification_report

    eval_conf, feats_conf = conf.get("eval") or {}, conf["feats"]
    emotions = list(conf["emotions"])
    fs = int(feats_conf["fs"])
    mc = eval_conf.get("mcd") or {}
    try:
        mcep_params(fs, mc.get("mcep_dim"), mc.get("alpha"))
    except ValueError as exc:
        raise ConfigError(conf_source, str(exc), key="mcd.mcep_dim") from None

    out = Path(out)
    ser_model = Path(ser_dir) / "model.pt"
    predictor = EmotionPredictor.load(ser_model)
    if predictor.emotions != emotions:
        raise DataError(ser_model, f"classifier labels {predictor.emotions} differ from the corpus emotions "
                        f"{emotions}; retrain it with steps/train_ser.py")
    mean, std = load_stats(Path(dump) / "stats.npz")
    if mean.shape[-1] != predictor.n_mels:
        raise DataError(Path(dump) / "stats.npz", f"{mean.shape[-1]} bins, the classifier expects {predictor.n_mels}")

    jobs = plan_jobs(synth_wav_scp, ref_data_dir, emotions, targets)
    language = conf.get("language") or "en"
    utt2spk, num_speakers = scored_speakers(ref_data_dir, [j.utt for j in jobs])
    flags = judge_flags(eval_conf, conf.get("corpus") or "", language, num_speakers)
    scored_transcripts(flags, asr_dir, ref_data_dir, [j.utt for j in jobs], language)  # fail before scoring
    if ref_analysis is not None:  # fail before scoring: other settings, a missing or changed recording
        from pytorch_backend.eval.reference import ReferenceAnalysis, analysis_params

        cached = ReferenceAnalysis(ref_analysis, analysis_params(feats_conf, eval_conf))
        for job in jobs:
            cached.check(job.utt, job.ref_spec, Path(ref_data_dir) / "wav.scp", job.ref_line)
    nj = default_nj() if nj is None else nj
    log.info("evaluating %d utterances of %s with %d jobs", len(jobs), synth_wav_scp, nj)
    results = score_all(jobs, feats_conf, eval_conf, bool(conf.get("allow_pipes", False)),
                        Path(ref_data_dir) / "wav.scp", synth_wav_scp, nj, progress, judges=flags,
                        ref_analysis=None if ref_analysis is None else str(ref_analysis))
    judged, judged_per_utt = judge_set(results, flags, ref_data_dir, asr_dir, language, utt2spk)

    preds = predictor.predict([normalize(r["feats"], mean, std) for r in results])
    targets = np.asarray([r["target"] for r in results], dtype=np.int64)
    report = classification_report(targets, preds, emotions)
    per_utt = {}
    for r, p in zip(results, preds):
        per_utt[r["utt"]] = {"mcd": r["mcd"], "log_f0_rmse": r["log_f0_rmse"], "vuv_error": r["vuv_error"],
                             "pred": emotions[int(p)], "target": emotions[r["target"]],
                             "syn_seconds": round(r["syn_seconds"], 4), "ref_seconds": round(r["ref_seconds"], 4),
                             **judged_per_utt[r["utt"]]}
    f0_values = [r["log_f0_rmse"] for r in results if r["log_f0_rmse"] is not None]
    metrics = {
        "num_utts": len(results),
        "mcd": mean_std(r["mcd"] for r in results),
        "log_f0_rmse": mean_std(f0_values),
        "log_f0_rmse_cents": mean_std(r["log_f0_rmse_cents"] for r in results
                                      if r["log_f0_rmse_cents"] is not None),
        "num_f0_utts": len(f0_values),
        "vuv_error": mean_std(r["vuv_error"] for r in results)["mean"],
        "emotion_accuracy": report["accuracy"],
        "per_class_recall": report["per_class_recall"],
        "confusion": report["confusion"],
        "labels": emotions,
        **judged,  # dnsmos, cer, pocketsphinx, speaker_similarity (None: that judge did not run)
        "synth_wav_scp": str(synth_wav_scp),
        "ref_data_dir": str(ref_data_dir),
        "per_utt": per_utt,
    }

    out.mkdir(parents=True, exist_ok=True)
    extra = [k for k in JUDGE_TSV_COLUMNS if any(k in row for row in per_utt.values())]
    with atomic_open(out / "per_utt.tsv") as fh:
        fh.write("\t".join(["utt", "target", "pred", "mcd", "log_f0_rmse", "vuv_error"] + extra) + "\n")
        for utt, row in per_utt.items():
            f0 = "nan" if row["log_f0_rmse"] is None else f"{row['log_f0_rmse']:.4f}"
            cells = [str(row.get(k, "")) for k in extra]
            fh.write("\t".join([utt, row["target"], row["pred"], f"{row['mcd']:.4f}", f0,
                                f"{row['vuv_error']:.4f}"] + cells) + "\n")
    plot_confusion(report["confusion"], emotions, out / "confusion.png",
                   title=f"SER on {out.parent.name}/{out.name} (accuracy {report['accuracy']:.3f})")
    with atomic_open(out / "metrics.json") as fh:
        json.dump(metrics, fh, indent=2)
        fh.write("\n")
    log.info("MCD %.3f ± %.3f dB, log-F0 RMSE %s, emotion accuracy %.3f (%d utterances)",
             metrics["mcd"]["mean"], metrics["mcd"]["std"],
             "n/a" if metrics["log_f0_rmse"]["mean"] is None else f"{metrics['log_f0_rmse']['mean']:.4f}",
             report["accuracy"], len(results))
    log.info("judges: %s", judges_line(judged))
    return metrics


def judges_line(judged: dict) -> str:
    """The judges' headline numbers in one line (for logs)."""
    parts = []
    if judged.get("dnsmos"):
        d = judged["dnsmos"]
        parts.append(f"DNSMOS ovrl {d['ovrl']['mean']:.3f} P.808 {d['p808']['mean']:.3f}")
    if judged.get("cer"):
        parts.append(f"CER {judged['cer']['cer']:.4f}")
    if judged.get("pocketsphinx"):
        parts.append(f"PocketSphinx WER {judged['pocketsphinx']['wer']:.4f}")
    if judged.get("speaker_similarity") and judged["speaker_similarity"]["mean"] is not None:
        parts.append(f"speaker similarity {judged['speaker_similarity']['mean']:.4f}")
    return ", ".join(parts) or "none ran"

#!/usr/bin/env python
"""Speed of scoring MCD and F0 with the split's reference analysis against analysing the
references in every evaluation (the baseline), in the same run.

On generated voiced audio (``--num-utts`` references and a noisy copy of each as the
"synthesized" set), with ``--nj`` worker processes and no judges (they are the same either way):
1. baseline: ``score_all`` with ``score_utterance``, which analyses reference and synthesis;
2. the reference analysis once (``analyse_references``: what rule analyse_reference runs);
3. ``score_all`` reading that analysis (what every evaluation of the split then costs).
It prints each time, the speed-up of one evaluation and how many evaluations of a split repay
the one analysis. Each timing is the best of ``--repeat`` runs, as the machine may be shared.

Usage:  python benchmarks/bench_evaluate.py [--num-utts 24] [--nj 1] [--repeat 2]
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from pytorch_backend.config import FEATS_SCHEMA, defaults_of
from pytorch_backend.eval.evaluate import plan_jobs, score_all
from pytorch_backend.eval.reference import analyse_references

EVAL_CONF = {"mcd": {"mcep_dim": None, "alpha": None}, "f0": {"f0_floor": 60.0, "f0_ceil": 700.0, "frame_period": 5.0}}


def _bench_feats():
    spec = importlib.util.spec_from_file_location("bench_feats", Path(__file__).with_name("bench_feats.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_sets(root: Path, num_utts: int, fs: int) -> tuple[Path, Path]:
    """A reference data dir (wav.scp, utt2emo) and a wav.scp of noisy copies."""
    bench_feats = _bench_feats()
    ref_dir, _ = bench_feats.make_corpus(root / "ref", num_utts, fs)
    rng = np.random.default_rng(1)
    rows, emo = [], []
    for line in (ref_dir / "wav.scp").read_text().splitlines():
        utt, path = line.split(maxsplit=1)
        wav, _ = sf.read(path, dtype="float32")
        noisy = np.clip(0.9 * wav + 0.005 * rng.standard_normal(len(wav)), -1, 1)
        out = root / "syn" / f"{utt}.wav"
        out.parent.mkdir(parents=True, exist_ok=True)
        sf.write(out, noisy, fs, subtype="PCM_16")
        rows.append(f"{utt} {out}\n")
        emo.append(f"{utt} neutral\n")
    (ref_dir / "utt2emo").write_text("".join(emo))
    (root / "syn" / "wav.scp").write_text("".join(rows))
    return ref_dir, root / "syn" / "wav.scp"


def best_of(repeat: int, fn):
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-utts", type=int, default=24)
    ap.add_argument("--nj", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()

    feats = defaults_of(FEATS_SCHEMA)
    fs = int(feats["fs"])
    conf = {"eval": EVAL_CONF, "feats": feats, "emotions": ["neutral"], "allow_pipes": False}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ref_dir, syn_scp = make_sets(tmp, args.num_utts, fs)
        jobs = plan_jobs(syn_scp, ref_dir, ["neutral"])
        analysis = tmp / "reference_analysis.npz"

        def evaluate(ref_analysis=None):
            return score_all(jobs, feats, EVAL_CONF, False, ref_dir / "wav.scp", syn_scp, args.nj, progress=False,
                             ref_analysis=ref_analysis)

        t_base, base = best_of(args.repeat, evaluate)
        t_analyse, _ = best_of(args.repeat, lambda: analyse_references(conf, ref_dir, analysis, nj=args.nj,
                                                                        progress=False))
        t_cached, cached = best_of(args.repeat, lambda: evaluate(str(analysis)))
    same = all(a["mcd"] == b["mcd"] and a["log_f0_rmse"] == b["log_f0_rmse"] for a, b in zip(base, cached))
    speedup = t_base / t_cached
    repaid = t_analyse / max(t_base - t_cached, 1e-9)
    print(f"| {args.num_utts} utterances, {args.nj} job(s) | seconds | vs baseline |")
    print("|---|---:|---:|")
    print(f"| evaluation analysing the references (baseline) | {t_base:.2f} | 1.00x |")
    print(f"| reference analysis, once per split | {t_analyse:.2f} | {t_analyse / t_base:.2f}x |")
    print(f"| evaluation reading the analysis | {t_cached:.2f} | {speedup:.2f}x faster |")
    print(f"\nidentical scores: {same}; the analysis is repaid after {repaid:.1f} evaluations of the split "
          "(an experiment makes two: its eval split and the floor)")


if __name__ == "__main__":
    main()

"""Running the Snakemake DAG on a tiny slice of the embedded corpus, in a scratch directory."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import yaml

from pytorch_backend.config import deep_merge
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent

# A few utterances and a few steps: enough for every stage to run for real.
TINY = {
    "corpus/espeak_emo.yaml": {"prep": {"num_sentences": 8, "dev_sentences": 2, "eval_sentences": 2,
                                        "speakers": ["m1", "f1"],
                                        "emotions_per_sentence": 5}},
    "eval.yaml": {"ser": {"train": {"max_steps": 10, "eval_interval": 5}},
                  "asr": {"model_conf": {"channels": 32, "num_blocks": 1},
                          "train": {"max_steps": 6, "eval_interval": 3, "save_interval": 3, "batch_size": 8}},
                  "dnsmos": {"enabled": False},  # ~1 s per utterance: tested on its own (tests/test_judges.py)
                  "intensity": {"levels": [0.0, 0.5, 1.0], "utts_per_emotion": 1, "griffin_lim": {"n_iter": 4}}},
    "vocoder/griffin_lim.yaml": {"conf": {"n_iter": 4}},
}


# Untrained stop tokens never fire: cap decoding near the real lengths (~5 frames per token)
# instead of the confs' 12, which made decoding, vocoding and scoring of the tiny slice 2-3x longer.
TINY_TRAIN = {"train": {"max_steps": 6, "eval_interval": 3, "save_interval": 3, "log_interval": 1,
                        "batch_frames": 2000},
              "decode": {"maxlenratio": 4.0}}


def edit_conf(conf_dir: Path, rel: str, update: dict) -> None:
    path = conf_dir / rel
    data = yaml.safe_load(path.read_text()) if path.exists() else {}
    path.write_text(yaml.safe_dump(deep_merge(data or {}, update), sort_keys=False))


def make_workdir(root: Path) -> Path:
    """A scratch working directory with a copy of conf/ shrunk to the tiny slice."""
    workdir = root / "work"
    shutil.copytree(REPO / "conf", workdir / "conf")
    for rel, update in TINY.items():
        edit_conf(workdir / "conf", rel, update)
    for path in sorted((workdir / "conf" / "tts").glob("*.yaml")):  # every backend: a few steps
        edit_conf(workdir / "conf", f"tts/{path.name}", TINY_TRAIN)
    return workdir


def dag_cores() -> str:
    """Cores of a test's Snakemake run: 1 in a parallel test worker (``make test`` runs two; a
    second core per run would oversubscribe the machine, and OpenMP threads that spin-wait for
    each other slowed the tiny training steps 5x), else 2."""
    return "1" if os.environ.get("PYTEST_XDIST_WORKER") else "2"


def snakemake_cmd(workdir: Path, *targets: str, extra=()) -> list[str]:
    exe = Path(sys.executable).with_name("snakemake")
    # --config takes every word after it: keep it last
    return [str(exe), "-s", str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", dag_cores(),
            *targets, *extra, "--config", f"conf_dir={workdir / 'conf'}"]


def env() -> dict:
    out = dict(os.environ)
    out["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{out.get('PATH', '')}"
    out["OMP_NUM_THREADS"] = "1"
    return out


def snakemake(workdir: Path, *targets: str, extra=(), check=True, timeout=900):
    proc = run_in_group(snakemake_cmd(workdir, *targets, extra=extra), capture_output=True,
                          text=True, env=env(), timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n"
                             f"{proc.stderr[-8000:]}")
    return proc


def planned_rules(workdir: Path, *targets: str) -> set[str]:
    """The rules a dry run would execute (empty when nothing is to be done)."""
    proc = snakemake(workdir, *targets, extra=("-n", "--quiet", "rules"))
    rules = set()
    in_table = False
    for line in (proc.stdout + proc.stderr).splitlines():
        parts = line.split()
        if parts[:2] == ["job", "count"]:
            in_table = True
            continue
        if in_table:
            if not parts or parts[0].startswith("-"):
                continue
            if parts[0] == "total":
                break
            rules.add(parts[0])
    return rules

"""How rules start their jobs: the environment they inherit, GPU slots, torchrun."""

from __future__ import annotations

import os
import sys


def export_job_environment() -> None:
    """Jobs run ``python -m steps.<stage>`` with the interpreter that runs Snakemake (the project
    is installed into its environment): put it first on PATH; plots are drawn headless."""
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    os.environ.setdefault("MPLBACKEND", "Agg")


def gpu_prefix(gpus: int) -> str:
    """What a GPU rule's command starts with: take ``gpus`` GPU slots (CUDA_VISIBLE_DEVICES)
    for the job (``steps/with_gpus.py``); nothing when the job has no GPU."""
    gpus = int(gpus or 0)
    return f"python -m steps.with_gpus --gpus {gpus} -- " if gpus > 0 else ""


def worker_threads(threads: int, gpus: int) -> int:
    """CPU threads of each training process: the job's threads shared among its workers."""
    return max(1, int(threads) // max(1, int(gpus or 0)))


def train_launcher(gpus: int, threads: int) -> str:
    """The command the training rule runs ``-m steps.train_tts`` with.

    ``gpus > 1``: ``torchrun --standalone`` (a free rendezvous port per job) with one worker
    per GPU and ``OMP_NUM_THREADS`` divided among them; else one ``python`` process.
    """
    gpus = int(gpus or 0)
    if gpus > 1:
        return (f"OMP_NUM_THREADS={worker_threads(threads, gpus)} {gpu_prefix(gpus)}"
                f"torchrun --standalone --nproc-per-node={gpus} -m")
    return f"{gpu_prefix(gpus)}python -m"

"""The command-line plumbing every entry point shares (``steps/``, ``local/``): the JSON conf
argument, logging (rank-aware under torchrun), and a clean exit on an emotts error."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--conf", type=json.loads, default={},
                   help="the config slice of this stage, as JSON (Snakemake passes it)")
    # --log-file: the spelling to use after `torchrun ... -m steps.x`, whose own parser would
    # take "--log" for an ambiguous abbreviation of its --log-dir/--logs-specs options
    p.add_argument("--log", "--log-file", dest="log", default=None, help="also write the log to this file")
    p.add_argument("--verbose", action="store_true")
    return p


def add_model_job_args(p: argparse.ArgumentParser) -> None:
    """Arguments shared by the stages that run a TTS model (training, decoding)."""
    p.add_argument("--data-root", required=True, help="data/<corpus>")
    p.add_argument("--tokens", required=True, help="data/<corpus>/tokens/<type>")
    p.add_argument("--dump", required=True, help="dump/<corpus>/<feats> (<split>/feats.scp, stats.npz)")
    p.add_argument("--gpus", type=int, default=0, help="GPUs granted to this job (0: CPU)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: OMP_NUM_THREADS)")
    p.add_argument("--source", default="<--conf>", help="the conf file named in error messages")


def setup_logging(log_file: str | None = None, verbose: bool = False) -> logging.Logger:
    """Log to stderr (and ``log_file``). Under torchrun, ranks other than 0 log warnings and
    errors only, tagged with their rank, so the job log reads like a single process's."""
    rank = int(os.environ.get("RANK", "0") or 0)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="a", encoding="utf-8"))
    level = logging.DEBUG if verbose else logging.INFO
    tag = f"[rank {rank}] " if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1 else ""
    logging.basicConfig(level=level if rank == 0 else max(level, logging.WARNING),
                        format=f"%(asctime)s %(levelname)s {tag}%(name)s: %(message)s",
                        handlers=handlers, force=True)
    return logging.getLogger("emotts")


def require_conf_keys(conf: dict, keys, source) -> None:
    """A stage's --conf JSON must carry ``keys``: a ConfigError naming ``source`` and the key."""
    from pytorch_backend.errors import ConfigError

    for key in keys:
        if not conf.get(key):
            raise ConfigError(source, f"the --conf JSON needs '{key}'", key=key)


def run(main) -> None:
    """Call ``main()``; print an EmottsError as one clear line and exit 1."""
    from pytorch_backend.errors import EmottsError

    try:
        main()
    except EmottsError as exc:
        logging.getLogger("emotts").error("%s", exc)
        print(f"ERROR: {exc}", file=sys.stderr)
        sys.exit(1)

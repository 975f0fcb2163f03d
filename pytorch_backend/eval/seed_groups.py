"""Training-seed groups of a results table: experiments whose resolved configs
(``exp/<exp>/config.yaml``) differ only in ``tts.train.seed`` are one model trained from several
seeds. For each group and vocoder, the quality quantities of the guard (eval/guard.py) per seed,
with their mean and their worst value (the minimum of a quantity that should be high, the
maximum of one that should be low), so a figure can be reported with its seed-to-seed spread
rather than from one lucky run."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from pytorch_backend.config import load_yaml
from pytorch_backend.errors import ConfigError
from pytorch_backend.eval.guard import QUANTITIES, quantities

LABELS = {
    "emotion_accuracy_ratio": "emotion ratio",
    "mcd_gap": "MCD gap (dB)",
    "vuv_ratio": "V/UV ratio",
    "cer_ratio": "CER ratio",
    "p808_gap": "P.808 gap",
    "intensity_spearman": "intensity Spearman",
}


def config_without_seed(exp_dir) -> tuple[str, int] | None:
    """(the resolved config minus its experiment name and training seed, as a canonical string;
    the seed), or None when the experiment has no ``config.yaml``."""
    path = Path(exp_dir) / "config.yaml"
    if not path.is_file():
        return None
    conf = load_yaml(path)
    try:
        seed = conf["tts"]["train"].pop("seed")
    except (KeyError, TypeError):
        raise ConfigError(path, "resolved config without tts.train.seed", key="tts.train.seed") from None
    conf.pop("exp", None)
    return json.dumps(conf, sort_keys=True, default=str), int(seed)


def find_groups(rows: list[dict]) -> list[list[tuple[int, dict]]]:
    """Lists of (seed, row) with at least two different seeds, in the rows' order; a row needs
    ``dir`` (its experiment directory)."""
    groups: dict[str, list[tuple[int, dict]]] = {}
    for row in rows:
        key = config_without_seed(row["dir"])
        if key is not None:
            groups.setdefault(key[0], []).append((key[1], row))
    return [sorted(g, key=lambda sr: sr[0]) for g in groups.values() if len({s for s, _ in g}) > 1]


def _worst(kind: str, values: list[float]) -> float:
    return min(values) if kind == "min" else max(values)


def group_stats(group: list[tuple[int, dict]], vocoder: str) -> dict:
    """Per quantity: the value of each seed, their mean and worst (None where a seed lacks it)."""
    per_seed = {seed: quantities(row["summary"], vocoder, row["dir"] / "summary.json") for seed, row in group}
    stats = {}
    for name, kind in QUANTITIES.items():
        values = [q[name] for q in per_seed.values()]
        complete = [v for v in values if v is not None]
        full = len(complete) == len(values)
        stats[name] = {"per_seed": dict(zip(per_seed, values)),
                       "mean": statistics.fmean(complete) if full else None,
                       "worst": _worst(kind, complete) if full else None}
    return {"experiments": [row["exp"] for _, row in group], "seeds": list(per_seed), "vocoder": vocoder,
            "quantities": stats}


def _cell(value, fmt=".3f") -> str:
    return "n/a" if value is None else format(value, fmt)


def group_lines(stats: dict) -> list[str]:
    """A markdown table: one row per seed, then the mean and the worst."""
    names = list(QUANTITIES)
    lines = [f"Seeds {', '.join(map(str, stats['seeds']))} of `{stats['experiments'][0]}` "
             f"({', '.join(stats['experiments'])}; {stats['vocoder']}). Worst = the minimum of a ratio, "
             "P.808 gap or Spearman, the maximum of a gap or error ratio.", "",
             "| seed | experiment | " + " | ".join(LABELS[n] for n in names) + " |",
             "|---:|---|" + "---:|" * len(names)]
    q = stats["quantities"]
    for seed, exp in zip(stats["seeds"], stats["experiments"]):
        lines.append(f"| {seed} | {exp} | " + " | ".join(_cell(q[n]["per_seed"][seed]) for n in names) + " |")
    for what in ("mean", "worst"):
        lines.append(f"| **{what}** | | " + " | ".join(f"**{_cell(q[n][what])}**" for n in names) + " |")
    return lines + [""]


def seed_sections(rows: list[dict], vocoders: list[str]) -> tuple[list[str], list[dict]]:
    """The markdown section and the JSON records of every seed group, per vocoder they share."""
    lines, records = [], []
    for group in find_groups(rows):
        shared = [v for v in vocoders if all(v in row["summary"]["vocoders"] for _, row in group)]
        for voc in shared:
            stats = group_stats(group, voc)
            records.append(stats)
            lines += group_lines(stats)
    if lines:
        lines = ["## Training seeds", "",
                 "Experiments whose resolved configs differ only in `tts.train.seed`.", ""] + lines
    return lines, records

"""The quality guard: does an experiment's ``summary.json`` stay inside the limits of a guard conf?

A guard conf (``conf/guard.yaml``) names, per vocoder, a bound for each guarded quantity of the
summary's synthesized row, computed against the floor and real rows beside it:

* ``emotion_accuracy_ratio``  (min) synthesized emotion accuracy / real-recording accuracy;
* ``mcd_gap``                 (max) synthesized MCD minus the vocoder's analysis-synthesis floor (dB);
* ``cer_ratio``               (max) recognizer CER on synthesized speech / on the real recordings;
* ``vuv_ratio``               (max) voicing error / the floor's;
* ``p808_gap``                (min) DNSMOS P.808 of synthesized minus real speech (negative: worse);
* ``intensity_spearman``      (min) Spearman of requested intensity and P(target) (all pairs).

A bound left out (or null) is not checked; its value is still reported. A quantity that a bound
needs but the summary lacks (a judge that did not run) is a failure, never a silent pass.

An entry may also carry ``targets`` (same quantities): the quality the project aims at. They are
reported beside each value (met / missed) but never fail the check; ``bounds`` are what is
enforced, set with a margin for ordinary machine-to-machine variation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pytorch_backend.config import load_yaml
from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.eval.summary import read_json

# quantity -> "min" (the value must be >= the bound) or "max" (<= the bound)
QUANTITIES = {
    "emotion_accuracy_ratio": "min",
    "mcd_gap": "max",
    "cer_ratio": "max",
    "vuv_ratio": "max",
    "p808_gap": "min",
    "intensity_spearman": "min",
}


@dataclass
class Check:
    quantity: str
    value: float | None
    bound: float | None
    kind: str  # "min" | "max"
    target: float | None = None

    def _meets(self, limit: float) -> bool:
        if self.value is None:
            return False
        return self.value >= limit if self.kind == "min" else self.value <= limit

    @property
    def checked(self) -> bool:
        return self.bound is not None

    @property
    def passed(self) -> bool:
        return True if not self.checked else self._meets(self.bound)

    @property
    def meets_target(self) -> bool | None:
        """True / False against the target; None without one."""
        return None if self.target is None else self._meets(self.target)

    def line(self) -> str:
        value = "missing" if self.value is None else f"{self.value:.3f}"
        op = ">=" if self.kind == "min" else "<="
        guard = (f"guard {op} {self.bound:g}: {'ok' if self.passed else 'FAIL'}" if self.checked
                 else "not guarded")
        target = "" if self.target is None else (f"; target {op} {self.target:g}: "
                                                  f"{'met' if self.meets_target else 'missed'}")
        return f"{self.quantity:24s} {value:>8s}   {guard}{target}"


def quantities(summary: dict, vocoder: str, source="summary.json") -> dict[str, float | None]:
    """The guarded quantities of one vocoder's rows in a ``summary.json`` (None where absent)."""
    entry = (summary.get("vocoders") or {}).get(vocoder)
    if entry is None:
        raise DataError(source, f"no vocoder '{vocoder}' in this summary "
                                f"(it has: {', '.join(summary.get('vocoders') or {}) or 'none'})")
    synth, floor = entry["synth"], entry.get("floor") or {}

    def diff(a, b):
        return None if a is None or b is None else a - b

    def ratio(a, b):
        return None if a is None or not b else a / b

    ranking = (summary.get("intensity") or {}).get("ranking") or {}
    return {
        "emotion_accuracy_ratio": synth.get("emotion_accuracy_ratio"),
        "mcd_gap": diff(synth.get("mcd_mean"), floor.get("mcd_mean")),
        "cer_ratio": synth.get("cer_ratio"),
        "vuv_ratio": ratio(synth.get("vuv_error"), floor.get("vuv_error")),
        "p808_gap": synth.get("p808_gap"),
        "intensity_spearman": ranking.get("spearman"),
    }


def _limits(limits: dict, conf_path, key: str) -> dict[str, float]:
    """quantity -> float of a ``bounds`` or ``targets`` mapping; unknown names and non-numbers
    are a ConfigError naming the key."""
    if not isinstance(limits, dict):
        raise ConfigError(conf_path, "must be a mapping of quantity -> number", key=key or None)
    out = {}
    for name, value in limits.items():
        where = f"{key}.{name}" if key else str(name)
        if name not in QUANTITIES:
            raise ConfigError(conf_path, f"unknown guarded quantity (known: {', '.join(QUANTITIES)})", key=where)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(conf_path, f"must be a number, got {value!r}", key=where)
        out[name] = float(value)
    return out


def check(summary: dict, bounds: dict, vocoder: str, summary_path="summary.json",
          conf_path="guard conf", key: str = "", targets: dict | None = None) -> list[Check]:
    """One :class:`Check` per known quantity; ``bounds`` (enforced) and ``targets`` (reported)
    map quantity -> number (or None); ``key``: where the entry sits in the guard conf."""
    bounds = _limits(bounds, conf_path, f"{key}.bounds" if key else "")
    targets = _limits(targets or {}, conf_path, f"{key}.targets" if key else "")
    values = quantities(summary, vocoder, summary_path)
    return [Check(name, values[name], bounds.get(name), kind, targets.get(name))
            for name, kind in QUANTITIES.items()]


def check_experiment(exp_dir, guard_conf) -> list[Check]:
    """Check ``<exp_dir>/summary.json`` against its entry of the guard conf file."""
    exp_dir = Path(exp_dir)
    conf = load_yaml(guard_conf) or {}
    experiments = conf.get("experiments") if isinstance(conf, dict) else None
    if not isinstance(experiments, dict):
        raise ConfigError(guard_conf, "needs a mapping 'experiments: {<exp>: {vocoder, bounds}}'", key="experiments")
    name = exp_dir.resolve().name
    entry = experiments.get(name)
    if not isinstance(entry, dict):
        raise ConfigError(guard_conf, f"no guard for experiment '{name}' (guarded: {', '.join(experiments)})",
                          key="experiments")
    key = f"experiments.{name}"
    if not entry.get("vocoder"):
        raise ConfigError(guard_conf, "names no vocoder", key=f"{key}.vocoder")
    summary_path = exp_dir / "summary.json"
    return check(read_json(summary_path, ("vocoders",)), entry.get("bounds") or {}, entry["vocoder"],
                 summary_path, guard_conf, key=key, targets=entry.get("targets") or {})

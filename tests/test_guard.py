"""The quality guard (eval/guard.py, steps/check_quality.py): bounds, missing judges, bad confs."""

import json
import sys
from pathlib import Path

import pytest

from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.eval.guard import check, check_experiment, quantities
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parents[1]


def _summary(emo_ratio=0.95, mcd=9.0, floor_mcd=7.0, cer_ratio=1.2, vuv=0.15, floor_vuv=0.1, p808_gap=-0.2,
             spearman=0.93):
    return {"exp": "espeak_emo_gst",
            "vocoders": {"griffin_lim": {
                "synth": {"emotion_accuracy_ratio": emo_ratio, "mcd_mean": mcd, "cer_ratio": cer_ratio,
                          "vuv_error": vuv, "p808_gap": p808_gap},
                "floor": {"mcd_mean": floor_mcd, "vuv_error": floor_vuv}}},
            "intensity": {"supported": True, "ranking": {"spearman": spearman}}}


def _write_exp(tmp_path, summary, name="espeak_emo_gst"):
    exp = tmp_path / "exp" / name
    exp.mkdir(parents=True)
    (exp / "summary.json").write_text(json.dumps(summary))
    return exp


def _write_guard(tmp_path, bounds, name="espeak_emo_gst"):
    guard = tmp_path / "guard.yaml"
    lines = ["experiments:", f"  {name}:", "    vocoder: griffin_lim", "    bounds:"]
    lines += [f"      {k}: {v}" for k, v in bounds.items()]
    guard.write_text("\n".join(lines) + "\n")
    return guard


def test_quantities_are_derived_from_the_synth_floor_and_real_rows():
    q = quantities(_summary(), "griffin_lim")
    assert q["emotion_accuracy_ratio"] == pytest.approx(0.95)
    assert q["mcd_gap"] == pytest.approx(2.0)
    assert q["cer_ratio"] == pytest.approx(1.2)
    assert q["vuv_ratio"] == pytest.approx(1.5)
    assert q["p808_gap"] == pytest.approx(-0.2)
    assert q["intensity_spearman"] == pytest.approx(0.93)


def test_min_and_max_bounds_pass_and_fail_at_the_right_side():
    bounds = {"emotion_accuracy_ratio": 0.9, "mcd_gap": 2.5, "cer_ratio": 1.5}
    assert all(c.passed for c in check(_summary(), bounds, "griffin_lim"))
    failing = {c.quantity for c in check(_summary(emo_ratio=0.85, mcd=10.0, cer_ratio=1.6), bounds, "griffin_lim")
               if not c.passed}
    assert failing == {"emotion_accuracy_ratio", "mcd_gap", "cer_ratio"}
    # an unguarded quantity never fails, whatever its value
    assert all(c.passed for c in check(_summary(spearman=-1.0), bounds, "griffin_lim"))


def test_a_guarded_quantity_that_is_missing_fails():
    summary = _summary()
    summary["vocoders"]["griffin_lim"]["synth"]["cer_ratio"] = None  # the recognizer did not run
    checks = {c.quantity: c for c in check(summary, {"cer_ratio": 1.5}, "griffin_lim")}
    assert not checks["cer_ratio"].passed
    assert "missing" in checks["cer_ratio"].line()


def test_unknown_quantity_and_vocoder_are_named(tmp_path):
    with pytest.raises(ConfigError, match="mcd_gapp"):
        check(_summary(), {"mcd_gapp": 1.0}, "griffin_lim", conf_path="g.yaml")
    with pytest.raises(DataError, match="hifigan"):
        check(_summary(), {}, "hifigan", summary_path="s.json")
    with pytest.raises(ConfigError, match="must be a number"):
        check(_summary(), {"mcd_gap": "two"}, "griffin_lim")


def test_check_experiment_reads_the_conf_entry_by_directory_name(tmp_path):
    exp = _write_exp(tmp_path, _summary())
    guard = _write_guard(tmp_path, {"mcd_gap": 2.5})
    assert all(c.passed for c in check_experiment(exp, guard))
    other = _write_exp(tmp_path, _summary(), name="espeak_emo_vae")
    with pytest.raises(ConfigError, match="espeak_emo_vae"):
        check_experiment(other, guard)
    with pytest.raises(DataError, match="summary.json"):
        check_experiment(tmp_path / "exp" / "missing", _write_guard(tmp_path / "exp", {}, name="missing"))


def test_the_command_exits_1_and_names_the_miss(tmp_path):
    exp = _write_exp(tmp_path, _summary(mcd=11.0))
    guard = _write_guard(tmp_path, {"mcd_gap": 2.5, "emotion_accuracy_ratio": 0.9})
    cmd = [sys.executable, "-m", "steps.check_quality", "--guard", str(guard), str(exp)]
    bad = run_in_group(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert "mcd_gap" in bad.stderr and "FAIL" in bad.stdout
    (exp / "summary.json").write_text(json.dumps(_summary()))
    good = run_in_group(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr


def test_the_shipped_guard_conf_guards_the_demo():
    from pytorch_backend.config import load_yaml

    conf = load_yaml(REPO / "conf" / "guard.yaml")
    entry = conf["experiments"]["espeak_emo_gst"]
    for quantity in ("emotion_accuracy_ratio", "mcd_gap", "cer_ratio"):
        assert isinstance(entry["bounds"][quantity], (int, float)), quantity
    # each bound sits a little outside its target (the quality issue): at most 10% looser, never tighter
    bounds, targets = entry["bounds"], entry["targets"]
    assert 0.9 * targets["emotion_accuracy_ratio"] <= bounds["emotion_accuracy_ratio"] <= targets["emotion_accuracy_ratio"]
    for quantity in ("mcd_gap", "cer_ratio"):
        assert targets[quantity] <= bounds[quantity] <= 1.1 * targets[quantity], quantity


def test_targets_are_reported_but_never_fail():
    checks = {c.quantity: c for c in check(_summary(emo_ratio=0.8), {"emotion_accuracy_ratio": 0.7}, "griffin_lim",
                                           targets={"emotion_accuracy_ratio": 0.9, "mcd_gap": 3.0})}
    emo = checks["emotion_accuracy_ratio"]
    assert emo.passed and emo.meets_target is False
    assert "guard >= 0.7: ok" in emo.line() and "target >= 0.9: missed" in emo.line()
    assert checks["mcd_gap"].passed and checks["mcd_gap"].meets_target is True
    assert checks["cer_ratio"].meets_target is None
    with pytest.raises(ConfigError, match="targets.vuv_rate"):
        check(_summary(), {}, "griffin_lim", key="experiments.x", targets={"vuv_rate": 1.0})

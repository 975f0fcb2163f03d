"""Seed groups of the results table: same config but the training seed -> per-seed rows, mean, worst."""

import json
from pathlib import Path

import pytest
import yaml

from pytorch_backend.errors import ConfigError
from pytorch_backend.eval.results_table import write_results
from pytorch_backend.eval.seed_groups import config_without_seed, find_groups


def make_exp(root: Path, name: str, seed: int | None, emo: float, mcd: float, cer_ratio: float,
             rho: float | None = 0.9, hidden: int = 128) -> Path:
    exp = root / name
    exp.mkdir(parents=True)
    if seed is not None:
        conf = {"exp": name, "corpus": {"name": "c"},
                "tts": {"model": "gst", "model_conf": {"hidden": hidden}, "train": {"seed": seed, "max_steps": 10}}}
        (exp / "config.yaml").write_text(yaml.safe_dump(conf))
    synth = {"num_utts": 50, "mcd_mean": mcd, "mcd_std": 1.0, "log_f0_rmse_mean": 0.2, "log_f0_rmse_std": 0.1,
             "vuv_error": 0.2, "emotion_accuracy": emo, "emotion_accuracy_ratio": emo, "cer_ratio": cer_ratio,
             "p808_gap": -0.4}
    floor = {**synth, "mcd_mean": 7.0, "vuv_error": 0.1, "emotion_accuracy": 1.0, "emotion_accuracy_ratio": 1.0}
    summary = {"exp": name, "split": "eval", "real": None,
               "model": {"num_params": 10**6, "train_seconds": 60.0, "steps": 10, "best_dev_loss": 0.5},
               "ser": {"real_accuracy": 1.0, "num_utts": 50},
               "vocoders": {"griffin_lim": {"synth": synth, "floor": floor, "rtf": 0.1}},
               "intensity": None if rho is None else {"supported": True, "monotonic": True,
                                                       "per_level": {}, "ranking": {"spearman": rho}}}
    (exp / "summary.json").write_text(json.dumps(summary))
    return exp


def test_seed_group_rows_mean_and_worst(tmp_path):
    dirs = [make_exp(tmp_path, "c_gst", 1, 0.80, 14.0, 3.5, 0.85),
            make_exp(tmp_path, "c_gst_seed2", 2, 0.90, 15.0, 4.0, 0.95),
            make_exp(tmp_path, "c_gst_seed3", 3, 0.70, 14.5, 3.0, 0.90),
            make_exp(tmp_path, "c_big", 1, 0.99, 9.0, 1.0, hidden=256),   # another config: no group
            make_exp(tmp_path, "c_old", None, 0.5, 20.0, 9.0)]            # no config.yaml: no group
    data = write_results(dirs, tmp_path / "results" / "c.md")
    md = (tmp_path / "results" / "c.md").read_text()
    assert "## Training seeds" in md
    assert "Seeds 1, 2, 3 of `c_gst` (c_gst, c_gst_seed2, c_gst_seed3; griffin_lim)" in md
    assert "| 2 | c_gst_seed2 | 0.900 | 8.000 | 4.000 | 2.000 | -0.400 | 0.950 |" in md
    # mean, then the worst: lowest emotion ratio and Spearman, highest MCD gap and CER ratio
    assert "| **mean** | | **0.800** | **7.500** | **3.500** | **2.000** | **-0.400** | **0.900** |" in md
    assert "| **worst** | | **0.700** | **8.000** | **4.000** | **2.000** | **-0.400** | **0.850** |" in md
    [group] = data["seed_groups"]
    assert group["experiments"] == ["c_gst", "c_gst_seed2", "c_gst_seed3"] and group["seeds"] == [1, 2, 3]
    q = group["quantities"]["emotion_accuracy_ratio"]
    assert q["mean"] == pytest.approx(0.8) and q["worst"] == pytest.approx(0.7)
    assert q["per_seed"] == {1: 0.8, 2: 0.9, 3: 0.7}


def test_no_group_without_two_seeds_and_missing_values(tmp_path):
    dirs = [make_exp(tmp_path, "c_a", 1, 0.8, 14.0, 3.5), make_exp(tmp_path, "c_b", 1, 0.9, 14.0, 3.5, hidden=64)]
    data = write_results(dirs, tmp_path / "results" / "c.md")
    assert data["seed_groups"] == [] and "Training seeds" not in (tmp_path / "results" / "c.md").read_text()
    # a seed without the intensity check: that quantity has no mean/worst, the others do
    rows = [{"exp": d.name, "dir": d, "summary": json.loads((d / "summary.json").read_text())}
            for d in (make_exp(tmp_path, "c_x", 1, 0.8, 14.0, 3.5), make_exp(tmp_path, "c_x2", 2, 0.6, 14.0, 3.5, None))]
    [group] = find_groups(rows)
    from pytorch_backend.eval.seed_groups import group_stats

    stats = group_stats(group, "griffin_lim")["quantities"]
    assert stats["intensity_spearman"]["mean"] is None and stats["intensity_spearman"]["per_seed"][2] is None
    assert stats["emotion_accuracy_ratio"]["worst"] == pytest.approx(0.6)


def test_config_without_a_seed_names_the_file(tmp_path):
    exp = tmp_path / "c_gst"
    exp.mkdir()
    (exp / "config.yaml").write_text(yaml.safe_dump({"exp": "c_gst", "tts": {"train": {}}}))
    with pytest.raises(ConfigError, match=r"config\.yaml.*tts\.train\.seed"):
        config_without_seed(exp)
    assert config_without_seed(tmp_path / "nowhere") is None

"""summary.json / results.md from small fake stage outputs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytorch_backend.errors import DataError
from pytorch_backend.eval.summary import collect, read_json, render_markdown, summarize

REPO = Path(__file__).resolve().parent.parent


def metrics(mcd, mcd_std, f0, f0_std, vuv, acc, n=50):
    return {"num_utts": n, "mcd": {"mean": mcd, "std": mcd_std}, "log_f0_rmse": {"mean": f0, "std": f0_std},
            "vuv_error": vuv, "emotion_accuracy": acc, "per_class_recall": {}, "confusion": [], "labels": [],
            "per_utt": {}}


def write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.fixture
def fake_exp(tmp_path):
    exp = tmp_path / "exp" / "corp_gst"
    ser = tmp_path / "exp" / "corp_ser"
    write(exp / "train/train.json", {"num_params": 1_234_567, "train_seconds": 750.0, "steps": 2000,
                                     "best_dev_loss": 0.4321, "best_step": 1800})
    write(exp / "decode/eval/decode.json", {"num_utts": 50, "wall_seconds": 6.0, "audio_seconds": 118.0})
    write(exp / "synth/griffin_lim/eval/vocode.json", {"num_utts": 50, "wall_seconds": 24.0, "audio_seconds": 120.0})
    write(exp / "eval/griffin_lim/eval/metrics.json", metrics(7.125, 0.8, 0.1523, 0.05, 0.12, 0.8))
    write(exp / "eval/griffin_lim/floor/metrics.json", metrics(5.5, 0.5, 0.0812, 0.02, 0.05, 0.96))
    write(ser / "ser.json", {"accuracy": 0.98, "num_utts": 50})
    return exp, ser


def test_numbers_in_summary_json(fake_exp):
    exp, ser = fake_exp
    s = summarize(exp, ser, ["griffin_lim"])
    on_disk = json.loads((exp / "summary.json").read_text())
    assert on_disk == json.loads(json.dumps(s))
    assert s["exp"] == "corp_gst" and s["split"] == "eval"
    assert s["model"] == {"num_params": 1_234_567, "train_seconds": 750.0, "steps": 2000, "best_dev_loss": 0.4321}
    assert s["ser"]["real_accuracy"] == 0.98
    gl = s["vocoders"]["griffin_lim"]
    assert gl["rtf"] == pytest.approx((6.0 + 24.0) / 120.0)  # 0.25
    assert gl["synth"]["mcd_mean"] == 7.125 and gl["synth"]["mcd_std"] == 0.8
    assert gl["synth"]["log_f0_rmse_mean"] == 0.1523
    assert gl["synth"]["emotion_accuracy"] == 0.8
    assert gl["synth"]["emotion_accuracy_ratio"] == pytest.approx(0.8 / 0.98)
    assert gl["floor"]["emotion_accuracy_ratio"] == pytest.approx(0.96 / 0.98)
    assert gl["floor"]["mcd_mean"] == 5.5
    assert (exp / "done").is_file()


def test_results_md_table(fake_exp):
    exp, ser = fake_exp
    summarize(exp, ser, ["griffin_lim"])
    md = (exp / "results.md").read_text()
    assert "## Vocoder: griffin_lim" in md
    assert "| synthesized | 50 | 7.12 ± 0.80 | 0.1523 ± 0.0500 | 0.120 | 0.800 | 0.82 |" in md
    assert "| floor (real mels, same vocoder) | 50 | 5.50 ± 0.50 | 0.0812 ± 0.0200 | 0.050 | 0.960 | 0.98 |" in md
    assert "| real recordings | 50 | – | – | – | 0.980 | 1.00 |" in md
    assert "| 1.23 M | 2000 | 12.5 min | 0.4321 | 0.2500 |" in md


def test_several_vocoders_and_no_floor(fake_exp):
    exp, ser = fake_exp
    write(exp / "synth/hifigan/eval/vocode.json", {"wall_seconds": 4.0, "audio_seconds": 100.0})
    write(exp / "eval/hifigan/eval/metrics.json", metrics(6.0, 0.7, 0.12, 0.04, 0.1, 0.9))
    s = collect(exp, ser, ["griffin_lim", "hifigan"], floor=False)
    assert s["vocoders"]["hifigan"]["rtf"] == pytest.approx(0.1)
    assert s["vocoders"]["hifigan"]["floor"] is None
    md = render_markdown(s)
    assert md.count("## Vocoder:") == 2 and "floor (real" not in md


def test_missing_input_names_the_file(fake_exp):
    exp, ser = fake_exp
    (exp / "eval/griffin_lim/floor/metrics.json").unlink()
    with pytest.raises(DataError, match=r"eval/griffin_lim/floor/metrics\.json: file not found"):
        summarize(exp, ser, ["griffin_lim"])
    assert not (exp / "done").exists() and not (exp / "summary.json").exists()


def test_missing_key_and_bad_json_name_the_file(fake_exp, tmp_path):
    exp, ser = fake_exp
    write(exp / "decode/eval/decode.json", {"wall_seconds": 1.0})
    with pytest.raises(DataError, match=r"decode/eval/decode\.json: missing key 'audio_seconds'"):
        collect(exp, ser, ["griffin_lim"])
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1,\n  oops}')
    with pytest.raises(DataError, match=r"bad\.json:2: invalid JSON"):
        read_json(bad)


def test_cli_writes_done_last_and_reports_errors(fake_exp):
    exp, ser = fake_exp
    cmd = [sys.executable, str(REPO / "steps/summarize.py"), "--exp-dir", str(exp), "--ser-dir", str(ser),
           "--vocoders", "griffin_lim", "--split", "eval"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, proc.stderr
    done, summary = exp / "done", exp / "summary.json"
    assert done.stat().st_mtime_ns >= summary.stat().st_mtime_ns
    assert done.stat().st_mtime_ns >= (exp / "results.md").stat().st_mtime_ns
    (ser / "ser.json").unlink()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
    assert proc.returncode == 1
    assert "ser.json: file not found" in proc.stderr

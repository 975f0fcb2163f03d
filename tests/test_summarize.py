"""summary.json / results.md from small fake stage outputs."""

import json
import sys
from pathlib import Path

import pytest

from pytorch_backend.errors import DataError
from pytorch_backend.eval.summary import collect, read_json, render_markdown, summarize
from tests.process_group import run as run_in_group

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
    proc = run_in_group(cmd, capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, proc.stderr
    done, summary = exp / "done", exp / "summary.json"
    assert done.stat().st_mtime_ns >= summary.stat().st_mtime_ns
    assert done.stat().st_mtime_ns >= (exp / "results.md").stat().st_mtime_ns
    (ser / "ser.json").unlink()
    proc = run_in_group(cmd, capture_output=True, text=True, cwd="/")
    assert proc.returncode == 1
    assert "ser.json: file not found" in proc.stderr


def judged(m, ovrl, p808, cer, spk, ps=None):
    """``m`` with the judges' sections eval/judges.py writes."""
    m = dict(m)
    m["dnsmos"] = {"num_utts": 50, **{k: {"mean": v, "std": 0.1} for k, v in
                                      (("ovrl", ovrl), ("sig", ovrl + 0.5), ("bak", ovrl + 1.0), ("p808", p808))}}
    m["cer"] = {"cer": cer, "wer": 2 * cer, "char_errors": 1, "ref_chars": 10, "num_utts": 50}
    m["pocketsphinx"] = None if ps is None else {"wer": ps, "num_utts": 50}
    m["speaker_similarity"] = {"mean": spk, "std": 0.02, "num_utts": 50, "num_speakers": 5}
    return m


def test_judges_rows_beside_the_real_recordings(fake_exp, tmp_path):
    exp, ser = fake_exp
    write(exp / "eval/griffin_lim/eval/metrics.json", judged(metrics(7.125, 0.8, 0.1523, 0.05, 0.12, 0.8),
                                                             1.3, 2.7, 0.30, 0.81))
    write(exp / "eval/griffin_lim/floor/metrics.json", judged(metrics(5.5, 0.5, 0.0812, 0.02, 0.05, 0.96),
                                                              1.9, 2.95, 0.18, 0.87))
    real = tmp_path / "exp" / "corp_real" / "eval"
    write(real / "metrics.json", judged({"num_utts": 50, "emotion_accuracy": 1.0}, 2.1, 3.15, 0.20, 0.88))
    s = summarize(exp, ser, ["griffin_lim"], real_dir=real)
    syn, floor = s["vocoders"]["griffin_lim"]["synth"], s["vocoders"]["griffin_lim"]["floor"]
    assert s["real"]["cer"] == 0.20 and s["real"]["dnsmos_p808"] == 3.15 and s["real"]["pocketsphinx_wer"] is None
    assert syn["cer_ratio"] == pytest.approx(1.5) and floor["cer_ratio"] == pytest.approx(0.9)
    assert syn["p808_gap"] == pytest.approx(-0.45) and syn["speaker_similarity"] == 0.81
    assert syn["dnsmos_bak"] == pytest.approx(2.3) and syn["asr_wer"] == pytest.approx(0.6)
    md = (exp / "results.md").read_text()
    assert ("| speech | DNSMOS overall | signal | background | P.808 | CER | WER (CTC) | speaker sim. "
            "| CER ratio to real |") in md  # PocketSphinx ran for no row: no column
    assert "| real recordings | 2.10 | 2.60 | 3.10 | 3.15 | 0.200 | 0.400 | 0.880 | 1.00 |" in md
    assert "| floor (real mels, same vocoder) | 1.90 | 2.40 | 2.90 | 2.95 | 0.180 | 0.360 | 0.870 | 0.90 |" in md
    assert "| synthesized | 1.30 | 1.80 | 2.30 | 2.70 | 0.300 | 0.600 | 0.810 | 1.50 |" in md
    # without the judges' sections (older metrics) the rows hold None and no judges table is drawn
    s = summarize(exp, ser, ["griffin_lim"])
    assert s["real"] is None
    write(exp / "eval/griffin_lim/eval/metrics.json", metrics(7.125, 0.8, 0.1523, 0.05, 0.12, 0.8))
    write(exp / "eval/griffin_lim/floor/metrics.json", metrics(5.5, 0.5, 0.0812, 0.02, 0.05, 0.96))
    s = summarize(exp, ser, ["griffin_lim"])
    assert s["vocoders"]["griffin_lim"]["synth"]["cer"] is None and "CER" not in (exp / "results.md").read_text()


def test_intensity_ranking_and_voice_change_in_results_md():
    from pytorch_backend.eval.summary import intensity_lines

    level = lambda p, s: {"target_prob": p, "accuracy": p, "per_emotion": {"happy": p}}  # noqa: E731
    rec = {"supported": True, "monotonic": True, "neutral": "neutral", "utts": ["u1", "u2"],
           "per_level": {"0": level(0.1, 0), "0.5": level(0.5, 0), "1": level(0.9, 0)},
           "ranking": {"spearman": 0.93, "spearman_per_utt": 0.97, "spearman_of_means": 1.0},
           "speaker_similarity": {"per_level": {"0": {"mean": 0.85}, "0.5": {"mean": 0.84}, "1": {"mean": 0.80}},
                                  "change": -0.05, "from": "0", "to": "1"}}
    text = "\n".join(intensity_lines(rec))
    assert "| intensity | mean P(target) | accuracy | happy | speaker sim. |" in text
    assert "| 1 | 0.900 | 0.900 | 0.900 | 0.800 |" in text
    assert "**0.930**" in text and "0.970 per utterance" in text
    assert "changes by -0.050 from intensity 0 to 1" in text


def test_results_table_shows_every_judge_with_real_and_floor_rows(tmp_path):
    from pytorch_backend.eval.results_table import write_results
    from pytorch_backend.eval.summary import judge_row

    def row(ovrl, p808, cer, spk, real=None):
        out = {"num_utts": 50, "mcd_mean": 10.0, "mcd_std": 1.0, "log_f0_rmse_mean": 0.2, "log_f0_rmse_std": 0.1,
               "vuv_error": 0.2, "emotion_accuracy": 0.9, "emotion_accuracy_ratio": 0.9}
        return {**out, **judge_row(judged({}, ovrl, p808, cer, spk), real)}

    real = {"num_utts": 50, "emotion_accuracy": 1.0, **judge_row(judged({}, 2.1, 3.15, 0.20, 0.88))}
    dirs = []
    for exp, cer, rho, change in (("c_fs2", 0.24, 0.95, -0.01), ("c_gst", 0.40, 0.85, -0.06)):
        levels = {str(lv): {"target_prob": lv, "accuracy": lv, "per_emotion": {}} for lv in (0, 0.25, 0.5, 0.75, 1)}
        summary = {"exp": exp, "split": "eval", "real": real,
                   "model": {"num_params": 10**6, "train_seconds": 60.0, "steps": 100, "best_dev_loss": 0.5},
                   "ser": {"real_accuracy": 1.0, "num_utts": 50}, "decode": {"wall_seconds": 1.0, "audio_seconds": 9.0},
                   "vocoders": {"griffin_lim": {"synth": row(1.3, 2.8, cer, 0.8, real),
                                                "floor": row(1.9, 2.95, 0.18, 0.87, real),
                                                "vocode": {"wall_seconds": 1.0, "audio_seconds": 9.0}, "rtf": 0.2}},
                   "intensity": {"supported": True, "monotonic": True, "per_level": levels,
                                 "ranking": {"spearman": rho},
                                 "speaker_similarity": {"change": change, "from": "0", "to": "1"}}}
        write(tmp_path / exp / "summary.json", summary)
        dirs.append(tmp_path / exp)
    data = write_results(dirs, tmp_path / "results" / "c.md")
    md = (tmp_path / "results" / "c.md").read_text()
    assert "P(target) by intensity 0 → 0.25 → 0.5 → 0.75 → 1" in md
    assert "| real recordings | 2.10 | 3.15 | 0.200 | 1.00 | n/a | 0.880 | – | – |" in md
    assert "| floor (griffin_lim) | 1.90 | 2.95 | 0.180 | 0.90 | n/a | 0.870 | – | – |" in md
    assert "| c_fs2 | 1.30 | 2.80 | 0.240 | 1.20 | n/a | 0.800 | -0.010 | 0.950 |" in md
    assert "| c_gst | 1.30 | 2.80 | 0.400 | 2.00 | n/a | 0.800 | -0.060 | 0.850 |" in md
    assert data["real"]["cer"] == 0.20 and data["experiments"]["c_gst"]["real"]["dnsmos_p808"] == 3.15

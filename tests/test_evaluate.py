"""steps/evaluate.py: metrics of synthesized speech against the reference data dir."""

import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.eval.evaluate import evaluate_dir
from tests.ser_fixtures import EMOTIONS, FEATS_CONF, FS, tiny_setup
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent
EVAL_CONF = {"split": "eval", "mcd": {"mcep_dim": None, "alpha": None},
             "f0": {"f0_floor": 60.0, "f0_ceil": 700.0, "frame_period": 5.0}, "floor": True}
CONF = {"eval": EVAL_CONF, "feats": FEATS_CONF, "emotions": EMOTIONS, "allow_pipes": False}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    torch.set_num_threads(1)
    return tiny_setup(tmp_path_factory.mktemp("evaluate"), eval_per_emotion=2)


def make_synth(setup, out: Path, transform, skip=()) -> Path:
    """A synthesized wav.scp: ``transform(ref_audio)`` of every reference utterance."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for line in (setup["data"] / "eval/wav.scp").read_text().splitlines():
        utt, path = line.split(maxsplit=1)
        if utt in skip:
            continue
        wav, _ = sf.read(path, dtype="float32")
        sf.write(out / f"{utt}.wav", transform(wav), FS, subtype="PCM_16")
        rows.append(f"{utt} {out / f'{utt}.wav'}\n")
    (out / "wav.scp").write_text("".join(rows))
    return out / "wav.scp"


def run_eval(setup, scp, out, nj=1, conf=CONF):
    return evaluate_dir(conf, scp, setup["data"] / "eval", setup["ser"], setup["dump"], out, nj=nj,
                        progress=False)


def test_copies_of_the_reference_score_perfectly(setup, tmp_path):
    # leading/trailing silence added to the copy is trimmed away before scoring (a whole
    # number of hops, so the trimmed copy is sample-identical to the trimmed reference)
    pad = np.zeros(26 * 256, dtype=np.float32)
    scp = make_synth(setup, tmp_path / "syn", lambda w: np.concatenate([pad, w, pad]))
    out = tmp_path / "eval"
    m = run_eval(setup, scp, out)
    assert m["num_utts"] == 8
    assert m["mcd"]["mean"] == pytest.approx(0.0, abs=1e-6)
    assert m["log_f0_rmse"]["mean"] == pytest.approx(0.0, abs=1e-6)
    assert m["vuv_error"] == pytest.approx(0.0, abs=1e-9)
    ser = json.loads((setup["ser"] / "ser.json").read_text())
    assert m["emotion_accuracy"] == ser["accuracy"] >= 0.9
    assert m["labels"] == EMOTIONS and np.asarray(m["confusion"]).sum() == 8
    on_disk = json.loads((out / "metrics.json").read_text())
    assert set(on_disk) >= {"num_utts", "mcd", "log_f0_rmse", "vuv_error", "emotion_accuracy",
                            "per_class_recall", "confusion", "labels", "per_utt"}
    row = next(iter(on_disk["per_utt"].values()))
    assert set(row) >= {"mcd", "log_f0_rmse", "pred", "target"}
    tsv = (out / "per_utt.tsv").read_text().splitlines()
    assert tsv[0].split("\t")[:4] == ["utt", "target", "pred", "mcd"] and len(tsv) == 9
    assert (out / "confusion.png").stat().st_size > 1000


def test_halved_amplitude_gives_the_c0_only_mcd(setup, tmp_path):
    # trimming is relative to the peak, so both keep the same samples; only c0 moves by ln 2
    scp = make_synth(setup, tmp_path / "syn", lambda w: 0.5 * w)
    m = run_eval(setup, scp, tmp_path / "eval")
    expected = 10 / math.log(10) * math.sqrt(2) * math.log(2)  # 4.2572 dB
    assert m["mcd"]["mean"] == pytest.approx(expected, abs=0.1)
    assert m["mcd"]["std"] < 0.1
    assert m["log_f0_rmse"]["mean"] < 0.03  # int16 rounding of the quiet copy moves Harvest a little


def test_cli_with_a_worker_pool(setup, tmp_path):
    rng = np.random.default_rng(0)
    scp = make_synth(setup, tmp_path / "syn", lambda w: np.clip(w + 0.01 * rng.standard_normal(len(w)), -1, 1))
    out = tmp_path / "eval"
    cmd = [sys.executable, str(REPO / "steps/evaluate.py"), "--conf", json.dumps(CONF), "--synth-wav-scp",
           str(scp), "--ref-data-dir", str(setup["data"] / "eval"), "--ser-dir", str(setup["ser"]),
           "--dump", str(setup["dump"]), "--out", str(out), "--nj", "2", "--log", str(tmp_path / "log/eval.log")]
    start = time.time()
    proc = run_in_group(cmd, capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert time.time() - start < 120
    m = json.loads((out / "metrics.json").read_text())
    assert m["num_utts"] == 8 and m["mcd"]["mean"] > 1.0
    assert (tmp_path / "log/eval.log").read_text().count("MCD") == 1


def test_missing_synth_wav_names_scp_and_utt(setup, tmp_path):
    first = (setup["data"] / "eval/wav.scp").read_text().split()[0]
    scp = make_synth(setup, tmp_path / "syn", lambda w: w, skip={first})
    with pytest.raises(DataError, match=rf"syn/wav\.scp \(utterance {first}\): no synthesized audio"):
        run_eval(setup, scp, tmp_path / "eval")
    assert not (tmp_path / "eval" / "metrics.json").exists()


def test_unreadable_synth_wav_names_scp_line_and_utt(setup, tmp_path):
    scp = make_synth(setup, tmp_path / "syn", lambda w: w)
    lines = scp.read_text().splitlines()
    utt = lines[1].split()[0]
    lines[1] = f"{utt} {tmp_path}/nowhere.wav"
    scp.write_text("\n".join(lines) + "\n")
    # raised in a worker process, it arrives intact
    with pytest.raises(DataError, match=rf"wav\.scp:2 \(utterance {utt}\): audio file not found"):
        run_eval(setup, scp, tmp_path / "eval", nj=2)


def test_synth_utterance_unknown_to_the_reference(setup, tmp_path):
    scp = make_synth(setup, tmp_path / "syn", lambda w: w)
    with open(scp, "a") as fh:
        fh.write(f"spk1-eval-extra-000 {tmp_path}/x.wav\n")
    with pytest.raises(DataError, match=r"wav\.scp:9 \(utterance spk1-eval-extra-000\): .* not in .*utt2emo"):
        run_eval(setup, scp, tmp_path / "eval")


def test_classifier_with_other_emotions_is_refused(setup, tmp_path):
    scp = make_synth(setup, tmp_path / "syn", lambda w: w)
    ser = tmp_path / "ser"
    shutil.copytree(setup["ser"], ser)
    ckpt = torch.load(ser / "model.pt", weights_only=True)
    ckpt["emotions"] = ["neutral", "happy", "sad", "fear"]
    torch.save(ckpt, ser / "model.pt")
    with pytest.raises(DataError, match=r"model\.pt: classifier labels .* differ from the corpus emotions"):
        evaluate_dir(CONF, scp, setup["data"] / "eval", ser, setup["dump"], tmp_path / "eval", nj=1)


def test_fs_without_mcep_table_entry_needs_the_conf(setup, tmp_path):
    conf = {**CONF, "feats": {**FEATS_CONF, "fs": 8000, "fmax": 4000.0}}
    with pytest.raises(ConfigError, match=r"conf/eval\.yaml: key 'mcd\.mcep_dim'.*fs=8000"):
        run_eval(setup, tmp_path / "none.scp", tmp_path / "eval", conf=conf)

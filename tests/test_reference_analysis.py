"""eval/reference.py and steps/analyse_reference.py: the reference side of MCD and F0, made once
per split, gives the very scores of an evaluation that analyses the references itself, and a
file that does not fit (other settings, other recordings, a missing utterance, not an analysis)
is refused before any scoring, naming it."""

import copy
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from pytorch_backend.errors import DataError
from pytorch_backend.eval.evaluate import evaluate_dir
from pytorch_backend.eval.reference import ReferenceAnalysis, analyse_references, analysis_params
from tests.process_group import run as run_in_group
from tests.ser_fixtures import EMOTIONS, FEATS_CONF, FS, tiny_setup

REPO = Path(__file__).resolve().parent.parent
EVAL_CONF = {"split": "eval", "mcd": {"mcep_dim": None, "alpha": None},
             "f0": {"f0_floor": 60.0, "f0_ceil": 700.0, "frame_period": 5.0}}
CONF = {"eval": EVAL_CONF, "feats": FEATS_CONF, "emotions": EMOTIONS, "allow_pipes": False}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("refanalysis")
    setup = tiny_setup(root, eval_per_emotion=1)
    analysis = root / "real" / "reference_analysis.npz"
    analyse_references(CONF, setup["data"] / "eval", analysis, nj=1, progress=False)
    # a "synthesized" set: every reference with noise and a small pitch-free gain change
    rng = np.random.default_rng(0)
    syn = root / "syn"
    syn.mkdir()
    rows = []
    for line in (setup["data"] / "eval/wav.scp").read_text().splitlines():
        utt, path = line.split(maxsplit=1)
        wav, _ = sf.read(path, dtype="float32")
        noisy = np.clip(0.8 * wav + 0.01 * rng.standard_normal(len(wav)), -1, 1).astype(np.float32)
        sf.write(syn / f"{utt}.wav", noisy, FS, subtype="PCM_16")
        rows.append(f"{utt} {syn / f'{utt}.wav'}\n")
    (syn / "wav.scp").write_text("".join(rows))
    return {**setup, "analysis": analysis, "syn_scp": syn / "wav.scp"}


def run_eval(setup, out, ref_analysis=None, nj=1, conf=CONF):
    return evaluate_dir(conf, setup["syn_scp"], setup["data"] / "eval", setup["ser"], setup["dump"], out, nj=nj,
                        progress=False, ref_analysis=ref_analysis)


def test_the_file_holds_every_reference_and_its_settings(setup):
    utts = [line.split()[0] for line in (setup["data"] / "eval/wav.scp").read_text().splitlines()]
    with np.load(setup["analysis"]) as npz:
        stored = json.loads(str(npz["params"]))
        assert stored == json.loads(json.dumps(analysis_params(FEATS_CONF, EVAL_CONF)))
        assert stored["mcep_dim"] == 34 and stored["alpha"] == 0.45  # the 22.05 kHz defaults
        for utt in utts:
            mcep, f0 = npz[f"mcep/{utt}"], npz[f"f0/{utt}"]
            assert mcep.ndim == 2 and mcep.shape[1] == 35 and len(mcep) > 10
            # Harvest every 5 ms against mel-cepstrum frames every 256 samples (11.6 ms)
            assert len(f0) == pytest.approx(len(mcep) * 256 / FS * 200, rel=0.2)
            assert (f0 > 0).mean() > 0.3  # voiced speech
    assert len(utts) == len(EMOTIONS)


def test_scores_are_those_of_an_evaluation_that_analyses_the_references(setup, tmp_path):
    plain = run_eval(setup, tmp_path / "plain")
    cached = run_eval(setup, tmp_path / "cached", ref_analysis=setup["analysis"], nj=2)
    assert plain["mcd"]["mean"] > 0.5  # the noise is scored, not a copy
    assert cached["per_utt"] == plain["per_utt"]
    for key in ("mcd", "log_f0_rmse", "vuv_error", "emotion_accuracy"):
        assert cached[key] == plain[key]


def test_other_mcd_settings_are_refused_before_scoring(setup, tmp_path):
    conf = copy.deepcopy(CONF)
    conf["eval"]["mcd"] = {"mcep_dim": 24, "alpha": 0.45}
    with pytest.raises(DataError, match=r"reference_analysis\.npz: made with other analysis settings \(mcep_dim"):
        run_eval(setup, tmp_path / "eval", ref_analysis=setup["analysis"], conf=conf)
    assert not (tmp_path / "eval").exists()


def test_other_trim_settings_are_refused(setup):
    feats = {**FEATS_CONF, "trim_top_db": 30.0}
    with pytest.raises(DataError, match=r"other analysis settings \(trim"):
        ReferenceAnalysis(setup["analysis"], analysis_params(feats, EVAL_CONF))


def test_a_changed_recording_names_the_wav_scp_line_and_utterance(setup, tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    for name in ("utt2emo", "utt2spk", "text"):
        src = setup["data"] / "eval" / name
        if src.exists():
            (ref / name).write_text(src.read_text())
    lines = (setup["data"] / "eval/wav.scp").read_text().splitlines()
    utt, path = lines[1].split(maxsplit=1)
    moved = tmp_path / "moved.wav"
    moved.write_bytes(Path(path).read_bytes())
    lines[1] = f"{utt} {moved}"
    (ref / "wav.scp").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=rf"ref/wav\.scp:2 \(utterance {utt}\): reference audio .* differs"):
        evaluate_dir(CONF, setup["syn_scp"], ref, setup["ser"], setup["dump"], tmp_path / "eval", nj=1,
                     progress=False, ref_analysis=setup["analysis"])
    assert not (tmp_path / "eval").exists()


def test_a_missing_utterance_and_a_file_that_is_no_analysis(setup, tmp_path):
    params = analysis_params(FEATS_CONF, EVAL_CONF)
    cached = ReferenceAnalysis(setup["analysis"], params)
    with pytest.raises(DataError, match=r"reference_analysis\.npz \(utterance nobody\): no analysis"):
        cached.check("nobody", "x.wav")
    bad = tmp_path / "reference_analysis.npz"
    bad.write_text("not a zip\n")
    with pytest.raises(DataError, match=r"reference_analysis\.npz: not a reference analysis file"):
        ReferenceAnalysis(bad, params)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(DataError, match=r"other\.npz: not a reference analysis file"):
        ReferenceAnalysis(tmp_path / "other.npz", params)


def test_cli_writes_the_file_and_a_bad_recording_names_its_line(setup, tmp_path):
    out = tmp_path / "real/eval/reference_analysis.npz"
    cmd = [sys.executable, "-m", "steps.analyse_reference", "--conf", json.dumps(CONF), "--ref-data-dir",
           str(setup["data"] / "eval"), "--out", str(out), "--nj", "2", "--log", str(tmp_path / "log/a.log")]
    proc = run_in_group(cmd, capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(out) as a, np.load(setup["analysis"]) as b:
        assert sorted(a.files) == sorted(b.files)
        assert all(np.array_equal(a[k], b[k]) for k in a.files)
    # an unreadable recording: a clear error naming wav.scp, its line and the utterance; the
    # earlier file stays as it was
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "utt2emo").write_text((setup["data"] / "eval/utt2emo").read_text())
    lines = (setup["data"] / "eval/wav.scp").read_text().splitlines()
    utt = lines[2].split()[0]
    lines[2] = f"{utt} {tmp_path}/nowhere.wav"
    (ref / "wav.scp").write_text("\n".join(lines) + "\n")
    before = out.read_bytes()
    cmd[cmd.index("--ref-data-dir") + 1] = str(ref)
    proc = run_in_group(cmd, capture_output=True, text=True, cwd=REPO)
    assert proc.returncode != 0
    assert f"wav.scp:3 (utterance {utt}): audio file not found" in proc.stderr
    assert out.read_bytes() == before

"""End to end: the Snakemake DAG from corpus generation to exp/<exp>/done on a tiny slice.

One module-scoped run feeds several checks: every declared output exists and holds sane
values, a re-run does nothing, and conf edits re-run exactly the stages that read them.
"""

import json
from pathlib import Path

import kaldiio
import pytest
import soundfile as sf

from tests.pipeline_fixtures import edit_conf, make_workdir, planned_rules, snakemake

pytestmark = pytest.mark.timeout(900)

TARGET = "exp/espeak_emo_gst/done"
OTHER_MODEL = "exp/espeak_emo_tacotron2/done"  # a second backend through the same DAG


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    workdir = make_workdir(tmp_path_factory.mktemp("pipeline"))
    snakemake(workdir, TARGET, OTHER_MODEL)
    return workdir


def declared_outputs(workdir: Path) -> list[str]:
    exp = "exp/espeak_emo_gst"
    data = [f"data/espeak_emo/{s}/{f}" for s in ("train", "dev", "eval")
            for f in ("wav.scp", "text", "utt2spk", "spk2utt", "utt2emo", "utt2dur", ".validated")]
    dump = [f"dump/espeak_emo/mel80/{s}/{f}" for s in ("train", "dev", "eval")
            for f in ("feats.scp", "utt2num_frames")] + ["dump/espeak_emo/mel80/stats.npz"]
    tokens = ["data/espeak_emo/tokens/phn/token_list"] + [
        f"data/espeak_emo/tokens/phn/{s}/text_tokens" for s in ("train", "dev", "eval")]
    rest = ["downloads/espeak_emo/metadata.tsv", "exp/espeak_emo_ser/done", "exp/espeak_emo_asr/done",
            "exp/espeak_emo_asr/model.pt", "exp/espeak_emo_real/eval/metrics.json",
            f"{exp}/config.yaml", f"{exp}/train/train.done", f"{exp}/decode/eval/feats.scp",
            f"{exp}/synth/griffin_lim/eval/wav.scp", f"{exp}/synth/griffin_lim/floor/wav.scp",
            f"{exp}/eval/griffin_lim/eval/metrics.json", f"{exp}/eval/griffin_lim/floor/metrics.json",
            f"{exp}/summary.json", f"{exp}/results.md", f"{exp}/done"]
    return data + dump + tokens + rest


def test_every_declared_output_exists(finished):
    missing = [p for p in declared_outputs(finished) if not (finished / p).exists()]
    assert not missing
    assert (finished / OTHER_MODEL).exists()
    summary = json.loads((finished / "exp/espeak_emo_tacotron2/summary.json").read_text())
    assert summary["exp"] == "espeak_emo_tacotron2"
    assert summary["vocoders"]["griffin_lim"]


def test_outputs_hold_real_results(finished):
    exp = finished / "exp/espeak_emo_gst"
    eval_utts = (finished / "data/espeak_emo/eval/utt2emo").read_text().split("\n")
    eval_ids = {line.split()[0] for line in eval_utts if line.strip()}
    decoded = dict(kaldiio.load_scp(str(exp / "decode/eval/feats.scp")))
    assert set(decoded) == eval_ids
    assert all(m.ndim == 2 and m.shape[1] == 80 and m.shape[0] > 0 for m in decoded.values())
    wavs = dict(line.split(maxsplit=1) for line in
                (exp / "synth/griffin_lim/eval/wav.scp").read_text().splitlines())
    assert set(wavs) == eval_ids
    for path in wavs.values():
        info = sf.info(path)
        assert info.samplerate == 22050 and info.frames > 0
    summary = json.loads((exp / "summary.json").read_text())
    text = json.dumps(summary)
    for key in ("mcd", "log_f0_rmse", "emotion_accuracy"):
        assert key in text
    metrics = json.loads((exp / "eval/griffin_lim/eval/metrics.json").read_text())
    assert metrics["num_utts"] == len(eval_ids)
    assert metrics["mcd"]["mean"] > 0
    assert 0.0 <= metrics["emotion_accuracy"] <= 1.0
    # the judges from outside the corpus: the recognizer's CER and speaker similarity (two
    # speakers) on synthesized, floor and real speech; PocketSphinx off for eSpeak voices
    for row in (summary["vocoders"]["griffin_lim"]["synth"], summary["vocoders"]["griffin_lim"]["floor"],
                summary["real"]):
        assert 0.0 <= row["cer"] and -1.0 <= row["speaker_similarity"] <= 1.0
        assert row["pocketsphinx_wer"] is None and row["dnsmos_p808"] is None  # off in the tiny conf
    assert metrics["cer"]["num_utts"] == len(eval_ids) and set(metrics["per_utt"][next(iter(eval_ids))]) >= {
        "asr_hyp", "speaker_similarity"}
    assert summary["intensity"]["ranking"]["spearman"] is None or -1 <= summary["intensity"]["ranking"]["spearman"] <= 1
    results = (exp / "results.md").read_text()
    assert "MCD" in results and "| real recordings |" in results and "CER ratio to real" in results
    config = (exp / "config.yaml").read_text()
    assert "model: gst" in config


def test_results_table_of_every_backend(finished):
    """results/<corpus>.md needs every backend's done: each trains, decodes, is evaluated, mapped
    and intensity-checked through the same DAG."""
    snakemake(finished, "results/espeak_emo.md")
    models = sorted(p.stem for p in (finished / "conf" / "tts").glob("*.yaml"))
    assert {"gst", "tacotron2", "vae", "emo_dnn", "emo_cvae"} <= set(models)
    table = (finished / "results" / "espeak_emo.md").read_text()
    data = json.loads((finished / "results" / "espeak_emo.json").read_text())
    assert sorted(data["experiments"]) == [f"espeak_emo_{m}" for m in models]
    for model in models:
        exp = finished / f"exp/espeak_emo_{model}"
        assert f"| espeak_emo_{model} |" in table
        summary = json.loads((exp / "summary.json").read_text())
        assert summary["intensity"]["supported"] and list(summary["intensity"]["per_level"]) == ["0", "0.5", "1"]
        assert (exp / "eval/intensity/intensity.png").is_file()
        assert summary["emotion_space"]["kind"] in ("style", "label")
        assert (exp / "plots/emotion_space_pca.png").is_file() and (exp / "plots/emotion_space_tsne.png").is_file()
        targets = (exp / "decode/eval/utt2emo").read_text()
        assert targets == (finished / "data/espeak_emo/eval/utt2emo").read_text()
    assert planned_rules(finished, "results/espeak_emo.md") == set()


def test_rerun_does_nothing(finished):
    assert planned_rules(finished, TARGET) == set()


def test_tts_conf_edit_reruns_training_not_features(finished):
    edit_conf(finished / "conf", "tts/gst.yaml", {"train": {"max_steps": 7}})
    try:
        rules = planned_rules(finished, TARGET)
    finally:
        edit_conf(finished / "conf", "tts/gst.yaml", {"train": {"max_steps": 6}})
    assert {"train_tts", "decode", "vocode", "evaluate", "summarize"} <= rules
    assert not rules & {"espeak_emo_generate", "prepare_corpus", "make_feats", "compute_stats",
                        "make_tokens", "train_ser"}


def test_decode_conf_edit_does_not_retrain(finished):
    edit_conf(finished / "conf", "tts/gst.yaml", {"decode": {"threshold": 0.6}})
    try:
        rules = planned_rules(finished, TARGET)
    finally:
        edit_conf(finished / "conf", "tts/gst.yaml", {"decode": {"threshold": 0.5}})
    assert "decode" in rules
    assert "train_tts" not in rules


def test_feats_conf_edit_reruns_features_and_what_follows(finished):
    edit_conf(finished / "conf", "feats/mel80.yaml", {"trim_top_db": 35.0})
    try:
        rules = planned_rules(finished, TARGET)
    finally:
        edit_conf(finished / "conf", "feats/mel80.yaml", {"trim_top_db": 40.0})
    assert {"make_feats", "compute_stats", "train_ser", "train_tts", "decode", "summarize"} <= rules
    assert not rules & {"espeak_emo_generate", "prepare_corpus", "make_tokens"}


def test_killed_training_resumes_from_its_checkpoint(finished):
    """SIGKILL the whole Snakemake job mid-training; the re-run continues from the checkpoint."""
    import os
    import signal
    import subprocess
    import time

    import yaml

    from tests.pipeline_fixtures import env, snakemake_cmd

    conf = finished / "conf"
    gst = yaml.safe_load((conf / "tts/gst.yaml").read_text())
    gst["train"].update({"max_steps": 40, "save_interval": 5, "eval_interval": 20})
    (conf / "tts/gst_resume.yaml").write_text(yaml.safe_dump(gst))
    target = "exp/espeak_emo_gst_resume/train/train.done"
    ckpt_dir = finished / "exp/espeak_emo_gst_resume/train/checkpoints"
    proc = subprocess.Popen(snakemake_cmd(finished, target), env=env(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and not list(ckpt_dir.glob("step_10.pt")):
            assert proc.poll() is None, "training finished or failed before it could be killed"
            time.sleep(0.2)
        assert list(ckpt_dir.glob("step_10.pt")), "no checkpoint appeared in time"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (finished / target).exists()
    saved = sorted(int(p.stem.split("_")[1]) for p in ckpt_dir.glob("step_*.pt"))
    snakemake(finished, extra=("--unlock",))
    snakemake(finished, target)
    info = json.loads((finished / "exp/espeak_emo_gst_resume/train/train.json").read_text())
    assert info["steps"] == 40
    assert info["resumed_from"] is not None and info["resumed_from"] >= 10
    assert info["resumed_from"] in saved


def test_bad_data_stops_the_dag_naming_file_and_line_and_keeps_outputs(finished):
    """An empty transcription fails validation with file:line; nothing produced before is lost."""
    text = finished / "data/espeak_emo/eval/text"
    original = text.read_text()
    lines = original.splitlines()
    utt = lines[1].split()[0]
    lines[1] = utt + "    "
    keep = [finished / "exp/espeak_emo_gst/done", finished / "dump/espeak_emo/mel80/eval/feats.scp",
            finished / "exp/espeak_emo_gst/train/best.pt"]
    before = {p: p.read_bytes() for p in keep}
    text.write_text("\n".join(lines) + "\n")
    try:
        proc = snakemake(finished, TARGET, check=False)
    finally:
        text.write_text(original)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "data/espeak_emo/eval/text:2" in out and utt in out
    for path, data in before.items():
        assert path.read_bytes() == data

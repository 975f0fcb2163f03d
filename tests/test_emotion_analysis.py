"""Emotion-space maps, the intensity check, evaluation against decode's intended emotions and
the results table across backends."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pytorch_backend.eval.emotion_space import map_emotion_space, project, space_metrics, subsample
from pytorch_backend.eval.intensity import intensity_check, pick_utterances
from pytorch_backend.eval.results_table import write_results
from pytorch_backend.eval.summary import emotion_space_lines, intensity_lines
from pytorch_backend.ser import build_classifier
from pytorch_backend.ser.train import save_classifier
from pytorch_backend.tts.training import train_tts
from pytorch_backend.tts.loading import load_split, load_trained
from prosody_fixtures import add_prosody, tiny_fs2_conf
from tts_fixtures import EMOTIONS, N_MELS, make_corpus, tiny_conf

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("analysis")
    corpus = add_prosody(make_corpus(root))
    for model in ("gst", "emo_dnn", "tacotron2", "fastspeech2"):
        conf = (tiny_fs2_conf if model == "fastspeech2" else lambda **kw: tiny_conf(model, **kw))(
            max_steps=4, eval_interval=2, save_interval=2)
        train_tts(conf, corpus["data_root"],
                  corpus["tokens"], corpus["dump"], root / model / "train", threads=1,
                  source=f"conf/tts/{model}.yaml")
    # an (untrained) emotion classifier in the format steps/train_ser.py writes
    torch.manual_seed(0)
    conf = {"channels": 4, "num_blocks": 1, "hidden": 8}
    clf = build_classifier("cnn_pool", conf, len(EMOTIONS), N_MELS)
    save_classifier(root / "ser" / "model.pt", clf.state_dict(), "cnn_pool", conf, EMOTIONS, N_MELS, 0, 0.0)
    return root, corpus


def test_projection_and_metrics_numbers():
    rng = np.random.default_rng(0)
    emos = np.repeat([0, 1, 2], 20)
    emb = rng.normal(size=(60, 6)) * 0.1 + np.eye(6)[emos] * 5.0  # three tight, far-apart clusters
    m = space_metrics(emb, emos, EMOTIONS)
    assert m["silhouette"] > 0.9 and m["utts_per_emotion"] == {"neutral": 20, "happy": 20, "sad": 20}
    assert m["centroid_distances"]["neutral-happy"] == pytest.approx(5 * np.sqrt(2), rel=0.05)
    assert sum(m["pca_explained_variance"]) > 0.9
    for method in ("pca", "tsne"):
        assert project(emb, method).shape == (60, 2)
    noise = space_metrics(rng.normal(size=(60, 6)), emos, EMOTIONS)
    assert noise["silhouette"] < 0.1
    assert len(subsample(emos, 30)) == 30 and len(subsample(emos, 100)) == 60
    with pytest.raises(ValueError, match="projection"):
        project(emb, "umap")


@pytest.mark.parametrize("model,kind", [("gst", "style"), ("emo_dnn", "label"), ("tacotron2", "label"),
                                        ("fastspeech2", "label")])
def test_emotion_space_map_of_train_utterances(trained, tmp_path, model, kind):
    root, c = trained
    net, meta = load_trained(root / model / "train")
    train = load_split(c["data_root"], c["tokens"], c["dump"], "train", meta["tokens"], meta["speakers"],
                       meta["emotions"])
    rec = map_emotion_space(net, train, EMOTIONS, tmp_path, title=model, max_utts=1000)
    assert rec["kind"] == kind and rec["num_utts"] == len(train)
    assert (tmp_path / "emotion_space_pca.png").stat().st_size > 1000
    assert (tmp_path / "emotion_space_tsne.png").stat().st_size > 1000
    assert json.loads((tmp_path / "emotion_space.json").read_text())["kind"] == kind
    if kind == "label":  # every utterance of an emotion has its label's vector
        assert rec["silhouette"] == pytest.approx(1.0)
    assert "silhouette" in "\n".join(emotion_space_lines(rec))


def test_intensity_check_writes_levels_and_skips_unsupported(trained, tmp_path):
    root, c = trained
    conf = tiny_conf("emo_dnn")
    conf["eval"] = {"intensity": {"levels": [0.0, 0.5, 1.0], "utts_per_emotion": 1,
                                  "griffin_lim": {"n_iter": 2}}}
    rec = intensity_check(conf, root / "emo_dnn" / "train", c["data_root"], c["tokens"], c["dump"], root / "ser",
                          tmp_path / "int", progress=False)
    assert rec["supported"] and list(rec["per_level"]) == ["0", "0.5", "1"]
    assert len(rec["utts"]) == 2  # one per non-neutral emotion
    for level in rec["per_level"].values():
        assert 0.0 <= level["target_prob"] <= 1.0 and set(level["per_emotion"]) == {"happy", "sad"}
    saved = json.loads((tmp_path / "int" / "intensity.json").read_text())
    assert saved["monotonic"] == rec["monotonic"] and (tmp_path / "int" / "intensity.png").is_file()
    assert set((tmp_path / "int" / "level_0" / "utt2emo").read_text().split()[1::2]) == {"neutral"}
    assert "mean P(target)" in "\n".join(intensity_lines(rec))
    # a model without any emotion input cannot be asked for an intensity
    conf_t2 = tiny_conf("tacotron2")
    conf_t2["tts"]["model_conf"]["use_emotion"] = False
    train_tts(dict(conf_t2, tts=dict(conf_t2["tts"], train=dict(conf_t2["tts"]["train"], max_steps=2))),
              c["data_root"], c["tokens"], c["dump"], tmp_path / "plain" / "train", threads=1)
    conf_t2["eval"] = conf["eval"]
    rec = intensity_check(conf_t2, tmp_path / "plain" / "train", c["data_root"], c["tokens"], c["dump"],
                          root / "ser", tmp_path / "int2", progress=False)
    assert rec["supported"] is False and "does not support the 'intensity' control" in rec["reason"]


def test_pick_utterances_is_fixed_and_per_emotion(tmp_path):
    p = tmp_path / "utt2emo"
    p.write_text("b_3 sad\na_1 happy\na_2 neutral\nb_1 happy\nc_9 sad\n")
    assert pick_utterances(p, EMOTIONS, "neutral", 1) == ["a_1", "b_3"]
    assert pick_utterances(p, EMOTIONS, "neutral", 5) == ["a_1", "b_1", "b_3", "c_9"]


def test_evaluation_scores_against_decodes_intended_emotions(tmp_path):
    from pytorch_backend.errors import DataError
    from pytorch_backend.eval.evaluate import plan_jobs

    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "wav.scp").write_text("u1 /r/u1.wav\nu2 /r/u2.wav\n")
    (ref / "utt2emo").write_text("u1 sad\nu2 happy\n")
    syn = tmp_path / "syn.scp"
    syn.write_text("u1 /s/u1.wav\nu2 /s/u2.wav\n")
    targets = tmp_path / "utt2emo"
    targets.write_text("u1 happy\nu2 happy\n")
    assert [j.target for j in plan_jobs(syn, ref, EMOTIONS)] == [2, 1]
    assert [j.target for j in plan_jobs(syn, ref, EMOTIONS, targets)] == [1, 1]
    targets.write_text("u1 happy\nu2 furious\n")
    with pytest.raises(DataError) as err:
        plan_jobs(syn, ref, EMOTIONS, targets)
    assert str(targets) in str(err.value) and "u2" in str(err.value)


def fake_summary(exp, acc, steps, monotonic=True):
    level = lambda p: {"target_prob": p, "accuracy": p, "per_emotion": {"happy": p}}  # noqa: E731
    return {"exp": exp, "split": "eval",
            "model": {"num_params": 1_500_000, "train_seconds": 300.0, "steps": steps, "best_dev_loss": 0.5},
            "ser": {"real_accuracy": 1.0, "num_utts": 50}, "decode": {"wall_seconds": 2.0, "audio_seconds": 50.0},
            "vocoders": {"griffin_lim": {"synth": {"num_utts": 50, "mcd_mean": 14.0, "mcd_std": 1.0,
                                                   "log_f0_rmse_mean": 0.2, "log_f0_rmse_std": 0.05,
                                                   "vuv_error": 0.3, "emotion_accuracy": acc,
                                                   "emotion_accuracy_ratio": acc},
                                         "floor": {"num_utts": 50, "mcd_mean": 7.4, "mcd_std": 1.0,
                                                   "log_f0_rmse_mean": 0.14, "log_f0_rmse_std": 0.05,
                                                   "vuv_error": 0.2, "emotion_accuracy": 0.98,
                                                   "emotion_accuracy_ratio": 0.98},
                                         "vocode": {"wall_seconds": 3.0, "audio_seconds": 50.0}, "rtf": 0.1}},
            "intensity": {"supported": True, "monotonic": monotonic, "neutral": "neutral", "utts": ["u"],
                          "per_level": {"0": level(0.1), "0.5": level(0.4), "1": level(0.9)}}}


def test_results_table_across_backends(tmp_path):
    dirs = []
    for exp, acc in (("c_gst", 0.82), ("c_vae", 0.9)):
        d = tmp_path / "exp" / exp
        d.mkdir(parents=True)
        (d / "summary.json").write_text(json.dumps(fake_summary(exp, acc, 1500)))
        dirs.append(d)
    data = write_results(dirs, tmp_path / "results" / "c.md")
    text = (tmp_path / "results" / "c.md").read_text()
    assert "| c_gst | 14.00 ± 1.00 | 0.200 | 0.820 | 0.82 | 0.10 → 0.40 → 0.90 (rises) | 1.50 M | 1500 | 5.0 min" in text
    assert "| c_vae |" in text and "floor of griffin_lim" in text
    assert "`snakemake results/c.md`" in text
    assert data["experiments"]["c_vae"]["vocoders"]["griffin_lim"]["synth"]["emotion_accuracy"] == 0.9
    assert json.loads((tmp_path / "results" / "c.json").read_text())["corpus"] == "c"
    from pytorch_backend.errors import DataError

    with pytest.raises(DataError) as err:
        write_results([tmp_path / "exp" / "missing"], tmp_path / "results" / "x.md")
    assert "summary.json" in str(err.value)

"""The vocoder trainer and its DAG wiring: resumable checkpoints, type checks on loading,
feature/audio alignment, conf validation, exp/<corpus>_voc_<vocoder> in the Snakefile's config."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from vocoder_fixtures import FEATS, HOP, make_corpus, train_tiny

from pytorch_backend.config import VOCODER_SCHEMA, load_checked
from pipeline.lookup import ConfLookup
from pipeline.rule_paths import RulePaths
from pipeline.slices import RuleSlices
from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.vocoders import VOCODERS, NeuralVocoder, build_vocoder
from pytorch_backend.vocoders.data import SegmentData
from pytorch_backend.vocoders.train import VocoderTrainer, resolve_train_conf

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def test_segments_line_up_with_the_dumped_frames(corpus):
    data = SegmentData(corpus[0] / "train", corpus[1] / "train" / "feats.scp", FEATS)
    assert len(data) == 3
    for mel, wav in zip(data.mels, data.wavs):
        assert len(wav) == len(mel) * HOP
    mel, wav = data.batch(np.random.default_rng(0), 4, 5)
    assert mel.shape == (4, 80, 5) and wav.shape == (4, 5 * HOP)
    # a segment's mel is the dump's frames; its audio regenerates them (up to the segment edges)
    from pytorch_backend.feats.logmel import LogMelExtractor

    ext = LogMelExtractor.from_conf({**FEATS, "trim_silence": False})
    m, w = data.segment(0, 3, 10)
    again = ext.logmel(w)[2:8]
    assert np.abs(again - m[2:8]).mean() < 0.05


def test_audio_that_does_not_match_the_features_names_the_utterance(corpus, tmp_path):
    data = tmp_path / "train"
    shutil.copytree(corpus[0] / "train", data)
    lines = (data / "wav.scp").read_text().splitlines()
    first, second = lines[0].split(), lines[1].split()
    lines[0] = f"{first[0]} {second[1]}"  # another utterance's (longer) audio
    (data / "wav.scp").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=rf"wav.scp:1 \(utterance {first[0]}\).*frames"):
        SegmentData(data, corpus[1] / "train" / "feats.scp", FEATS)


def test_resume_continues_exactly_where_it_stopped(corpus, tmp_path):
    full = train_tiny("hifigan", corpus, tmp_path / "full", max_steps=4)
    train_tiny("hifigan", corpus, tmp_path / "split", max_steps=2)
    resumed = train_tiny("hifigan", corpus, tmp_path / "split", max_steps=4)
    assert full["steps"] == resumed["steps"] == 4 and resumed["steps_this_run"] == 2
    a = torch.load(tmp_path / "full" / "model.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "split" / "model.pt", weights_only=True)["model"]
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5)
    assert sorted(p.name for p in (tmp_path / "split" / "checkpoints").iterdir()) == ["step_2.pt", "step_4.pt"]
    # training again past max_steps does nothing but rewrite the final files
    again = train_tiny("hifigan", corpus, tmp_path / "split", max_steps=4)
    assert again["steps_this_run"] == 0


def test_a_checkpoint_of_another_vocoder_type_is_a_clear_error(corpus, tmp_path):
    train_tiny("hifigan", corpus, tmp_path / "voc", max_steps=1, save_interval=1)
    with pytest.raises(DataError, match=r"model\.pt.*'hifigan' vocoder.*'melgan'"):
        build_vocoder("melgan", {}, FEATS, model_dir=tmp_path / "voc")
    with pytest.raises(DataError, match=r"step_1\.pt.*'hifigan' vocoder.*'melgan'"):
        train_tiny("melgan", corpus, tmp_path / "voc", max_steps=2)
    with pytest.raises(DataError, match="trained vocoder file not found"):
        build_vocoder("hifigan", {}, FEATS, model_dir=tmp_path / "missing")
    with pytest.raises(DataError, match="hop_length 256 \\(now 128\\)"):
        build_vocoder("hifigan", {}, {**FEATS, "hop_length": 128}, model_dir=tmp_path / "voc")


def test_bad_train_and_model_keys_name_file_and_key(tmp_path):
    cls = VOCODERS["hifigan"]
    with pytest.raises(ConfigError, match=r"hifigan.yaml: key 'train.max_step'"):
        resolve_train_conf(cls, {"max_step": 3}, "conf/vocoder/hifigan.yaml")
    conf = resolve_train_conf(cls, {"generator": {"channels": 3}}, "conf/vocoder/hifigan.yaml")
    with pytest.raises(ConfigError, match=r"key 'train.generator.channels'.*unknown keyword"):
        VocoderTrainer(cls, conf, FEATS, tmp_path, source="conf/vocoder/hifigan.yaml")
    with pytest.raises(ConfigError, match=r"key 'conf.nope'"):
        build_vocoder("hifigan", {"nope": 1}, FEATS, model_dir=tmp_path)
    with pytest.raises(ConfigError, match="needs a trained model directory"):
        build_vocoder("hifigan", {}, FEATS)


def test_every_vocoder_conf_builds_its_models():
    """conf/vocoder/*.yaml: known keys, generators that upsample by the hop (paper-sized too)."""
    names = sorted(p.stem for p in (REPO / "conf" / "vocoder").glob("*.yaml"))
    trained = {n for n in names if load_checked(REPO / "conf" / "vocoder" / f"{n}.yaml", VOCODER_SCHEMA)["train"]}
    assert {"hifigan", "hifigan_v1_paper", "parallel_wavegan", "melgan", "multiband_melgan", "wavenet",
            "waveglow"} <= trained
    for name in sorted(trained):
        path = REPO / "conf" / "vocoder" / f"{name}.yaml"
        voc = load_checked(path, VOCODER_SCHEMA)
        cls = VOCODERS[voc["name"]]
        assert issubclass(cls, NeuralVocoder)
        conf = resolve_train_conf(cls, voc["train"], path)
        gen = cls.build_generator(conf["generator"], FEATS)
        assert getattr(gen, "hop", HOP) == HOP, name
        assert set(voc["conf"]) <= {"batch_size", "device", "num_threads", "model_file"}, name


def test_the_dag_trains_a_listed_neural_vocoder_once_per_corpus(tmp_path):
    shutil.copytree(REPO / "conf", tmp_path / "conf")
    corpus_conf = tmp_path / "conf" / "corpus" / "espeak_emo.yaml"
    text = corpus_conf.read_text().replace("vocoders: [griffin_lim]", "vocoders: [griffin_lim, hifigan]")
    corpus_conf.write_text(text)
    confs = ConfLookup(tmp_path / "conf")
    paths, slices = RulePaths(confs), RuleSlices(confs)
    wc = SimpleNamespace(corpus="espeak_emo", model="gst", vocoder="hifigan", name="eval")
    assert paths.vocoder_model(wc) == ["exp/espeak_emo_voc_hifigan/train.done"]
    assert paths.vocoder_model_arg(wc) == "--model-dir exp/espeak_emo_voc_hifigan"
    assert "exp/espeak_emo_gst/eval/hifigan/floor/metrics.json" in paths.summary(wc)
    wc.vocoder = "griffin_lim"
    assert paths.vocoder_model(wc) == [] and paths.vocoder_model_arg(wc) == ""
    train = json.loads(slices.vocoder_train(SimpleNamespace(corpus="espeak_emo", vocoder="hifigan")))
    assert train["vocoder"]["name"] == "hifigan" and train["feats"]["n_mels"] == 80
    with pytest.raises(ConfigError, match="not a trainable vocoder"):
        slices.vocoder_train(SimpleNamespace(corpus="espeak_emo", vocoder="griffin_lim"))
    shutil.copy(tmp_path / "conf" / "tts" / "gst.yaml", tmp_path / "conf" / "tts" / "voc_x.yaml")
    with pytest.raises(ConfigError, match="voc_x.yaml.*reserved"):
        ConfLookup(tmp_path / "conf")


def test_a_conf_edit_sets_old_checkpoints_aside_and_max_steps_resumes(corpus, tmp_path):
    """Checkpoints of the same vocoder trained under another conf are moved aside (never
    resumed with the wrong losses); a raised max_steps continues; the time budget stops cleanly."""
    out = tmp_path / "voc"
    train_tiny("hifigan", corpus, out, max_steps=1, save_interval=1)
    changed = train_tiny("hifigan", corpus, out, max_steps=1, save_interval=1, lambda_mel=2.0)
    assert changed["resumed_from"] is None and changed["steps"] == 1
    stale = [p for p in out.iterdir() if p.name.startswith("stale_")]
    assert len(stale) == 1 and (stale[0] / "checkpoints" / "step_1.pt").is_file()
    longer = train_tiny("hifigan", corpus, out, max_steps=2, save_interval=1, lambda_mel=2.0)
    assert longer["resumed_from"] == 1 and longer["steps"] == 2 and longer["steps_this_run"] == 1
    budget = train_tiny("hifigan", corpus, tmp_path / "budget", max_steps=100, max_minutes=1e-9)
    assert budget["stopped"] == "max_minutes" and budget["steps"] == 1
    assert (tmp_path / "budget" / "model.pt").is_file()

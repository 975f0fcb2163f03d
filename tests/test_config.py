"""Config loading (pytorch_backend.config) and resolution (pipeline.resolve): schema checks name
the file and key; experiments resolve with overrides."""

import shutil
from pathlib import Path

import pytest
import yaml

from pipeline import resolve
from pytorch_backend import config as cfg
from pytorch_backend.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def conf_dir(tmp_path):
    dst = tmp_path / "conf"
    shutil.copytree(REPO / "conf", dst)
    return dst


def edit_yaml(path, update):
    data = yaml.safe_load(path.read_text()) or {}
    data = cfg.deep_merge(data, update)
    path.write_text(yaml.safe_dump(data))


def test_demo_experiment_resolves(conf_dir):
    exp = resolve.resolve_experiment(conf_dir, "espeak_emo", "gst")
    assert exp["exp"] == "espeak_emo_gst"
    assert exp["corpus"]["emotions"] == ["neutral", "happy", "sad", "angry", "surprise"]
    assert exp["feats_name"] == "mel80"
    assert exp["feats"]["n_mels"] == 80
    assert exp["tts"]["model"] == "gst"
    assert "griffin_lim" in exp["vocoders"]
    assert exp["vocoders"]["griffin_lim"]["name"] == "griffin_lim"


def test_unknown_key_names_file_and_key_path(conf_dir):
    path = conf_dir / "tts" / "gst.yaml"
    edit_yaml(path, {"train": {"learning_rate": 0.1}})
    with pytest.raises(ConfigError) as err:
        resolve.resolve_experiment(conf_dir, "espeak_emo", "gst")
    assert str(path) in str(err.value)
    assert "train.learning_rate" in str(err.value)


def test_unknown_top_level_key_in_corpus_conf(conf_dir):
    path = conf_dir / "corpus" / "espeak_emo.yaml"
    edit_yaml(path, {"sample_rate": 16000})
    with pytest.raises(ConfigError, match=r"espeak_emo\.yaml: key 'sample_rate': unknown key"):
        resolve.load_corpus_conf(conf_dir, "espeak_emo")


def test_experiment_override_is_merged_and_checked(conf_dir):
    override = conf_dir / "exp" / "espeak_emo_gst.yaml"
    override.parent.mkdir(exist_ok=True)
    override.write_text(yaml.safe_dump({"tts": {"train": {"max_steps": 7}}}))
    exp = resolve.resolve_experiment(conf_dir, "espeak_emo", "gst")
    assert exp["tts"]["train"]["max_steps"] == 7
    # untouched neighbours keep the model conf's values
    base = cfg.load_checked(conf_dir / "tts" / "gst.yaml", cfg.TTS_SCHEMA)
    assert exp["tts"]["train"]["batch_frames"] == base["train"]["batch_frames"]
    override.write_text(yaml.safe_dump({"tts": {"trian": {}}}))
    with pytest.raises(ConfigError, match="tts.trian"):
        resolve.resolve_experiment(conf_dir, "espeak_emo", "gst")


def test_invalid_yaml_and_missing_file(conf_dir):
    path = conf_dir / "tts" / "gst.yaml"
    path.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        cfg.load_yaml(path)
    with pytest.raises(ConfigError, match="config file not found"):
        resolve.resolve_experiment(conf_dir, "espeak_emo", "no_such_model")


def test_repeated_key_is_refused_with_its_line(conf_dir):
    path = conf_dir / "tts" / "gst.yaml"
    text = path.read_text()
    before = text.count("\n")
    train = text[text.index("\ntrain:") + 1:]
    train = train[:train.index("\ndecode:") + 1]
    path.write_text(text + train)  # the whole train block once more, after decode:
    with pytest.raises(ConfigError, match=rf"gst.yaml: key 'train': .*appears twice.*line {before + 1}\b"):
        cfg.load_yaml(path)
    path.write_text("model: gst\nmodel_conf:\n  dim: 1\n  dim: 2\n")
    with pytest.raises(ConfigError, match=r"key 'dim'.*line 4"):
        cfg.load_yaml(path)
    # every shipped conf is free of them
    for conf in (Path(__file__).resolve().parent.parent / "conf").rglob("*.yaml"):
        cfg.load_yaml(conf)


def test_bad_token_type_and_emotions(conf_dir):
    path = conf_dir / "corpus" / "espeak_emo.yaml"
    edit_yaml(path, {"token_type": "words"})
    with pytest.raises(ConfigError, match="token_type"):
        resolve.load_corpus_conf(conf_dir, "espeak_emo")
    edit_yaml(path, {"token_type": "char", "emotions": ["sad", "sad"]})
    with pytest.raises(ConfigError, match="emotions"):
        resolve.load_corpus_conf(conf_dir, "espeak_emo")


def test_deep_merge_does_not_modify_inputs():
    base = {"a": {"b": 1, "c": 2}}
    out = cfg.deep_merge(base, {"a": {"b": 5}})
    assert out == {"a": {"b": 5, "c": 2}}
    assert base == {"a": {"b": 1, "c": 2}}


def test_ser_slice_ignores_pitch_options_but_not_mel_options(tmp_path):
    from pipeline.resolve import resolve_ser

    conf = tmp_path / "conf"
    shutil.copytree(Path(__file__).resolve().parent.parent / "conf", conf)
    before = resolve_ser(conf, "espeak_emo")
    feats = conf / "feats" / "mel80.yaml"
    data = yaml.safe_load(feats.read_text())
    feats.write_text(yaml.safe_dump(dict(data, f0_ceil=500.0, f0_method="harvest")))
    assert resolve_ser(conf, "espeak_emo") == before  # the classifier does not retrain
    feats.write_text(yaml.safe_dump(dict(data, fmax=7600.0)))
    assert resolve_ser(conf, "espeak_emo")["feats"]["fmax"] == 7600.0


def test_schema_module_is_the_ground_floor():
    """pytorch_backend.config holds the schemas and merge helpers only; resolving lives above it."""
    for name in ("load_corpus_conf", "list_confs", "resolve_experiment", "resolve_ser"):
        assert not hasattr(cfg, name), name
        assert callable(getattr(resolve, name)), name
    assert "gst" in resolve.list_confs(REPO / "conf", "tts")
    assert "espeak_emo" in resolve.list_confs(REPO / "conf", "corpus")


def test_corpus_name_must_match_its_file(conf_dir):
    edit_yaml(conf_dir / "corpus" / "espeak_emo.yaml", {"name": "other"})
    with pytest.raises(ConfigError, match=r"espeak_emo\.yaml: key 'name': name 'other' differs"):
        resolve.load_corpus_conf(conf_dir, "espeak_emo")


def test_listed_vocoder_without_conf_names_the_file(conf_dir):
    edit_yaml(conf_dir / "corpus" / "espeak_emo.yaml", {"vocoders": ["griffin_lim", "nope"]})
    with pytest.raises(ConfigError, match=r"vocoder/nope\.yaml: config file not found"):
        resolve.resolve_experiment(conf_dir, "espeak_emo", "gst")

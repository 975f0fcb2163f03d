"""The config slices the Snakefile passes to rules: each holds what its stage reads, no more."""

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytorch_backend.dag import Dag, alternation
from pytorch_backend.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def dag(tmp_path):
    shutil.copytree(REPO / "conf", tmp_path / "conf")
    return Dag(tmp_path / "conf")


def wc(**kw):
    return SimpleNamespace(**kw)


def test_lists_corpora_and_models(dag):
    assert "espeak_emo" in dag.corpora
    assert {"gst", "tacotron2"} <= set(dag.models)
    assert dag.corpora_of_recipe("espeak_emo") == ["espeak_emo"]


def test_alternation_prefers_longest_and_matches_nothing_when_empty():
    import re

    pattern = re.compile(f"^(?:{alternation(['gst', 'gst_big'])})_x$")
    assert pattern.match("gst_big_x") and pattern.match("gst_x")
    assert re.fullmatch(alternation([]), "") is None


def test_train_slice_excludes_decode_and_decode_slice_excludes_train(dag):
    w = wc(corpus="espeak_emo", model="gst")
    train = json.loads(dag.train_slice(w))
    decode = json.loads(dag.decode_slice(w))
    assert "decode" not in train["tts"] and "train" in train["tts"]
    assert "train" not in decode["tts"] and "decode" in decode["tts"]
    assert train["emotions"] == decode["emotions"]
    assert train["feats"]["n_mels"] == 80


def test_paths_follow_the_corpus_conf(dag):
    w = wc(corpus="espeak_emo", model="gst", name="floor")
    assert dag.dump_dir(w) == "dump/espeak_emo/mel80"
    assert dag.token_dir(w) == "data/espeak_emo/tokens/phn"
    assert dag.vocoder_input(w) == "dump/espeak_emo/mel80/eval/feats.scp"
    assert dag.eval_split(w) == "eval"
    w.name = "eval"
    assert dag.vocoder_input(w) == "exp/espeak_emo_gst/decode/eval/feats.scp"
    assert dag.summary_inputs(w) == ["exp/espeak_emo_gst/eval/griffin_lim/eval/metrics.json",
                                     "exp/espeak_emo_gst/eval/griffin_lim/floor/metrics.json"]


def test_unlisted_vocoder_is_a_config_error(dag):
    with pytest.raises(ConfigError, match="vocoder 'hifigan' is not listed"):
        dag.vocoder_slice(wc(corpus="espeak_emo", model="gst", vocoder="hifigan"))


def test_reserved_model_name_is_refused(tmp_path):
    shutil.copytree(REPO / "conf", tmp_path / "conf")
    shutil.copy(tmp_path / "conf/tts/gst.yaml", tmp_path / "conf/tts/ser.yaml")
    with pytest.raises(ConfigError, match="reserved"):
        Dag(tmp_path / "conf")


def test_generated_corpus_root_is_fixed(dag, tmp_path):
    path = tmp_path / "conf/corpus/espeak_emo.yaml"
    path.write_text(path.read_text().replace("root: downloads/espeak_emo", "root: /elsewhere"))
    with pytest.raises(ConfigError, match="key 'root'"):
        Dag(tmp_path / "conf").generated_corpus_conf(wc(corpus="espeak_emo"))

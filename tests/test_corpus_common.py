"""The shared half of the real-corpus preparations: conf checks, ids, splits, encodings, errors."""

import json
import subprocess
import sys

import pytest

from local.common.kaldi_ids import kaldi_id, keep_corpus_names
from local.common.prepare import check_conf
from local.common.splits import holdout
from local.common.text import read_text_lines
from pytorch_backend.errors import ConfigError, DataError
from tests.corpus_fixtures.check import REPO, run


def test_kaldi_ids_keep_corpus_names_only_when_sorting_stays_by_speaker():
    assert keep_corpus_names([("0011", "0011_000001"), ("0012", "0012_000002")])
    assert not keep_corpus_names([("A2", "A2_0"), ("A22", "A22_0")])  # A2 is a prefix of A22
    assert not keep_corpus_names([("bdl", "arctic_a0001")])
    assert kaldi_id("bdl", "arctic_a0001", False) == "bdl-arctic_a0001"


def test_holdout_is_stratified_seeded_and_keeps_a_train_utterance():
    items = [(f"s1_{i}", "s1", "happy" if i % 2 else "sad") for i in range(10)] + [("s2_0", "s2", "sad")]
    a, b = holdout(items, dev=2, eval_=2, seed=3), holdout(items, dev=2, eval_=2, seed=3)
    assert a == b
    ev = [k for k, s in a.items() if s == "eval"]
    assert len(ev) == 2 and {k for k in ev} <= {k for k, *_ in items if k.startswith("s1")}
    assert {dict((k, lab) for k, _, lab in items)[k] for k in ev} == {"happy", "sad"}
    assert a["s2_0"] == "train"
    assert holdout(items, 2, 2, seed=4) != a


@pytest.mark.parametrize("prep,key", [({"splitt": {}}, "prep.splitt"), ({"split": {"dev": -1}}, "prep.split.dev"),
                                      ({"split": {"mode": "random"}}, "prep.split.mode"),
                                      ({"split": {"test": 3}}, "prep.split.test")])
def test_bad_prep_options_name_the_key(prep, key):
    with pytest.raises(ConfigError, match=f"conf/corpus/ljspeech.yaml: key '{key}'"):
        check_conf({"name": "ljspeech", "prep": prep}, {"split": {"mode": "holdout", "dev": 1, "eval": 1, "seed": 1}})


def test_label_map_target_must_be_an_emotion():
    with pytest.raises(ConfigError, match="key 'label_map.exc'.*'excited'"):
        check_conf({"name": "iemocap", "emotions": ["neutral", "happy"], "label_map": {"exc": "excited"}}, {})


def test_empty_split_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no utterance left for split 'dev'"):
        run("ljspeech", tmp_path, prep={"split": {"dev": 0, "eval": 1}})


def test_encoding_detection(tmp_path):
    for name, data, enc in [("a", "tést\n".encode("utf-8"), "utf-8"), ("b", "tést\n".encode("utf-16"), "utf-16"),
                            ("c", "中立\n".encode("gb2312"), "gb18030"), ("d", b"\xe9t\xe9\n", "latin-1")]:
        (tmp_path / name).write_bytes(data)
        assert read_text_lines(tmp_path / name)[1] == enc
    with pytest.raises(DataError, match="file not found"):
        read_text_lines(tmp_path / "missing")


def test_cli_prints_one_error_line(tmp_path):
    conf = {"name": "ljspeech", "recipe": "ljspeech", "fs": 22050, "emotions": ["neutral"], "prep": {}}
    proc = subprocess.run([sys.executable, "-m", "local.ljspeech.prepare", "--conf", json.dumps(conf), "--root",
                           str(tmp_path / "nowhere"), "--data-dir", str(tmp_path / "data")],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 1
    assert f"ERROR: {tmp_path / 'nowhere'}: corpus directory not found (set root in conf/corpus/ljspeech.yaml)" \
        in proc.stderr


def test_prep_slice_leaves_out_what_prep_does_not_read(tmp_path):
    from types import SimpleNamespace

    from pytorch_backend.dag import Dag

    dag = Dag(REPO / "conf")
    prep = json.loads(dag.prep_slice(SimpleNamespace(corpus="ljspeech")))
    assert "token_type" not in prep and "vocoders" not in prep and "download" not in prep["prep"]
    assert prep["root"] == "downloads/ljspeech" and prep["fs"] == 22050
    down = json.loads(dag.download_slice(SimpleNamespace(corpus="ljspeech"), ("metadata.csv",)))
    assert down["download"][0]["sha256"].startswith("be1a3045") and down["layout"] == ["metadata.csv"]

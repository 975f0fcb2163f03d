"""The shared half of the real-corpus preparations: conf checks, ids, splits, encodings, errors."""

import json
import sys

import pytest

from local.common.kaldi_ids import kaldi_id, keep_corpus_names
from local.common.prepare import check_conf
from local.common.splits import holdout
from local.common.text import read_text_lines
from pytorch_backend.errors import ConfigError, DataError
from tests.corpus_fixtures.check import REPO, run
from tests.process_group import run as run_in_group


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
    proc = run_in_group([sys.executable, "-m", "local.prepare", "--recipe", "ljspeech", "--conf", json.dumps(conf),
                           "--root", str(tmp_path / "nowhere"), "--data-dir", str(tmp_path / "data")],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 1
    assert f"ERROR: {tmp_path / 'nowhere'}: corpus directory not found (set root in conf/corpus/ljspeech.yaml)" \
        in proc.stderr


def test_prep_slice_leaves_out_what_prep_does_not_read(tmp_path):
    from types import SimpleNamespace

    from pipeline.lookup import ConfLookup
    from pipeline.slices import RuleSlices

    slices = RuleSlices(ConfLookup(REPO / "conf"))
    prep = json.loads(slices.prep(SimpleNamespace(corpus="ljspeech")))
    assert "token_type" not in prep and "vocoders" not in prep and "download" not in prep["prep"]
    assert prep["root"] == "downloads/ljspeech" and prep["fs"] == 22050
    down = json.loads(slices.download(SimpleNamespace(corpus="ljspeech"), ("metadata.csv",)))
    assert down["download"][0]["sha256"].startswith("be1a3045") and down["layout"] == ["metadata.csv"]


def test_scp_paths_link_the_deepest_folder_with_whitespace(tmp_path):
    import os

    from local.common.paths import ScpPaths

    plain = tmp_path / "corpus" / "a.wav"
    spaced = tmp_path / "My Corpus" / "Emotion Speech Dataset" / "0011" / "Angry" / "0011_000351.wav"
    named = tmp_path / "corpus" / "take 2.wav"
    for path in (plain, spaced, named):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF")
    paths = ScpPaths(tmp_path / "data" / "esd")
    assert paths(plain, "u1") == str(plain)
    got = paths(spaced, "0011_000351")
    link = tmp_path / "data" / "esd" / "links"
    assert got.startswith(str(link / "Emotion_Speech_Dataset-")) and got.endswith("/0011/Angry/0011_000351.wav")
    assert os.readlink(os.path.dirname(os.path.dirname(os.path.dirname(got)))) == str(spaced.parents[2])
    assert open(got, "rb").read() == b"RIFF"
    file_link = paths(named, "spk_7")
    assert file_link.startswith(str(link / "spk_7-")) and file_link.endswith(".wav")
    assert os.path.realpath(file_link) == str(named)
    assert not any(c.isspace() for c in got + file_link)
    assert ScpPaths(tmp_path / "data" / "esd")(spaced, "0011_000351") == got  # stable across runs
    with pytest.raises(DataError, match="my data/esd: the data dir's absolute path has whitespace"):
        ScpPaths(tmp_path / "my data" / "esd")(spaced, "0011_000351")


def test_corpus_with_alternative_layouts(tmp_path):
    from local.common.source import CorpusMissing, Source, corpus_input, held_layout

    source = Source("Demo", "get it at example.org.", "free", True, layout=("a/*.txt",),
                    alternatives=(("b/list.tsv", "b/wav/*.wav"),))
    conf = {"name": "demo", "root": str(tmp_path)}
    with pytest.raises(CorpusMissing, match=r"^ERROR: x.yaml: key 'root': Demo corpus not found: .* does not hold "
                                            r"a/\*.txt nor b/list.tsv\. .* holds one of: a/\*.txt; b/list.tsv \+ b/wav/\*.wav\.$"):
        corpus_input(source, conf, "x.yaml")
    (tmp_path / "b" / "wav").mkdir(parents=True)
    (tmp_path / "b" / "list.tsv").write_text("x\n")
    with pytest.raises(CorpusMissing, match="nor b/wav/\\*.wav"):
        corpus_input(source, conf, "x.yaml")
    (tmp_path / "b" / "wav" / "x.wav").write_bytes(b"")
    assert held_layout(tmp_path, source) == ("b/list.tsv", "b/wav/*.wav")
    assert corpus_input(source, conf, "x.yaml") == []

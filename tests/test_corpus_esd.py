"""ESD recipe: per-speaker transcript encodings, broken lines, emotion folders, official split."""

import pytest

from local.common.text import read_text_lines
from pytorch_backend.errors import DataError
from tests.corpus_fixtures import make
from tests.corpus_fixtures.check import check_prepared, run


def test_prepare(tmp_path):
    summary, _, expected, got = check_prepared("esd", tmp_path)
    assert got["0001_000001"]["text"] == "打远一看，它们的确很是美丽，"  # GB2312 decoded, kept as written
    assert got["0012_001401"]["emotion"] == "surprise"
    assert summary["splits"]["dev"]["emotions"] == {"angry": 1, "neutral": 1, "surprise": 1}


def test_transcript_encodings_are_detected(tmp_path):
    expected = make("esd", tmp_path)
    assert read_text_lines(expected.root / "0012" / "0012.txt")[1] == "utf-16"
    assert read_text_lines(expected.root / "0001" / "0001.txt")[1] == "gb18030"
    assert read_text_lines(expected.root / "0011" / "0011.txt")[1] == "utf-8"


def test_wrong_forced_encoding_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(DataError, match=r"0012\.txt: cannot decode as utf-8"):
        run("esd", tmp_path, prep={"encodings": {"0012": "utf-8"}})


def test_mandarin_conf_uses_the_same_recipe(tmp_path):
    from local.common.prepare import prepare_corpus
    from local.esd import corpus
    from tests.corpus_fixtures.check import corpus_conf, read_dirs

    expected = make("esd", tmp_path / "corpus")
    conf = corpus_conf("esd_zh", expected, prep={"speakers": ["0001"]})
    assert conf["recipe"] == "esd" and conf["language"] == "zh"
    prepare_corpus(conf, expected.root, tmp_path / "data", corpus.collect, corpus.PREP, progress=False)
    got = read_dirs(tmp_path / "data")
    assert sorted(got) == ["0001_000001", "0001_000351", "0001_000701"]
    assert got["0001_000351"]["text"] == "你在干什么？" and got["0001_000351"]["emotion"] == "angry"

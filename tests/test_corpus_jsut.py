"""JSUT recipe: ID:text transcripts, 48 kHz audio resampled, subset selection, no phonemes."""

import pytest

from pytorch_backend.errors import ConfigError
from tests.corpus_fixtures.check import check_prepared, run


def test_prepare_resamples(tmp_path):
    summary, data_dir, _, got = check_prepared("jsut", tmp_path)
    assert summary["converted_audio"] == 5
    assert got["jsut-BASIC5000_0001"]["wav"] == str((data_dir / "wav" / "jsut-BASIC5000_0001.wav").resolve())
    assert abs(got["jsut-BASIC5000_0001"]["dur"] - 0.3) < 0.01


def test_subsets(tmp_path):
    summary, _, _, _ = run("jsut", tmp_path, prep={"subsets": ["basic5000"]})
    assert sum(s["utterances"] for s in summary["splits"].values()) == 3
    with pytest.raises(ConfigError, match="prep.subsets"):
        run("jsut", tmp_path / "x", prep={"subsets": ["basic500"]})


def test_phonemes_are_refused_for_japanese(tmp_path):
    with pytest.raises(ConfigError, match="token_type.*kanji"):
        run("jsut", tmp_path, token_type="phn")


def test_second_run_reuses_converted_audio(tmp_path):
    from local.common.prepare import prepare_corpus
    from local.jsut import corpus
    from tests.corpus_fixtures.check import corpus_conf
    from tests.corpus_fixtures import make

    expected = make("jsut", tmp_path / "corpus")
    conf = corpus_conf("jsut", expected)
    first = prepare_corpus(conf, expected.root, tmp_path / "data", corpus.collect, corpus.PREP, progress=False)
    second = prepare_corpus(conf, expected.root, tmp_path / "data", corpus.collect, corpus.PREP, progress=False)
    assert (first["converted_audio"], second["converted_audio"], second["reused_audio"]) == (5, 0, 5)
    assert second["splits"] == first["splits"]


def test_char_tokens_of_the_prepared_text(tmp_path):
    from pytorch_backend.text.build import make_tokens, read_text_tokens

    _, data_dir, _, _ = run("jsut", tmp_path)
    make_tokens(data_dir, tmp_path / "tokens", "char", language="ja", progress=False)
    tokens = {utt: toks for s in ("train", "dev", "eval")
              for utt, toks in read_text_tokens(tmp_path / "tokens" / s / "text_tokens").items()}
    assert tokens["jsut-BASIC5000_0001"][:3] == ["水", "を", "マ"] and tokens["jsut-BASIC5000_0001"][-1] == "."

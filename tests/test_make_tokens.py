"""End-to-end tests of steps/make_tokens.py on a tiny corpus (text files only)."""

import json
import sys
from pathlib import Path

import pytest

from pytorch_backend.errors import DataError
from pytorch_backend.text import TokenList, build_tokenizer
from pytorch_backend.text.build import make_tokens, read_text_tokens
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent

SPLITS = {
    "train": {"spk1_001": "Hello, world!", "spk1_002": "The cat sat on 2 mats.",
              "spk2_001": "Where is Dr. Smith?", "spk2_002": "Cats and dogs, together."},
    "dev": {"spk1_003": "Hello cat!"},
    "eval": {"spk2_003": "Zebra jazz quiz?"},  # z, j, q never occur in train
}


def make_corpus(root: Path, splits=SPLITS) -> Path:
    for split, texts in splits.items():
        (root / split).mkdir(parents=True)
        lines = [f"{utt} {texts[utt]}\n" for utt in sorted(texts, key=str.encode)]
        (root / split / "text").write_text("".join(lines), encoding="utf-8")
    return root


def run_step(conf: dict, data_root: Path, out: Path, *extra, cwd=None):
    cmd = [sys.executable, str(REPO / "steps" / "make_tokens.py"), "--conf", json.dumps(conf),
           "--data-root", str(data_root), "--out", str(out), *extra]
    return run_in_group(cmd, capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("token_type", ["char", "phn", "bpe"])
def test_make_tokens_cli(tmp_path, token_type):
    data = make_corpus(tmp_path / "data")
    out = tmp_path / "tokens" / token_type
    log = tmp_path / "log" / "tokens.log"
    conf = {"token_type": token_type, "bpe_vocab_size": 40, "language": "en"}
    res = run_step(conf, data, out, "--log", str(log), cwd=tmp_path)
    assert res.returncode == 0, res.stderr

    tl = TokenList.load(out / "token_list")
    assert tl.tokens[:2] == ["<pad>", "<unk>"] and tl.tokens[-1] == "<eos>"
    middle = tl.tokens[2:-1]
    assert middle == sorted(middle, key=str.encode)

    train = read_text_tokens(out / "train" / "text_tokens")
    assert list(train) == ["spk1_001", "spk1_002", "spk2_001", "spk2_002"]
    train_tokens = {t for toks in train.values() for t in toks}
    if token_type == "bpe":
        assert (out / "bpe.model").is_file()
        assert train_tokens <= set(tl.tokens)
    else:
        assert not (out / "bpe.model").exists()
        assert train_tokens == set(middle)  # the list is exactly what train uses

    dev = read_text_tokens(out / "dev" / "text_tokens")
    evl = read_text_tokens(out / "eval" / "text_tokens")
    assert list(dev) == ["spk1_003"] and list(evl) == ["spk2_003"]

    tokenizer = build_tokenizer(token_type, "en", out)
    assert train["spk1_001"] == tokenizer.tokenize("Hello, world!")
    if token_type == "char":
        assert train["spk1_001"] == list("hello,") + ["<space>"] + list("world!")
        assert "z" not in tl and tl.count_unknown(evl["spk2_003"]) == 8  # z x4, b, j, q, u
        assert tl.encode(evl["spk2_003"]).count(tl.unk_id) == tl.count_unknown(evl["spk2_003"])
    if token_type == "phn":
        assert train["spk1_001"] == ["h", "ə", "l", "ˈ", "oʊ", ",", "<space>", "w", "ˈ", "ɜː", "l", "d", "!"]
        assert {"ˈ", ",", "!", "?", ".", "<space>"} <= set(tl.tokens)
    text = log.read_text()
    assert "unseen in train" in text and "token list:" in text


def test_make_tokens_unseen_counts(tmp_path):
    data = make_corpus(tmp_path / "data")
    summary = make_tokens(data, tmp_path / "out", "char", progress=False)
    assert summary["splits"]["dev"]["unknown_tokens"] == 0
    # "zebra jazz quiz?": z x4, b, j, q, u never occur in train
    assert summary["splits"]["eval"]["unknown_tokens"] == 8
    assert summary["splits"]["eval"]["unknown_types"] == 5


def test_make_tokens_only_some_splits(tmp_path):
    data = make_corpus(tmp_path / "data")
    res = run_step({"token_type": "char"}, data, tmp_path / "out", "--splits", "train", "dev")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out" / "dev" / "text_tokens").is_file()
    assert not (tmp_path / "out" / "eval").exists()


def test_empty_text_after_cleaning_names_file_and_line(tmp_path):
    splits = {"train": {"spk1_001": "Hello.", "spk1_002": "#### ***", "spk1_003": "Bye."}}
    data = make_corpus(tmp_path / "data", splits)
    out = tmp_path / "out"
    res = run_step({"token_type": "char"}, data, out, "--splits", "train")
    assert res.returncode == 1
    assert f"{data / 'train' / 'text'}:2 (utterance spk1_002)" in res.stderr
    assert "empty after cleaning" in res.stderr
    assert not (out / "token_list").exists()  # nothing written on failure


def test_failure_keeps_earlier_outputs(tmp_path):
    data = make_corpus(tmp_path / "data")
    out = tmp_path / "out"
    make_tokens(data, out, "char", progress=False)
    before = (out / "token_list").read_bytes()
    (data / "dev" / "text").write_text("spk1_003 ???\nspk1_004\n")
    with pytest.raises(DataError, match=r"dev/text:2"):
        make_tokens(data, out, "char", progress=False)
    assert (out / "token_list").read_bytes() == before


def test_bad_conf(tmp_path):
    data = make_corpus(tmp_path / "data")
    res = run_step({"token_type": "words"}, data, tmp_path / "out")
    assert res.returncode == 1 and "token_type" in res.stderr
    res = run_step({"token_type": "char", "vocab": 3}, data, tmp_path / "out")
    assert res.returncode == 1 and "'vocab'" in res.stderr

"""THCHS-30 recipe: .wav.trn first lines, official split folders, speaker ids that are prefixes."""

from tests.corpus_fixtures.check import check_prepared, read_dirs, run


def test_prepare_official_split(tmp_path):
    _, _, _, got = check_prepared("thchs30", tmp_path)
    # A2 is a prefix of A22: every id gets the "<speaker>-" form so that sorting stays by speaker
    assert got["A2-A2_0"]["speaker"] == "A2" and got["A22-A22_0"]["speaker"] == "A22"
    assert got["A2-A2_0"]["text"] == "绿 是 阳春 烟 景 大块 文章 的 底色"


def test_default_holdout_keeps_speakers_in_train(tmp_path):
    summary, data_dir, _, _ = run("thchs30", tmp_path, prep={"split": {"mode": "holdout", "dev": 1, "eval": 1}})
    got = read_dirs(data_dir)
    assert set(summary["splits"]["train"]["speakers"]) == {"A2", "A22", "D4"}
    assert {row["speaker"] for row in got.values() if row["split"] == "eval"} <= {"A2", "A22", "D4"}


def test_char_tokens_have_no_word_segmentation_spaces(tmp_path):
    from pytorch_backend.text.build import make_tokens, read_text_tokens

    _, data_dir, _, _ = run("thchs30", tmp_path)
    make_tokens(data_dir, tmp_path / "tokens", "char", language="zh", progress=False)
    tokens = read_text_tokens(tmp_path / "tokens" / "train" / "text_tokens")
    assert tokens["A2-A2_0"] == list("绿是阳春烟景大块文章的底色")

"""KSS recipe: six-field transcript, wavs under kss/, expanded or original text, 44.1 kHz resampled."""

from tests.corpus_fixtures.check import check_prepared, read_dirs, run


def test_prepare_expanded_text(tmp_path):
    summary, _, _, got = check_prepared("kss", tmp_path)
    assert got["kss-1_0002"]["text"] == "용돈을 세 번 아껴 써라."
    assert summary["converted_audio"] == 4


def test_original_text(tmp_path):
    _, data_dir, _, _ = run("kss", tmp_path, prep={"text_field": "original"})
    assert read_dirs(data_dir)["kss-1_0002"]["text"] == "용돈을 3번 아껴 써라."


def test_jamo_bpe_tokens_of_the_prepared_text(tmp_path):
    from pytorch_backend.text.build import make_tokens, read_text_tokens

    _, data_dir, _, _ = run("kss", tmp_path)
    summary = make_tokens(data_dir, tmp_path / "tokens", "bpe", language="ko-Jamo", bpe_vocab_size=60,
                          progress=False)
    assert summary["token_list_size"] > 10
    train = read_text_tokens(tmp_path / "tokens" / "train" / "text_tokens")
    pieces = "".join(p for toks in train.values() for p in toks)
    assert any(0x1100 <= ord(ch) <= 0x11FF for ch in pieces)  # jamo, not syllables

"""Japanese, Korean and Mandarin normalization and tokens (char, bpe; phn where eSpeak NG covers)."""

import unicodedata

import pytest

from pytorch_backend.text import build_tokenizer
from pytorch_backend.text.cleaners import clean_text
from pytorch_backend.text.phonemes import espeak_voice
from pytorch_backend.text.tokenizers import train_bpe


def test_japanese_width_and_punctuation():
    text = "水をマレーシアから買わなくてはならないのです。「ＡＢＣ」１２３ｶﾀｶﾅ、テスト！"
    assert clean_text(text, "ja") == "水をマレーシアから買わなくてはならないのです. abc 123カタカナ, テスト!"


def test_mandarin_drops_segmentation_spaces_and_maps_punctuation():
    text = "绿 是 阳春 烟 景 ，四月 的 林 峦 更是 绿 得 鲜活。“好” 吗？"
    assert clean_text(text, "zh") == "绿是阳春烟景, 四月的林峦更是绿得鲜活. 好吗?"
    assert clean_text("打远一看，它们的确很是美丽，", "cmn") == "打远一看, 它们的确很是美丽,"


def test_korean_syllables_or_jamo():
    text = "그는 괜찮은 척하려고 애쓰는 것 같았다."
    assert clean_text(text, "ko") == text
    jamo = clean_text("그는", "ko-Jamo")
    assert len(jamo) == 5 and all(0x1100 <= ord(ch) <= 0x11FF for ch in jamo)
    assert unicodedata.normalize("NFC", jamo) == "그는"
    # decomposed input (KSS's 4th field) comes back as syllables
    assert clean_text(unicodedata.normalize("NFD", text), "ko") == text


def test_char_tokens():
    tok = build_tokenizer("char", "ko")
    assert tok.tokenize("그는 괜찮은") == ["그", "는", "<space>", "괜", "찮", "은"]
    assert build_tokenizer("char", "zh").tokenize("你好 世界。") == ["你", "好", "世", "界", "."]
    assert build_tokenizer("char", "ko-Jamo").tokenize("그")[0] == "\u1100"


def test_bpe_on_japanese(tmp_path):
    texts = [clean_text(t, "ja") for t in ["水をマレーシアから買わなくてはならないのです。",
                                            "木曜日、停戦会談は、何の進展もないまま終了しました。"] * 5]
    train_bpe(texts, tmp_path / "bpe.model", 40)
    tok = build_tokenizer("bpe", "ja", tmp_path)
    pieces = tok.tokenize("水をマレーシアから")
    assert "".join(pieces).replace("▁", "") == "水をマレーシアから"


def test_phoneme_voices():
    assert espeak_voice("zh") == "cmn" and espeak_voice("ko-Jamo") == "ko" and espeak_voice("en") == "en-us"
    with pytest.raises(ValueError, match="kanji"):
        espeak_voice("ja")


def test_phonemes_for_korean_and_mandarin():
    ko = build_tokenizer("phn", "ko").tokenize("그는 괜찮은 척했다.")
    zh = build_tokenizer("phn", "zh").tokenize("你好，世界。")
    assert "<space>" in ko and ko[-1] == "."
    assert zh[-1] == "." and "," in zh and any(t[0] in "nx" for t in zh)

"""Tests of the text frontend: cleaners, number words, tokenizers, token list."""

import pytest

from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.text import TOKENIZERS, TokenList, build_tokenizer, clean_text, load_frontend
from pytorch_backend.text import numbers
from pytorch_backend.text.phonemes import SPACE, ipa_to_tokens, split_ipa_word, text_to_phoneme_tokens
from pytorch_backend.text.tokenizers import train_bpe


# ---------------------------------------------------------------- numbers and cleaners

@pytest.mark.parametrize("n, words", [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (40, "forty"), (21, "twenty one"),
    (105, "one hundred five"), (1000, "one thousand"), (1234, "one thousand two hundred thirty four"),
    (2000000, "two million"), (1000001, "one million one"), (-5, "minus five"),
])
def test_cardinal(n, words):
    assert numbers.cardinal(n) == words


@pytest.mark.parametrize("n, words", [
    (1, "first"), (2, "second"), (3, "third"), (5, "fifth"), (8, "eighth"), (9, "ninth"),
    (12, "twelfth"), (20, "twentieth"), (21, "twenty first"), (100, "one hundredth"),
])
def test_ordinal(n, words):
    assert numbers.ordinal(n) == words


@pytest.mark.parametrize("n, words", [
    (1999, "nineteen ninety nine"), (2000, "two thousand"), (2005, "two thousand five"),
    (2019, "twenty nineteen"), (1900, "nineteen hundred"), (1905, "nineteen oh five"),
])
def test_year(n, words):
    assert numbers.year(n) == words


@pytest.mark.parametrize("raw, cleaned", [
    # case and whitespace
    ("  Hello   WORLD  ", "hello world"),
    # numbers: integers, decimals, ordinals, years, currency, percentages, times, grouping
    ("I have 2 cats and 105 dogs.", "i have two cats and one hundred five dogs."),
    ("Pi is 3.14.", "pi is three point one four."),
    ("On the 1st and the 22nd.", "on the first and the twenty second."),
    ("Born in 1999, not 2005.", "born in nineteen ninety nine, not two thousand five."),
    ("It costs $3.50!", "it costs three dollars fifty cents!"),
    ("$1 or $0.01 or £2.50", "one dollar or one cent or two pounds fifty pence"),
    ("A $3.5 million deal", "a three point five million dollars deal"),
    ("Up 50% or 3.5 %.", "up fifty percent or three point five percent."),
    ("Meet at 3:05 or 10:00.", "meet at three oh five or ten o'clock."),
    ("About 1,999 people.", "about one thousand nine hundred ninety nine people."),
    ("It was -5 degrees.", "it was minus five degrees."),
    ("From 1990–1999.", "from nineteen ninety to nineteen ninety nine."),
    ("Agent 007", "agent zero zero seven"),
    # abbreviations
    ("Dr. Smith met Mr Brown and Mrs. Green.", "doctor smith met mister brown and misses green."),
    ("St. James vs. the rest", "saint james versus the rest"),
    ("Apples, pears, etc.", "apples, pears, et cetera."),
    ("Fruit, e.g. apples; i.e. food", "fruit, for example apples; that is food"),
    ("Room No. 5", "room number five"),
    # punctuation
    ("He said “hello” — then left...", "he said hello, then left."),
    ("Really?! Yes (maybe).", "really? yes, maybe."),
    ("Don't ‘quote’ the students' well-known work & play #1",
     "don't quote the students well known work and play one"),
    ("Hello ,world :  again", "hello, world: again"),
])
def test_english_cleaners(raw, cleaned):
    assert clean_text(raw, "en") == cleaned


def test_other_language_cleaner_is_nfkc_and_whitespace():
    assert clean_text("  Straße\tﬁne ２ Äpfel ", "de") == "Straße fine 2 Äpfel"
    assert clean_text("Ça va, 3 fois?", "fr") == "Ça va, 3 fois?"


def test_cleaner_is_idempotent():
    once = clean_text("Dr. Smith paid $3.50 for 2 apples on Jan 1st, 1999!")
    assert once == ("doctor smith paid three dollars fifty cents for two apples on jan first, "
                    "nineteen ninety nine!")
    assert clean_text(once) == once


# ---------------------------------------------------------------- tokenizers

def test_registry_names():
    assert set(TOKENIZERS) == {"char", "phn", "bpe"}
    with pytest.raises(ConfigError, match=r"conf/corpus/x\.yaml: key 'token_type': unknown token_type 'words' "
                                          r"\(known: bpe, char, phn\)"):
        build_tokenizer("words", source="conf/corpus/x.yaml")
    with pytest.raises(ConfigError) as err:
        load_frontend("nowhere", "words")
    assert err.value.key == "token_type"


def test_char_tokenizer_round_trip():
    tok = build_tokenizer("char")
    tokens = tok.tokenize("Hi, Bob!")
    assert tokens == ["h", "i", ",", SPACE, "b", "o", "b", "!"]
    assert tok.detokenize(tokens) == "hi, bob!"


def test_split_ipa_word_design():
    # stress marks are separate tokens; length marks, diacritics stay attached;
    # diphthongs and affricates are one token; a tie bar joins.
    assert split_ipa_word("həlˈoʊ") == ["h", "ə", "l", "ˈ", "oʊ"]
    assert split_ipa_word("wˈɜːld") == ["w", "ˈ", "ɜː", "l", "d"]
    assert split_ipa_word("tʃˈɜːtʃ") == ["tʃ", "ˈ", "ɜː", "tʃ"]
    assert split_ipa_word("bˈʌʔn̩") == ["b", "ˈ", "ʌ", "ʔ", "n̩"]
    assert split_ipa_word("kʰˌæt͡s") == ["kʰ", "ˌ", "æ", "t͡s"]
    assert ipa_to_tokens("ðə (fr)kˈæt(en)") == ["ð", "ə", SPACE, "k", "ˈ", "æ", "t"]


def test_phoneme_tokens_keep_punctuation_and_spaces_in_place():
    fake = {"hello": "həlˈoʊ", "big world": "bˈɪɡ wˈɜːld", "yes": "jˈɛs"}
    tokens = text_to_phoneme_tokens("hello, big world! yes?", phonemize=lambda t, v: fake[t])
    assert tokens == ["h", "ə", "l", "ˈ", "oʊ", ",", SPACE, "b", "ˈ", "ɪ", "ɡ", SPACE,
                      "w", "ˈ", "ɜː", "l", "d", "!", SPACE, "j", "ˈ", "ɛ", "s", "?"]
    # ; and : become commas; a decimal point inside a clause is not a break
    calls = []
    text_to_phoneme_tokens("a; b: 3.5", phonemize=lambda t, v: calls.append(t) or "ə")
    assert calls == ["a", "b", "3.5"]


def test_phn_tokenizer_with_espeak():
    tok = build_tokenizer("phn", "en")
    tokens = tok.tokenize("Hello, world! How are you?")
    assert tokens == ["h", "ə", "l", "ˈ", "oʊ", ",", SPACE, "w", "ˈ", "ɜː", "l", "d", "!", SPACE,
                      "h", "ˈ", "aʊ", SPACE, "ɑː", "ɹ", SPACE, "j", "uː", "?"]
    assert tok.detokenize(tokens) == "həlˈoʊ, wˈɜːld! hˈaʊ ɑːɹ juː?"
    # numbers and abbreviations are cleaned before phonemizing
    assert tok.tokenize("Dr. 2") == tok.tokenize("doctor two")


def test_phn_speed_1000_sentences():
    import time

    tok = build_tokenizer("phn", "en")
    sentences = [f"Sentence number {i}, said the quick brown fox. Really?" for i in range(1000)]
    start = time.perf_counter()
    total = sum(len(tok.tokenize(s)) for s in sentences)
    elapsed = time.perf_counter() - start
    assert total > 30000
    assert elapsed < 20.0, f"phonemizing 1000 sentences took {elapsed:.1f} s"


CORPUS = [
    "the cat sat on the mat.", "the dog sat on the log.", "a cat and a dog, together!",
    "where is the cat? on the mat.", "the log is on the dog.", "cats and dogs sat together.",
]


def test_bpe_train_is_deterministic_and_round_trips(tmp_path):
    size_a = train_bpe(CORPUS, tmp_path / "a" / "bpe.model", 60)
    size_b = train_bpe(CORPUS, tmp_path / "b" / "bpe.model", 60)
    assert size_a == size_b == 60
    assert (tmp_path / "a" / "bpe.model").read_bytes() == (tmp_path / "b" / "bpe.model").read_bytes()
    tok = build_tokenizer("bpe", "en", tmp_path / "a")
    tokens = tok.tokenize("The cat sat on the log!")
    assert tokens[0].startswith("▁")
    assert 1 < len(tokens) < len("the cat sat on the log!")
    assert tok.detokenize(tokens) == "the cat sat on the log!"
    assert "<unk>" not in tok.vocabulary() and len(tok.vocabulary()) == 59


def test_bpe_vocab_too_large_is_lowered(tmp_path, caplog):
    with caplog.at_level("WARNING"):
        size = train_bpe(CORPUS, tmp_path / "bpe.model", 5000)
    assert 20 < size < 5000
    assert "allows only" in caplog.text


def test_bpe_needs_a_model(tmp_path):
    with pytest.raises(DataError, match="bpe.model"):
        build_tokenizer("bpe", "en", tmp_path)


# ---------------------------------------------------------------- token list

def test_token_list_convention(tmp_path):
    tl = TokenList.build(["b", "a", "<space>", "B", "a", "<unk>"])
    assert tl.tokens == ["<pad>", "<unk>", "<space>", "B", "a", "b", "<eos>"]
    assert (tl.pad_id, tl.unk_id, tl.eos_id, len(tl)) == (0, 1, 6, 7)
    assert tl.encode(["a", "zz", "<space>", "b"]) == [4, 1, 2, 5]
    assert tl.encode(["a"], add_eos=True) == [4, 6]
    assert tl.decode([4, 1, 2]) == ["a", "<unk>", "<space>"]
    tl.save(tmp_path / "token_list")
    assert (tmp_path / "token_list").read_text().splitlines()[0] == "<pad>"
    assert TokenList.load(tmp_path / "token_list").tokens == tl.tokens


def test_token_list_bad_file(tmp_path):
    path = tmp_path / "token_list"
    path.write_text("<pad>\n<unk>\na\nb\na\n<eos>\n")
    with pytest.raises(DataError, match=r"token_list:5: duplicate token 'a' \(also on line 3\)"):
        TokenList.load(path)
    path.write_text("a\nb\n")
    with pytest.raises(DataError, match="token_list"):
        TokenList.load(path)


def test_load_frontend(tmp_path):
    TokenList.build(["h", "i", SPACE]).save(tmp_path / "token_list")
    fe = load_frontend(tmp_path, "char", "en")
    assert fe.encode("Hi hi!", add_eos=True) == [3, 4, 2, 3, 4, 1, 5]

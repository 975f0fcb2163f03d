"""Synthesis input text: inline emotion tags, sentence splitting and pauses, the text-file format,
and the text emotion classifier (NumPy inference equals scikit-learn's)."""

import json

import numpy as np
import pytest

from pytorch_backend.synth.errors import RequestError
from pytorch_backend.synth.text import PAUSES, parse_tags, parse_text_file, sentences_of, split_long, split_sentences
from pytorch_backend.synth.textemo import TextEmotion, fit, train_text_emotion
from pytorch_backend.text.cleaners import clean_text

EMOTIONS = ["neutral", "happy", "sad"]


def test_tags_give_segments_their_own_emotion():
    segs = parse_tags("<happy 0.8>We won!</happy> <sad>But I have to leave.</sad> Untagged.", EMOTIONS)
    assert [(s.text, s.emotion, s.intensity, s.tagged) for s in segs] == [
        ("We won!", "happy", 0.8, True), ("But I have to leave.", "sad", None, True),
        ("Untagged.", None, None, False)]
    assert [s.column for s in segs] == [12, 33, 60]
    mix = parse_tags("<mix happy=0.7,sad=0.3 0.5>So so.</mix>", EMOTIONS)[0]
    assert mix.mix == {"happy": 0.7, "sad": 0.3} and mix.intensity == 0.5 and mix.emotion is None


@pytest.mark.parametrize("text,column,words", [
    ("Hi <happy>there", 4, "never closed"),
    ("Hi </sad> there", 4, "without an opening tag"),
    ("<happy>a <sad>b</sad></happy>", 10, "do not nest"),
    ("<happy>a</sad>", 9, "does not match <happy>"),
    ("ok <joy>x</joy>", 4, "unknown emotion tag <joy>"),
    ("<happy 1.5>x</happy>", 1, "outside [0, 1]"),
    ("<happy loud>x</happy>", 1, "not a number"),
    ("<happy 0.5 0.6>x</happy>", 1, "too many arguments"),
    ("<mix happy=0.5,sad=0.4>x</mix>", 1, "sum to 1"),
    ("<mix happy=0.5,joy=0.5>x</mix>", 1, "unknown emotion 'joy'"),
    ("<mix>x</mix>", 1, "needs weights"),
    ("a <> b", 3, "malformed tag"),
    ("a > b", 3, "outside a well-formed tag"),
    ("x <3 y", 3, "outside a well-formed tag"),
    ("<happy></happy>", 1, "holds no text"),
])
def test_malformed_tags_name_the_column(text, column, words):
    with pytest.raises(RequestError) as err:
        parse_tags(text, EMOTIONS)
    assert err.value.column == column and err.value.field == "text"
    assert words in str(err.value) and f"column {column}" in str(err.value)


def test_sentences_split_with_pauses_by_end_mark():
    got = split_sentences("Mr. Smith came. Is it 3.5 km? Yes! J. R. wrote... fine 今日は。元気？")
    assert [(s, m) for s, m, _ in got] == [("Mr. Smith came.", "."), ("Is it 3.5 km?", "?"), ("Yes!", "!"),
                                          ("J. R. wrote...", "…"), ("fine 今日は。", "。"), ("元気？", "？")]
    sents = sentences_of("<happy>We won! Great.</happy> <sad>Bye?</sad> Then", EMOTIONS)
    assert [(s.text, s.segment.emotion, s.pause) for s in sents] == [
        ("We won!", "happy", PAUSES["!"]), ("Great.", "happy", PAUSES["."]), ("Bye?", "sad", PAUSES["?"]),
        ("Then", None, 0.0)]
    assert [s.column for s in sents] == [8, 16, 36, 47]


def test_long_sentences_split_at_clauses_then_words():
    count = len  # one token per character
    assert split_long("short one", count, 50) == [("short one", "")]
    parts = split_long("aaaa bbbb, cccc dddd, eeee ffff", count, 12)
    assert [p for p, _ in parts] == ["aaaa bbbb,", "cccc dddd,", "eeee ffff"]
    assert [k for _, k in parts] == ["clause", "clause", ""]
    parts = split_long("aaaa bbbb cccc dddd", count, 10)
    assert [p for p, _ in parts] == ["aaaa bbbb", "cccc dddd"] and parts[0][1] == "word"
    sents = sentences_of("aaaa bbbb, cccc dddd.", EMOTIONS, count=count, max_tokens=12)
    assert [(s.text, s.pause) for s in sents] == [("aaaa bbbb,", PAUSES["clause"]), ("cccc dddd.", 0.0)]


def test_text_file_lines_with_controls(tmp_path):
    f = tmp_path / "lines.txt"
    f.write_text("# a comment\n\nGood morning.\n  [emotion=happy intensity=0.8 id=won] We won!\n"
                 "[mix=happy=0.7,sad=0.3 seed=3]Bittersweet.\n", encoding="utf-8")
    lines = parse_text_file(f)
    assert [(x.text, x.controls, x.line) for x in lines] == [
        ("Good morning.", {}, 3), ("We won!", {"emotion": "happy", "intensity": 0.8, "id": "won"}, 4),
        ("Bittersweet.", {"mix": "happy=0.7,sad=0.3", "seed": 3}, 5)]
    assert f.read_text().splitlines()[3][lines[1].column - 1:].startswith("We won!")


@pytest.mark.parametrize("line,column,words", [
    ("[emotoin=happy] x", 2, "unknown control 'emotoin'"),
    ("[emotion] x", 2, "not key=value"),
    ("[intensity=loud] x", 2, "not a number"),
    ("[seed=1.5] x", 2, "not an integer"),
    ("[emotion=happy emotion=sad] x", 16, "given twice"),
    ("[emotion=happy x", 1, "never closed"),
    ("[emotion=happy]   ", 16, "no text after the controls"),
])
def test_bad_text_file_lines_name_line_and_column(tmp_path, line, column, words):
    f = tmp_path / "bad.txt"
    f.write_text(f"ok\n{line}\n")
    with pytest.raises(RequestError) as err:
        parse_text_file(f)
    assert err.value.line == 2 and err.value.column == column and words in str(err.value)
    assert str(f) in str(err.value)


def test_empty_or_missing_text_file(tmp_path):
    f = tmp_path / "empty.txt"
    f.write_text("# nothing\n\n")
    with pytest.raises(RequestError, match="no utterance"):
        parse_text_file(f)
    with pytest.raises(RequestError, match="not found"):
        parse_text_file(tmp_path / "missing.txt")


TEXTS = ["I love this!", "What a great day!", "This is fine.", "I am so sad.", "Leave me alone.",
         "Why would you do that?", "Oh no, not again.", "ok then.", "Wonderful news, 3 wins!", "Terrible loss."]
LABELS = ["happy", "happy", "neutral", "sad", "sad", "sad", "sad", "neutral", "happy", "sad"]


@pytest.mark.parametrize("labels", [LABELS, ["happy" if x == "neutral" else x for x in LABELS]])
def test_text_classifier_numpy_equals_sklearn(labels):
    model = fit(TEXTS, labels, EMOTIONS)
    vec, clf = model.pop("_sklearn")
    ours = TextEmotion(json.loads(json.dumps(model)))  # what model.json holds
    queries = ["I love it!", "so sad.", "What?", "unknown words only", "", "Great day, 2 of them!"]
    ref = clf.predict_proba(vec.transform([clean_text(q) for q in queries]))
    assert np.allclose(ours.class_probabilities(queries), ref, atol=1e-12)
    probs = ours.predict(queries)
    assert probs.shape == (len(queries), 3) and np.allclose(probs.sum(1), 1.0)
    if "neutral" not in labels:  # a class without train texts gets probability 0
        assert np.all(probs[:, 0] == 0.0) and ours.classes == ["happy", "sad"]
    assert ours.predict("I love it!").shape == (3,)


def test_text_classifier_stage_writes_model_and_scores(tmp_path):
    data = tmp_path / "data"
    for split, n in (("train", 10), ("eval", 4)):
        d = data / split
        d.mkdir(parents=True)
        rows = [(f"u{split}{i:02d}", TEXTS[i % len(TEXTS)], LABELS[i % len(LABELS)]) for i in range(n)]
        (d / "text").write_text("".join(f"{u} {t}\n" for u, t, _ in rows))
        (d / "utt2emo").write_text("".join(f"{u} {e}\n" for u, _, e in rows))
    report = train_text_emotion(data, tmp_path / "out", EMOTIONS)
    for name in ("model.json", "textemo.json", "confusion.png", "done"):
        assert (tmp_path / "out" / name).is_file()
    assert report["accuracy"] == 1.0 and report["num_utts"] == 4 and report["num_train_utts"] == 10
    assert np.array(report["confusion"]).sum() == 4 and report["majority_class"] == "sad"
    saved = json.loads((tmp_path / "out" / "model.json").read_text())
    assert saved["format"] == "emotts-text-emotion" and "_sklearn" not in saved
    # a label outside the conf's emotions is an error naming the file, line and utterance
    (data / "train" / "utt2emo").write_text((data / "train" / "utt2emo").read_text().replace("happy", "joy", 1))
    with pytest.raises(Exception) as err:
        train_text_emotion(data, tmp_path / "out2", EMOTIONS)
    assert "utt2emo:1" in str(err.value) and "joy" in str(err.value) and "utrain00" in str(err.value)


def test_text_classifier_of_a_corpus_without_emotions():
    model = fit(["a.", "b!"], ["neutral", "neutral"], ["neutral"])
    assert TextEmotion(model).predict(["anything"]).tolist() == [[1.0]]


def test_bad_text_classifier_file_is_named(tmp_path):
    f = tmp_path / "model.json"
    f.write_text('{"format": "something else"}')
    with pytest.raises(Exception) as err:
        TextEmotion.load(f)
    assert str(f) in str(err.value) and "not a text emotion model" in str(err.value)

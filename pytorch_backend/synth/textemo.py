"""Emotion from text: a per-corpus tf-idf + logistic-regression classifier of transcripts.

Trained with scikit-learn on the train split's cleaned text (``text``) and labels (``utt2emo``),
scored on the eval split. Features: word unigrams and bigrams plus the marks ``! ? .`` as words
of their own (an exclamation or a question says something about the emotion), sublinear tf,
l2-normalized tf-idf. (On the embedded corpus every sentence is spoken in every emotion with the
same transcript, so the text holds no emotion and the classifier is at chance there.)

The trained model is stored as plain JSON (vocabulary, idf, coefficients, intercepts, labels
and the feature settings), never pickled, and applied with NumPy by :class:`TextEmotion`, which
reproduces scikit-learn's ``predict_proba`` (tests check it). ``predict`` returns a probability
vector over the corpus's emotions: the soft label ``--emotion auto`` synthesizes with.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np

from pytorch_backend.errors import DataError
from pytorch_backend.text.cleaners import clean_text
from pytorch_backend.utils.fileio import write_text_atomic

log = logging.getLogger("emotts.textemo")

FORMAT = "emotts-text-emotion"
TOKEN_PATTERN = r"(?u)\b\w+\b|[!?.]"
DEFAULTS = {"ngram_max": 2, "C": 4.0, "min_df": 1, "sublinear_tf": True, "class_weight": "balanced",
            "max_iter": 2000}


class TextEmotion:
    """A trained text emotion classifier (NumPy only); ``predict(text)`` -> probabilities."""

    def __init__(self, data: dict, source="<text emotion model>"):
        self.source = str(source)
        try:
            if data.get("format") != FORMAT:
                raise ValueError(f"not a text emotion model (format {data.get('format')!r})")
            self.emotions = list(data["emotions"])
            self.classes = list(data["classes"])
            self.language = data.get("language", "en")
            self.ngram_max = int(data["ngram_max"])
            self.sublinear_tf = bool(data["sublinear_tf"])
            self.vocabulary = {term: i for i, term in enumerate(data["vocabulary"])}
            self.idf = np.asarray(data["idf"], dtype=np.float64)
            self.coef = np.asarray(data["coef"], dtype=np.float64).reshape(-1, len(self.idf)) \
                if len(self.idf) else np.zeros((len(data["coef"]), 0))
            self.intercept = np.asarray(data["intercept"], dtype=np.float64).reshape(-1)
            unknown = [c for c in self.classes if c not in self.emotions]
            if unknown:
                raise ValueError(f"classes {unknown} are not among the emotions {self.emotions}")
            if len(self.classes) > 1 and self.coef.shape[0] not in (1, len(self.classes)):
                raise ValueError(f"{self.coef.shape[0]} coefficient rows for {len(self.classes)} classes")
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(self.source, f"invalid text emotion model: {exc}") from None
        self.pattern = re.compile(TOKEN_PATTERN)

    @classmethod
    def load(cls, path) -> "TextEmotion":
        path = Path(path)
        if not path.is_file():
            raise DataError(path, "text emotion model not found (train exp/<corpus>_textemo first)")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(path, f"not a JSON text emotion model: {exc}") from None
        return cls(data, path)

    def features(self, texts: list[str]) -> np.ndarray:
        """(N, V) l2-normalized tf-idf rows of raw texts (cleaned as in training)."""
        x = np.zeros((len(texts), len(self.idf)))
        for row, text in enumerate(texts):
            counts = Counter(t for t in ngrams(clean_text(text, self.language), self.ngram_max)
                             if t in self.vocabulary)
            for term, n in counts.items():
                x[row, self.vocabulary[term]] = (1.0 + math.log(n)) if self.sublinear_tf else n
        x *= self.idf
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)

    def class_probabilities(self, texts: list[str]) -> np.ndarray:
        """(N, len(classes)) as scikit-learn's ``predict_proba``."""
        if len(self.classes) == 1:
            return np.ones((len(texts), 1))
        scores = self.features(texts) @ self.coef.T + self.intercept
        if self.coef.shape[0] == 1:  # binary: one score column, P(classes[1]) = sigmoid
            scores = np.concatenate([-scores / 2.0, scores / 2.0], axis=1)
        scores -= scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, texts) -> np.ndarray:
        """Probabilities over ``emotions`` (N, num_emotions), or (num_emotions,) for one text."""
        single = isinstance(texts, str)
        probs = self.class_probabilities([texts] if single else list(texts))
        out = np.zeros((probs.shape[0], len(self.emotions)))
        for j, label in enumerate(self.classes):
            out[:, self.emotions.index(label)] = probs[:, j]
        return out[0] if single else out


def ngrams(cleaned: str, ngram_max: int) -> list[str]:
    """Word 1..n-grams of cleaned text (marks ``! ? .`` count as words), joined by spaces."""
    tokens = re.findall(TOKEN_PATTERN, cleaned.lower())
    out = []
    for n in range(1, ngram_max + 1):
        out += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return out


def read_split(data_dir, emotions: list[str], language: str) -> tuple[list[str], list[str], list[int]]:
    """(utts, raw texts, emotion ids) of a Kaldi data dir (``text`` + ``utt2emo``)."""
    from pytorch_backend.io.kaldi_map import read_kv_lines

    data_dir = Path(data_dir)
    labels = {utt: (lineno, emo) for lineno, utt, emo in read_kv_lines(data_dir / "utt2emo")}
    utts, texts, ids = [], [], []
    for lineno, utt, text in read_kv_lines(data_dir / "text"):
        if utt not in labels:
            raise DataError(data_dir / "utt2emo", "utterance missing", utt=utt)
        line, emo = labels[utt]
        if emo not in emotions:
            raise DataError(data_dir / "utt2emo", f"emotion '{emo}' is not in the conf's emotions "
                            f"(known: {', '.join(emotions)})", line=line, utt=utt)
        utts.append(utt)
        texts.append(text)
        ids.append(emotions.index(emo))
    if not utts:
        raise DataError(data_dir / "text", "no utterances")
    return utts, texts, ids


def fit(texts: list[str], labels: list[str], emotions: list[str], language: str = "en",
        settings: dict | None = None) -> dict:
    """Train on raw ``texts`` with emotion ``labels``; returns the JSON-able model."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    s = dict(DEFAULTS, **(settings or {}))
    cleaned = [clean_text(t, language) for t in texts]
    classes = [e for e in emotions if e in set(labels)]
    model = {"format": FORMAT, "version": 1, "emotions": list(emotions), "classes": classes,
             "language": language, "ngram_max": int(s["ngram_max"]), "sublinear_tf": bool(s["sublinear_tf"]),
             "settings": s}
    if len(classes) < 2:  # one label (a corpus without emotions): a constant prediction
        model.update(vocabulary=[], idf=[], coef=[[]], intercept=[0.0])
        return model
    vec = TfidfVectorizer(lowercase=True, token_pattern=TOKEN_PATTERN, ngram_range=(1, int(s["ngram_max"])),
                          sublinear_tf=bool(s["sublinear_tf"]), min_df=int(s["min_df"]), norm="l2",
                          smooth_idf=True)
    x = vec.fit_transform(cleaned)
    clf = LogisticRegression(C=float(s["C"]), max_iter=int(s["max_iter"]), class_weight=s["class_weight"])
    clf.fit(x, [classes.index(lab) for lab in labels])
    vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
    model.update(vocabulary=vocab, idf=vec.idf_.tolist(), coef=clf.coef_.tolist(), intercept=clf.intercept_.tolist())
    model["_sklearn"] = (vec, clf)  # for the tests' comparison; dropped when saved
    return model


def save(model: dict, path) -> None:
    data = {k: v for k, v in model.items() if not k.startswith("_")}
    write_text_atomic(path, json.dumps(data) + "\n")


def train_text_emotion(data_root, out_dir, emotions: list[str], language: str = "en", settings: dict | None = None,
                       train_split: str = "train", eval_split: str = "eval") -> dict:
    """Train on ``data_root/<train_split>``, score on ``<eval_split>``; write into ``out_dir``:
    ``model.json``, ``textemo.json`` (accuracy, per-class recall, confusion, majority-class
    baseline), ``confusion.png`` and ``done`` last. Returns the textemo.json content."""
    from pytorch_backend.plots.confusion import plot_confusion
    from pytorch_backend.ser.metrics import classification_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "done").unlink(missing_ok=True)
    _, texts, ids = read_split(Path(data_root) / train_split, emotions, language)
    model = fit(texts, [emotions[i] for i in ids], emotions, language, settings)
    save(model, out / "model.json")
    clf = TextEmotion.load(out / "model.json")
    _, eval_texts, eval_ids = read_split(Path(data_root) / eval_split, emotions, language)
    preds = clf.predict(eval_texts).argmax(axis=1)
    report = classification_report(eval_ids, preds, emotions)
    majority = Counter(ids).most_common(1)[0][0]
    report.update(split=eval_split, num_train_utts=len(texts), vocabulary_size=len(model["vocabulary"]),
                  classes=model["classes"], settings=model["settings"],
                  majority_class=emotions[majority],
                  majority_accuracy=float(np.mean(np.asarray(eval_ids) == majority)))
    write_text_atomic(out / "textemo.json", json.dumps(report, indent=2) + "\n")
    plot_confusion(report["confusion"], emotions, out / "confusion.png",
                   title=f"emotion from text, {eval_split} (accuracy {report['accuracy']:.3f})")
    write_text_atomic(out / "done", f"accuracy {report['accuracy']:.4f}\n")
    log.info("text emotion classifier: %d train texts, %d terms; %s accuracy %.3f (majority class %.3f)",
             len(texts), len(model["vocabulary"]), eval_split, report["accuracy"], report["majority_accuracy"])
    return report

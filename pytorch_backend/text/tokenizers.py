"""Tokenizers: raw text -> cleaned text -> list of string tokens (and back, for reading).

Each tokenizer has ``tokenize(text)`` (cleans, then splits), ``tokenize_clean(cleaned)``
(splits text that :func:`clean_text` already normalized), ``detokenize(tokens)`` and
``vocabulary()`` (the tokens it can produce, or None when that is only known from data).
The BPE tokenizer needs a sentencepiece model trained by :func:`train_bpe`.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

from pytorch_backend.errors import DataError
from pytorch_backend.text.cleaners import clean_text
from pytorch_backend.text.phonemes import SPACE, espeak_voice, text_to_phoneme_tokens
from pytorch_backend.utils.fileio import atomic_open

log = logging.getLogger("emotts.text")


class Tokenizer:
    """Common interface; subclasses implement :meth:`tokenize_clean` and :meth:`detokenize`."""

    name = ""

    def __init__(self, language: str = "en"):
        self.language = language

    def clean(self, text: str) -> str:
        return clean_text(text, self.language)

    def tokenize(self, text: str) -> list[str]:
        return self.tokenize_clean(self.clean(text))

    def tokenize_clean(self, text: str) -> list[str]:
        raise NotImplementedError

    def detokenize(self, tokens) -> str:
        raise NotImplementedError

    def vocabulary(self) -> list[str] | None:
        return None


class CharTokenizer(Tokenizer):
    """One token per character of the cleaned text; a space is ``<space>``."""

    name = "char"

    def tokenize_clean(self, text: str) -> list[str]:
        return [SPACE if ch == " " else ch for ch in " ".join(text.split())]

    def detokenize(self, tokens) -> str:
        return "".join(" " if t == SPACE else t for t in tokens)


class PhonemeTokenizer(Tokenizer):
    """eSpeak NG IPA phonemes (see :mod:`pytorch_backend.text.phonemes` for the token design)."""

    name = "phn"

    def __init__(self, language: str = "en", voice: str | None = None):
        super().__init__(language)
        self.voice = voice or espeak_voice(language)

    def tokenize_clean(self, text: str) -> list[str]:
        return text_to_phoneme_tokens(text, self.voice)

    def detokenize(self, tokens) -> str:
        """The IPA string: phonemes joined, ``<space>`` as a space, punctuation kept."""
        out = "".join(" " if t == SPACE else t for t in tokens)
        return " ".join(out.split())


class BpeTokenizer(Tokenizer):
    """sentencepiece BPE pieces (``▁`` marks a word start) from a model made by :func:`train_bpe`."""

    name = "bpe"

    def __init__(self, language: str = "en", model: str | Path | None = None, model_proto: bytes | None = None):
        """``model``: the bpe.model file; or ``model_proto``: its bytes (e.g. from a packed model)."""
        super().__init__(language)
        import sentencepiece

        if model_proto is not None:
            self.model_path = model
            self.sp = sentencepiece.SentencePieceProcessor(model_proto=model_proto)
            return
        if model is None:
            raise ValueError("the bpe tokenizer needs a trained sentencepiece model (bpe.model)")
        model = Path(model)
        if not model.is_file():
            raise DataError(model, "sentencepiece model not found (run steps/make_tokens.py)")
        self.model_path = model
        self.sp = sentencepiece.SentencePieceProcessor(model_file=str(model))

    def tokenize_clean(self, text: str) -> list[str]:
        return self.sp.encode(text, out_type=str)

    def detokenize(self, tokens) -> str:
        return self.sp.decode_pieces(list(tokens))

    def vocabulary(self) -> list[str]:
        """All pieces of the model except sentencepiece's own ``<unk>``."""
        return [self.sp.id_to_piece(i) for i in range(self.sp.get_piece_size()) if not self.sp.is_unknown(i)]


def train_bpe(texts, model_path, vocab_size: int) -> int:
    """Train a deterministic sentencepiece BPE model on cleaned ``texts``; write it atomically.

    One thread, no sentence sampling, identity normalization (the text is already cleaned),
    every character kept. When the corpus is too small for ``vocab_size`` the model gets as
    many pieces as the corpus allows (``hard_vocab_limit=False``) and a warning is logged.
    Returns the number of pieces.
    """
    import sentencepiece

    texts = [t for t in texts if t.strip()]
    if not texts:
        raise ValueError("cannot train a BPE model on an empty corpus")
    buf = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=buf, vocab_size=int(vocab_size), model_type="bpe",
        character_coverage=1.0, normalization_rule_name="identity", hard_vocab_limit=False,
        num_threads=1, input_sentence_size=0, shuffle_input_sentence=False,
        unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1, minloglevel=2)
    model = buf.getvalue()
    size = sentencepiece.SentencePieceProcessor(model_proto=model).get_piece_size()
    if size < vocab_size:
        log.warning("bpe: the training text allows only %d pieces; asked for bpe_vocab_size=%d",
                    size, vocab_size)
    with atomic_open(model_path, "wb") as fh:
        fh.write(model)
    return size

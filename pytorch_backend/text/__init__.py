"""Text frontend: cleaners, tokenizers (registry ``TOKENIZERS``) and the token list.

Typical use at synthesis time, with the directory written by ``steps/make_tokens.py``::

    frontend = load_frontend("data/<corpus>/tokens/phn", "phn", language="en")
    ids = frontend.encode("Hello world.")          # list of ints, unknown -> <unk>
"""

from __future__ import annotations

from pathlib import Path

from pytorch_backend.text.cleaners import clean_text
from pytorch_backend.text.phonemes import SPACE
from pytorch_backend.text.token_list import EOS, PAD, UNK, TokenList
from pytorch_backend.text.tokenizers import BpeTokenizer, CharTokenizer, PhonemeTokenizer, Tokenizer
from pytorch_backend.utils.registry import Registry

TOKENIZERS = Registry("token_type", name_key="token_type", data_args=("language",))
TOKENIZERS.register("char", CharTokenizer)
TOKENIZERS.register("phn", PhonemeTokenizer)
TOKENIZERS.register("bpe", BpeTokenizer)

__all__ = ["TOKENIZERS", "Tokenizer", "TokenList", "build_tokenizer", "load_frontend", "clean_text",
           "SPACE", "PAD", "UNK", "EOS"]


def build_tokenizer(token_type: str, language: str = "en", token_dir=None, source="<conf>") -> Tokenizer:
    """The tokenizer ``token_type``; ``bpe`` loads ``<token_dir>/bpe.model``. An unknown
    ``token_type`` is a ConfigError naming ``source`` and the key ``token_type``."""
    cls = TOKENIZERS.lookup(token_type, source)
    if cls is BpeTokenizer:
        if token_dir is None:
            raise ValueError("the bpe tokenizer needs token_dir (where bpe.model is)")
        return BpeTokenizer(language, model=Path(token_dir) / "bpe.model")
    return cls(language)


class Frontend:
    """Raw text -> token ids with a tokenizer and the corpus's token list."""

    def __init__(self, tokenizer: Tokenizer, token_list: TokenList):
        self.tokenizer = tokenizer
        self.token_list = token_list

    def tokens(self, text: str) -> list[str]:
        return self.tokenizer.tokenize(text)

    def encode(self, text: str, add_eos: bool = False) -> list[int]:
        return self.token_list.encode(self.tokens(text), add_eos=add_eos)


def load_frontend(token_dir, token_type: str, language: str = "en", source="<conf>") -> Frontend:
    """The frontend of a token dir written by ``steps/make_tokens.py``."""
    token_dir = Path(token_dir)
    tokenizer = build_tokenizer(token_type, language, token_dir, source)
    return Frontend(tokenizer, TokenList.load(token_dir / "token_list"))

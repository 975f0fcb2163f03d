"""The token inventory of a corpus: ``token_list`` file, one token per line, line index = id.

Convention (docs/ARCHITECTURE.md): id 0 ``<pad>``, id 1 ``<unk>``, then the tokens in C order
(sorted by UTF-8 bytes), the last id ``<eos>``.
"""

from __future__ import annotations

from pathlib import Path

from pytorch_backend.errors import DataError
from pytorch_backend.io.kaldi_map import c_sorted
from pytorch_backend.utils.fileio import atomic_open

PAD = "<pad>"
UNK = "<unk>"
EOS = "<eos>"
SPECIALS = (PAD, UNK, EOS)


class TokenList:
    """Maps tokens to ids and back; unknown tokens map to ``<unk>``."""

    def __init__(self, tokens, source: str = "<token list>"):
        tokens = list(tokens)
        self.source = str(source)
        if len(tokens) < 3 or tokens[0] != PAD or tokens[1] != UNK or tokens[-1] != EOS:
            raise DataError(self.source, f"a token list starts with {PAD}, {UNK} and ends with {EOS}")
        self.tokens = tokens
        self._ids: dict[str, int] = {}
        for i, tok in enumerate(tokens):
            if not tok or any(ch.isspace() for ch in tok):
                raise DataError(self.source, f"empty token or token with whitespace: {tok!r}", line=i + 1)
            if tok in self._ids:
                raise DataError(self.source, f"duplicate token {tok!r} (also on line {self._ids[tok] + 1})",
                                line=i + 1)
            self._ids[tok] = i

    @classmethod
    def build(cls, tokens) -> "TokenList":
        """A token list holding the distinct ``tokens`` (an iterable of strings) in C order."""
        distinct = set(tokens) - set(SPECIALS)
        return cls([PAD, UNK, *c_sorted(distinct), EOS])

    @classmethod
    def load(cls, path) -> "TokenList":
        path = Path(path)
        if not path.is_file():
            raise DataError(path, "token list not found")
        with open(path, encoding="utf-8") as fh:
            tokens = [line.rstrip("\n") for line in fh]
        return cls(tokens, source=path)

    def save(self, path) -> None:
        with atomic_open(path) as fh:
            fh.writelines(tok + "\n" for tok in self.tokens)

    @property
    def pad_id(self) -> int:
        return 0

    @property
    def unk_id(self) -> int:
        return 1

    @property
    def eos_id(self) -> int:
        return len(self.tokens) - 1

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._ids

    def encode(self, tokens, add_eos: bool = False) -> list[int]:
        ids = [self._ids.get(tok, 1) for tok in tokens]
        if add_eos:
            ids.append(self.eos_id)
        return ids

    def decode(self, ids) -> list[str]:
        return [self.tokens[int(i)] for i in ids]

    def count_unknown(self, tokens) -> int:
        return sum(1 for tok in tokens if tok not in self._ids)

"""Tokenize the ``text`` files of a corpus's data dirs (the work of ``steps/make_tokens.py``).

The token list (and the BPE model) come from the train split only; dev and eval are tokenized
with them, and their tokens unseen in train are counted (they become ``<unk>`` when encoded).
Everything is computed before anything is written, then written atomically:
``bpe.model`` (bpe only), ``<split>/text_tokens`` per split, and ``token_list`` last.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from pytorch_backend.errors import DataError
from pytorch_backend.io.kaldi_map import read_kv_lines
from pytorch_backend.text import TOKENIZERS, build_tokenizer
from pytorch_backend.text.cleaners import clean_text
from pytorch_backend.text.token_list import TokenList
from pytorch_backend.text.tokenizers import train_bpe
from pytorch_backend.utils.fileio import atomic_open

log = logging.getLogger("emotts.text")


def read_clean_texts(text_path, language: str) -> list[tuple[str, str, int]]:
    """``[(utt, cleaned text, line number)]`` of a Kaldi ``text`` file, in C order of the ids.

    A duplicate id, or a text that is empty after cleaning (e.g. only symbols), is a DataError
    naming the file, line and utterance.
    """
    seen: dict[str, int] = {}
    rows = []
    for lineno, utt, raw in read_kv_lines(text_path):
        if utt in seen:
            raise DataError(text_path, f"duplicate id '{utt}' (first on line {seen[utt]})",
                            line=lineno, utt=utt)
        seen[utt] = lineno
        cleaned = clean_text(raw, language)
        if not cleaned.strip():
            raise DataError(text_path, f"text is empty after cleaning: {raw!r}", line=lineno, utt=utt)
        rows.append((utt, cleaned, lineno))
    rows.sort(key=lambda row: row[0].encode("utf-8"))  # C order, as c_sorted
    return rows


def make_tokens(data_root, out_dir, token_type: str, language: str = "en", bpe_vocab_size: int = 200,
                splits=("train", "dev", "eval"), progress: bool = True, source="<conf>") -> dict:
    """Build ``out_dir/token_list`` from train and ``out_dir/<split>/text_tokens`` for ``splits``.

    Returns ``{"token_list_size", "splits": {split: {"utterances", "tokens", "unknown_tokens",
    "unknown_types"}}}``.
    """
    TOKENIZERS.lookup(token_type, source)  # an unknown type: ConfigError naming source and token_type
    data_root, out_dir = Path(data_root), Path(out_dir)
    splits = list(dict.fromkeys(["train", *splits]))  # train always (it defines the list)

    texts = {}
    for split in splits:
        texts[split] = read_clean_texts(data_root / split / "text", language)
        log.info("%s: %d utterances", split, len(texts[split]))

    with tempfile.TemporaryDirectory(prefix="emotts-tokens-") as tmp_dir:
        if token_type == "bpe":
            size = train_bpe([cleaned for _, cleaned, _ in texts["train"]], Path(tmp_dir) / "bpe.model",
                             bpe_vocab_size)
            log.info("bpe: trained a model of %d pieces on %d train sentences", size, len(texts["train"]))
        tokenizer = build_tokenizer(token_type, language, tmp_dir, source)

        tokenized: dict[str, list[tuple[str, list[str]]]] = {}
        for split in splits:
            rows = []
            for utt, cleaned, lineno in tqdm(texts[split], desc=f"tokenize {split} ({token_type})",
                                             unit="utt", disable=not progress, leave=False):
                tokens = tokenizer.tokenize_clean(cleaned)
                if not tokens:
                    raise DataError(data_root / split / "text", f"no {token_type} tokens for the text "
                                    f"{cleaned!r}", line=lineno, utt=utt)
                rows.append((utt, tokens))
            tokenized[split] = rows

        vocab = tokenizer.vocabulary()
        if vocab is None:
            vocab = [tok for _, tokens in tokenized["train"] for tok in tokens]
        token_list = TokenList.build(vocab)

        summary = {"token_list_size": len(token_list), "splits": {}}
        for split in splits:
            counts = Counter(tok for _, tokens in tokenized[split] for tok in tokens if tok not in token_list)
            total = sum(len(tokens) for _, tokens in tokenized[split])
            summary["splits"][split] = {"utterances": len(tokenized[split]), "tokens": total,
                                        "unknown_tokens": sum(counts.values()), "unknown_types": len(counts)}
            if counts:
                examples = ", ".join(f"{tok!r} x{n}" for tok, n in counts.most_common(10))
                log.warning("%s: %d of %d tokens (%d types) unseen in train, encoded as <unk>: %s",
                            split, sum(counts.values()), total, len(counts), examples)
            else:
                log.info("%s: %d tokens, none unseen in train", split, total)

        # Write: model, per-split token files, token list last.
        if token_type == "bpe":
            with atomic_open(out_dir / "bpe.model", "wb") as fh:
                fh.write((Path(tmp_dir) / "bpe.model").read_bytes())
    for split in splits:
        with atomic_open(out_dir / split / "text_tokens") as fh:
            for utt, tokens in tokenized[split]:
                fh.write(f"{utt} {' '.join(tokens)}\n")
    token_list.save(out_dir / "token_list")
    log.info("token list: %d tokens (%s) -> %s", len(token_list), token_type, out_dir / "token_list")
    return summary


def read_text_tokens(path) -> dict[str, list[str]]:
    """Read a ``text_tokens`` file into ``{utt: [tokens]}`` (errors name the file and line)."""
    out: dict[str, list[str]] = {}
    for lineno, utt, value in read_kv_lines(path):
        if utt in out:
            raise DataError(path, f"duplicate id '{utt}'", line=lineno, utt=utt)
        out[utt] = value.split()
    return out

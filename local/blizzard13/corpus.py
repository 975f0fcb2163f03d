"""Reader of the Blizzard 2013 segmented audiobooks, in either release (detected from ``root``):

* ``bc2013_segmented``: ``BC2013_segmented_v0_wav<k>/<book>/<id>.wav`` +
  ``BC2013_segmented_v0_txt<k>/<book>/<id>.txt`` (a ``.txt`` holds the segment's text, sometimes
  over several lines, joined; a wav without its ``.txt`` is dropped);
* ``train_segmented``: ``train/segmented/prompts.gui`` + ``train/segmented/wavn/<id>.wav`` (or
  ``prompts.gui`` + ``wavn/`` directly under ``root``). ``prompts.gui`` is blocks of three lines:
  the id, the text with prosodic markup (``@``, ``#``, ``|``; removed here, and the tokenizer's
  spaces before punctuation and ``'s`` closed up), and a line of word-level annotation (ignored).

Ids are ``CB-<BOOK>-<chapter>-<segment>`` (``CB-JE-33-71`` is Jane Eyre, chapter 33, segment 71;
CB = Catherine Byers, the one speaker). ``prep.books`` selects books by the folder name of the
first release (``jane_eyre``) or by the book code of the ids (``JE``); :data:`BOOKS` maps the codes
to the folder names, so ``jane_eyre`` selects the same book in both releases (null: every book).
``prep.release`` picks a release when ``root`` holds both. No official split.
"""

from __future__ import annotations

import logging
import re

from local.common.items import Utterance
from local.common.text import read_text_lines
from pytorch_backend.errors import ConfigError, DataError

log = logging.getLogger("emotts.prepare")

SPEAKER = "CB"
PREP = {
    "books": ["jane_eyre"],
    "release": None,  # null: the release root holds; bc2013_segmented | train_segmented
    "split": {"mode": "holdout", "dev": 50, "eval": 50, "seed": 1},
}
RELEASES = ("bc2013_segmented", "train_segmented")
WAV_DIR = re.compile(r"^BC2013_segmented_(v\d+)_wav(\w*)$")
UTT_ID = re.compile(r"^[A-Z]+-([A-Z0-9]+)-\d+-\d+$")
# book codes of the ids -> book folder names of the BC2013_segmented release
BOOKS = {"JE": "jane_eyre", "EM": "emma"}
_MARKUP = re.compile(r"[@#|]")
_SPACE_BEFORE_PUNCT = re.compile(r" +(?=[,.;:?!]|'s\b)")


def book_code(utt_id: str) -> str | None:
    m = UTT_ID.match(utt_id)
    return m.group(1) if m else None


def book_name(code: str) -> str:
    return BOOKS.get(code, code.lower())


def clean_prompt(text: str) -> str:
    """The text line of a prompts.gui block without its markup."""
    return _SPACE_BEFORE_PUNCT.sub("", " ".join(_MARKUP.sub(" ", text).split()))


def read_prompts(path, drops) -> dict[str, tuple[str, int]]:
    """``{id: (text, line of the id)}`` of a prompts.gui file; malformed blocks are dropped."""
    lines, _ = read_text_lines(path)
    prompts: dict[str, tuple[str, int]] = {}
    i = 0
    while i < len(lines):
        head = lines[i].strip()
        if not head:
            i += 1
            continue
        text = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if not UTT_ID.match(head) or not text or UTT_ID.match(text):
            drops.drop("malformed prompts.gui block", f"{path.name}:{i + 1}")
            i += 1
            continue
        if head in prompts:
            drops.drop("duplicate prompt", f"{head} ({path.name}:{i + 1}, first on line {prompts[head][1]})")
        else:
            prompts[head] = (clean_prompt(text), i + 1)
        third = lines[i + 2].strip() if i + 2 < len(lines) else ""
        i += 2 if not third or UTT_ID.match(third) else 3  # the annotation line, when present
    return prompts


def segmented_dir(root):
    """The folder holding prompts.gui and wavn/ (``root/train/segmented`` or ``root``), or None."""
    for d in (root / "train" / "segmented", root):
        if (d / "prompts.gui").is_file():
            return d
    return None


def detect_release(conf, root, prep) -> str:
    found = []
    if any(p.is_dir() and WAV_DIR.match(p.name) for p in root.iterdir()):
        found.append("bc2013_segmented")
    if segmented_dir(root) is not None:
        found.append("train_segmented")
    source = f"conf/corpus/{conf.get('name', 'blizzard13')}.yaml"
    release = prep.get("release")
    if release is not None:
        if release not in RELEASES:
            raise ConfigError(source, f"must be one of {', '.join(RELEASES)} or null, got {release!r}",
                              key="prep.release")
        if release not in found:
            raise DataError(root, f"does not hold the {release} release (prep.release in {source})")
        return release
    if not found:
        raise DataError(root, "holds neither Blizzard 2013 release: no BC2013_segmented_v*_wav* folder "
                        "and no train/segmented/prompts.gui")
    if len(found) > 1:
        raise ConfigError(source, "root holds both Blizzard 2013 releases (BC2013_segmented_v* and "
                          "train/segmented/prompts.gui): choose one", key="prep.release")
    return found[0]


def _selector(books):
    if books is None:
        return lambda folder, code: True
    wanted = {str(b) for b in books}
    return lambda folder, code: folder in wanted or code in wanted or (code is not None and
                                                                      book_name(code) in wanted)


def _collect_bc2013(root, selected, seen, drops):
    out = []
    for wav_root in sorted(p for p in root.iterdir() if p.is_dir() and WAV_DIR.match(p.name)):
        txt_root = root / wav_root.name.replace("_wav", "_txt", 1)
        for book in sorted(p for p in wav_root.iterdir() if p.is_dir()):
            for wav in sorted(w for w in book.glob("*.wav") if not w.name.startswith(".")):
                code = book_code(wav.stem)
                label = book.name if code is None else f"{book.name} ({code})"
                seen[label] = selected(book.name, code)
                if not seen[label]:
                    continue
                txt = txt_root / book.name / f"{wav.stem}.txt"
                if not txt.is_file():
                    drops.drop("wav without txt", str(wav.relative_to(root)))
                    continue
                lines, _ = read_text_lines(txt)
                out.append(Utterance(wav.stem, SPEAKER, " ".join(lines), wav, source=str(txt)))
    return out


def _collect_prompts(root, selected, seen, drops):
    seg = segmented_dir(root)
    prompts_path = seg / "prompts.gui"
    prompts = read_prompts(prompts_path, drops)
    out, with_wav = [], set()
    wavn = seg / "wavn"
    wavs = sorted(w for w in wavn.glob("*.wav") if not w.name.startswith(".")) if wavn.is_dir() else []
    for wav in wavs:
        code = book_code(wav.stem)
        if code is None:
            drops.drop("wav name is not an utterance id", str(wav.relative_to(root)))
            continue
        label = f"{book_name(code)} ({code})"
        seen[label] = selected(book_name(code), code)
        with_wav.add(wav.stem)
        if not seen[label]:
            continue
        if wav.stem not in prompts:
            drops.drop("wav without prompt", str(wav.relative_to(root)))
            continue
        text, lineno = prompts[wav.stem]
        out.append(Utterance(wav.stem, SPEAKER, text, wav, source=f"{prompts_path}:{lineno}"))
    for utt in sorted(set(prompts) - with_wav):
        if selected(book_name(book_code(utt)), book_code(utt)):
            drops.drop("prompt without wav", f"{utt} ({prompts_path.name}:{prompts[utt][1]})")
    return out


def collect(conf, root, prep, drops):
    books = prep["books"]
    source = f"conf/corpus/{conf.get('name', 'blizzard13')}.yaml"
    if books is not None and (not isinstance(books, list) or not all(isinstance(b, str) for b in books)):
        raise ConfigError(source, f"must be a list of book names or codes, or null, got {books!r}",
                          key="prep.books")
    release = detect_release(conf, root, prep)
    seen: dict[str, bool] = {}  # book -> selected
    reader = _collect_bc2013 if release == "bc2013_segmented" else _collect_prompts
    out = reader(root, _selector(books), seen, drops)
    log.info("Blizzard 2013 release %s under %s; books %s; %d utterance(s) of %s", release, root,
             ", ".join(sorted(seen)) or "none", len(out), "every book" if books is None else ", ".join(books))
    if books is not None and seen and not any(seen.values()):
        raise ConfigError(source, f"selects no book of the corpus (books found: {', '.join(sorted(seen))}; "
                          f"name a folder or a book code, or null for all)", key="prep.books")
    return out

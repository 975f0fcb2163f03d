"""Intelligibility: character and word error rates of a recognizer's transcripts.

References are the data dir's ``text`` put through the recognizer's normalization
(:func:`pytorch_backend.asr.vocab.asr_text`: cleaned, no punctuation); hypotheses are
normalized the same way (PocketSphinx writes lower-case words already). Rates are corpus-level:
all edits over all reference characters (spaces included) or words.
"""

from __future__ import annotations

from pytorch_backend.asr.vocab import asr_text
from pytorch_backend.errors import DataError
from pytorch_backend.utils.edit_distance import edit_distance, error_rate


def reference_texts(text_path, utts, language: str) -> dict[str, str]:
    """``{utt: normalized text}`` for ``utts`` from a Kaldi ``text`` file; a missing one is a DataError."""
    from pytorch_backend.io.kaldi_map import read_kv

    table = read_kv(text_path)
    out = {}
    for utt in utts:
        if utt not in table:
            raise DataError(text_path, "no transcript for a scored utterance", utt=utt)
        out[utt] = asr_text(table[utt], language)
    return out


def transcript_scores(refs: dict[str, str], hyps: dict[str, str], language: str = "en") -> dict:
    """CER and WER of ``hyps`` against ``refs`` (both ``{utt: text}``, same utterances) with
    per-utterance rows ``{utt: {"hyp", "char_errors", "chars"}}``."""
    missing = [u for u in refs if u not in hyps]
    if missing or len(hyps) != len(refs):
        raise ValueError(f"hypotheses and references differ in utterances (e.g. {(missing or list(hyps))[:1]})")
    utts = list(refs)
    ref_text = [refs[u] for u in utts]
    hyp_text = [asr_text(hyps[u], language) for u in utts]
    cer = error_rate(ref_text, hyp_text)
    wer = error_rate([t.split() for t in ref_text], [h.split() for h in hyp_text])
    per_utt = {u: {"hyp": h, "char_errors": edit_distance(r, h), "chars": len(r)}
               for u, r, h in zip(utts, ref_text, hyp_text)}
    return {"cer": cer["rate"], "char_errors": cer["errors"], "ref_chars": cer["ref_length"],
            "wer": wer["rate"], "word_errors": wer["errors"], "ref_words": wer["ref_length"],
            "num_utts": len(utts), "per_utt": per_utt}

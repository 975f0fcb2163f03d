"""Intelligibility for English corpora: PocketSphinx (``pocketsphinx`` package) with the
US-English acoustic model, dictionary and language model that ship in its wheel.

A general-purpose recognizer, not trained on the corpus: its word error rate says whether a
listener who never heard this voice would understand it. On eSpeak NG voices it already fails
on the real recordings (WER about 0.8 on espeak_emo), so ``eval.pocketsphinx`` leaves it off
there by default (``skip_corpora``); the corpus's own CTC recognizer (eval/cer.py) is the
judge that works for every corpus.
"""

from __future__ import annotations

import os

import numpy as np

from pytorch_backend.eval.dnsmos import SR, to_16k


def pocketsphinx_enabled(conf: dict | None, corpus: str, language: str) -> bool:
    """``eval.pocketsphinx.enabled``: true, false, or auto (English and not in ``skip_corpora``)."""
    conf = conf or {}
    enabled = conf.get("enabled", "auto")
    if enabled == "auto":
        return str(language).lower().startswith("en") and corpus not in (conf.get("skip_corpora") or [])
    return bool(enabled)


class PocketSphinx:
    """One decoder (en-us); :meth:`transcribe` returns lower-case words."""

    def __init__(self):
        from pocketsphinx import Decoder

        self.decoder = Decoder(samprate=SR, logfn=os.devnull)

    def transcribe(self, wav: np.ndarray, fs: int) -> str:
        pcm = (to_16k(wav, fs) * 32767.0).astype(np.int16).tobytes()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return hyp.hypstr.lower() if hyp is not None else ""

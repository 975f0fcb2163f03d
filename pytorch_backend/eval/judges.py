"""The judges of synthesized speech from outside the corpus's emotion classifier, together.

Per utterance, in the evaluation workers (:func:`build_judges`, :func:`judge_audio`): DNSMOS
naturalness (eval/dnsmos.py), a PocketSphinx transcript (eval/pocketsphinx_wer.py, English
corpora) and a Resemblyzer speaker embedding (eval/speaker_sim.py, multi-speaker corpora), all
on the silence-trimmed waveform. Over a set, in the main process (:func:`summarize_judges`):
their means, the CER/WER of the corpus's CTC recognizer on the log-mels (eval/cer.py), the
PocketSphinx WER, and the similarity of each utterance to its speaker's real recordings.

Which judges run is decided once per evaluation by :func:`judge_flags` from ``eval`` conf keys
``dnsmos``, ``pocketsphinx`` and ``speaker_similarity``, the corpus name and language, and the
number of speakers of the scored split; the recognizer runs when its directory is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pytorch_backend.eval.pocketsphinx_wer import pocketsphinx_enabled
from pytorch_backend.eval.speaker_sim import speaker_similarity_enabled


def judge_flags(eval_conf: dict, corpus: str, language: str, num_speakers: int) -> dict:
    """``{"dnsmos": {"personalized": bool, "max_windows": int | None} | None, "pocketsphinx": bool,
    "speaker_similarity": bool}``.

    A judge whose section is missing from ``eval_conf`` does not run (the DAG always passes the
    whole ``eval`` conf, with the schema's defaults filled in).
    """
    dn = eval_conf.get("dnsmos")
    ps, spk = eval_conf.get("pocketsphinx"), eval_conf.get("speaker_similarity")
    return {"dnsmos": {"personalized": bool(dn.get("personalized", False)), "max_windows": dn.get("max_windows")}
            if dn and dn.get("enabled", True) else None,
            "pocketsphinx": ps is not None and pocketsphinx_enabled(ps, corpus, language),
            "speaker_similarity": spk is not None and speaker_similarity_enabled(spk, num_speakers)}


@dataclass
class Judges:
    dnsmos: object | None = None
    pocketsphinx: object | None = None
    speaker: object | None = None


def build_judges(flags: dict | None, threads: int = 1) -> Judges:
    """The scorers ``flags`` asks for (each loads its model once)."""
    flags = flags or {}
    out = Judges()
    if flags.get("dnsmos") is not None:
        from pytorch_backend.eval.dnsmos import Dnsmos

        out.dnsmos = Dnsmos(personalized=flags["dnsmos"].get("personalized", False), threads=threads,
                            max_windows=flags["dnsmos"].get("max_windows"))
    if flags.get("pocketsphinx"):
        from pytorch_backend.eval.pocketsphinx_wer import PocketSphinx

        out.pocketsphinx = PocketSphinx()
    if flags.get("speaker_similarity"):
        from pytorch_backend.eval.speaker_sim import SpeakerEncoder

        out.speaker = SpeakerEncoder("cpu")
    return out


def judge_audio(judges: Judges, wav: np.ndarray, fs: int) -> dict:
    """``{"dnsmos": {...}, "ps_hyp": str, "spk_embed": vector}`` (only the judges that run)."""
    out: dict = {}
    if judges.dnsmos is not None:
        out["dnsmos"] = judges.dnsmos.score(wav, fs)
    if judges.pocketsphinx is not None:
        out["ps_hyp"] = judges.pocketsphinx.transcribe(wav, fs)
    if judges.speaker is not None:
        out["spk_embed"] = judges.speaker.embed(wav, fs)
    return out


def summarize_judges(results: list[dict], flags: dict, *, refs: dict[str, str] | None = None,
                     asr_hyps: dict[str, str] | None = None, ref_embeds: dict | None = None,
                     utt2spk: dict | None = None, language: str = "en") -> tuple[dict, dict]:
    """(set-level judge scores for metrics.json, ``{utt: per-utterance judge values}``).

    ``results``: the per-utterance dicts of :func:`judge_audio` (with ``utt``); ``refs``: the
    normalized reference texts (eval/cer.py); ``asr_hyps``: the recognizer's transcripts (None:
    no recognizer); ``ref_embeds``: speaker embeddings of the real recordings of the split.
    Keys of a judge that did not run are None.
    """
    from pytorch_backend.eval.cer import transcript_scores
    from pytorch_backend.eval.dnsmos import summarize_dnsmos
    from pytorch_backend.eval.speaker_sim import similarity_to_speakers

    per_utt: dict[str, dict] = {r["utt"]: {} for r in results}
    out: dict = {"dnsmos": None, "cer": None, "pocketsphinx": None, "speaker_similarity": None}
    if flags.get("dnsmos") is not None:
        out["dnsmos"] = summarize_dnsmos([r["dnsmos"] for r in results])
        for r in results:
            per_utt[r["utt"]].update({f"dnsmos_{k}": round(v, 4) for k, v in r["dnsmos"].items()})
    if asr_hyps is not None:
        scores = transcript_scores(refs, asr_hyps, language)
        out["cer"] = {k: v for k, v in scores.items() if k != "per_utt"}
        for utt, row in scores["per_utt"].items():
            per_utt[utt].update(asr_hyp=row["hyp"], asr_char_errors=row["char_errors"], ref_chars=row["chars"])
    if flags.get("pocketsphinx"):
        scores = transcript_scores(refs, {r["utt"]: r["ps_hyp"] for r in results}, language)
        out["pocketsphinx"] = {k: v for k, v in scores.items() if k in ("wer", "word_errors", "ref_words", "num_utts")}
        for utt, row in scores["per_utt"].items():
            per_utt[utt]["pocketsphinx_hyp"] = row["hyp"]
    if flags.get("speaker_similarity"):
        sims = similarity_to_speakers({r["utt"]: r["spk_embed"] for r in results}, ref_embeds, utt2spk)
        out["speaker_similarity"] = {k: v for k, v in sims.items() if k != "per_utt"}
        for utt, value in sims["per_utt"].items():
            per_utt[utt]["speaker_similarity"] = round(value, 4)
    return out, per_utt


def scored_speakers(ref_data_dir, utts) -> tuple[dict[str, str], int]:
    """(utt2spk of the data dir, number of speakers among ``utts``); a scored utterance without
    a speaker is a DataError naming the file."""
    from pathlib import Path

    from pytorch_backend.errors import DataError
    from pytorch_backend.io.kaldi_map import read_kv

    path = Path(ref_data_dir) / "utt2spk"
    utt2spk = read_kv(path)
    for utt in utts:
        if utt not in utt2spk:
            raise DataError(path, "no speaker for a scored utterance", utt=utt)
    return utt2spk, len({utt2spk[u] for u in utts})


def scored_transcripts(flags: dict, asr_dir, ref_data_dir, utts, language: str) -> dict[str, str] | None:
    """The normalized reference texts of ``utts`` when a recognizer judges (None otherwise); a
    scored utterance without one is a DataError naming the ``text`` file (checked before scoring)."""
    from pathlib import Path

    from pytorch_backend.eval.cer import reference_texts

    if asr_dir is None and not flags.get("pocketsphinx"):
        return None
    return reference_texts(Path(ref_data_dir) / "text", utts, language)


def judge_set(results: list[dict], flags: dict, ref_data_dir, asr_dir=None, language: str = "en",
              utt2spk: dict | None = None) -> tuple[dict, dict]:
    """:func:`summarize_judges` of evaluation results: reads the references' ``text`` (for the
    recognizer and PocketSphinx) and runs the recognizer of ``asr_dir`` on each result's log-mel."""
    from pathlib import Path

    utts = [r["utt"] for r in results]
    asr_hyps = None
    refs = scored_transcripts(flags, asr_dir, ref_data_dir, utts, language)
    if asr_dir is not None:
        from pytorch_backend.asr.infer import Recognizer

        recognizer = Recognizer.load(Path(asr_dir) / "model.pt")
        asr_hyps = dict(zip(utts, recognizer.transcribe([r["feats"] for r in results])))
    ref_embeds = {r["utt"]: r["ref_spk_embed"] for r in results if "ref_spk_embed" in r}
    return summarize_judges(results, flags, refs=refs, asr_hyps=asr_hyps, ref_embeds=ref_embeds,
                            utt2spk=utt2spk, language=language)

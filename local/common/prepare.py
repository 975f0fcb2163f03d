"""Corpus records -> Kaldi data dirs ``<data_dir>/{train,dev,eval}/`` (the shared half of every
real-corpus preparation; the corpus half is ``local/<corpus>/corpus.py:collect``).

Steps: check the conf (``prep`` options of the recipe + the common ones below), collect the
records, keep the chosen speakers, map the corpus labels (``label_map``; a label mapped to null or
not mapped at all is dropped unless it already is an emotts label), drop empty texts, missing,
unreadable or empty audio, durations outside ``[min_duration, max_duration]`` and duplicate ids,
normalize the audio (:mod:`local.common.audio`), assign splits (the corpus's own or
:func:`local.common.splits.holdout`), write the data dirs (``wav.scp`` paths absolute and free of
whitespace: :mod:`local.common.paths`) and ``<data_dir>/prepare_summary.json``.
Every drop is counted per reason and logged.
"""

from __future__ import annotations

import collections
import copy
import json
import logging
from pathlib import Path

from local.common import audio as audiolib
from local.common.drops import Drops
from local.common.kaldi_ids import kaldi_id, keep_corpus_names
from local.common.paths import ScpPaths
from local.common.splits import holdout
from pytorch_backend.data.validate import unsafe_id_reason
from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.io.kaldi_map import spk2utt_from_utt2spk, write_kv
from pytorch_backend.utils.fileio import write_text_atomic

log = logging.getLogger("emotts.prepare")

SPLITS = ("train", "dev", "eval")
# prep options every real-corpus recipe accepts (a recipe adds its own in its PREP dict)
COMMON_PREP = {
    "download": None,  # read by steps/download_corpus.py (public corpora only)
    "split": {"mode": "holdout", "dev": 10, "eval": 10, "seed": 1},
    "speakers": None,  # null: all speakers; else the list to keep
    "min_duration": 0.0,  # seconds; shorter utterances are dropped
    "max_duration": None,  # seconds; longer utterances are dropped (null: no limit)
    "nj": 2,  # parallel audio conversion processes
}
SPLIT_KEYS = {"mode", "dev", "eval", "seed"}


def conf_source(conf: dict) -> str:
    return f"conf/corpus/{conf.get('name', '<corpus>')}.yaml"


def check_conf(conf: dict, recipe_prep: dict) -> dict:
    """The ``prep`` options with defaults filled in; unknown keys and bad values are ConfigErrors."""
    source = conf_source(conf)
    defaults = copy.deepcopy({**COMMON_PREP, **recipe_prep})
    prep = conf.get("prep") or {}
    for key in prep:
        if key not in defaults:
            raise ConfigError(source, f"unknown key (known keys: {', '.join(sorted(defaults))})",
                              key=f"prep.{key}")
    out = {**defaults, **copy.deepcopy(prep)}
    if isinstance(defaults["split"], dict):
        split = {**defaults["split"], **(prep.get("split") or {})}
        for key in split:
            if key not in SPLIT_KEYS:
                raise ConfigError(source, f"unknown key (known keys: {', '.join(sorted(SPLIT_KEYS))})",
                                  key=f"prep.split.{key}")
        if split["mode"] not in ("holdout", "official"):
            raise ConfigError(source, f"split mode must be holdout or official, got '{split['mode']}'",
                              key="prep.split.mode")
        for key in ("dev", "eval"):
            if isinstance(split[key], bool) or not isinstance(split[key], int) or split[key] < 0:
                raise ConfigError(source, f"must be a non-negative integer, got {split[key]!r}",
                                  key=f"prep.split.{key}")
        out["split"] = split
    emotions = conf.get("emotions") or ["neutral"]
    for label, target in (conf.get("label_map") or {}).items():
        if target is not None and target not in emotions:
            raise ConfigError(source, f"maps '{label}' to '{target}', which is not in emotions "
                              f"({', '.join(emotions)})", key=f"label_map.{label}")
    if conf.get("token_type") == "phn" and str(conf.get("language", "en")).lower().startswith("ja"):
        raise ConfigError(source, "eSpeak NG reads kanji as 'Chinese letter': no phoneme frontend for "
                          "Japanese; use token_type char or bpe", key="token_type")
    return out


def map_label(label: str, label_map: dict, emotions) -> tuple[str | None, str | None]:
    """(emotts label, None) or (None, drop reason)."""
    if label in label_map:
        target = label_map[label]
        return (target, None) if target is not None else (None, f"label '{label}' dropped by label_map")
    if label in emotions:
        return label, None
    return None, f"label '{label}' not in label_map"


def prepare_corpus(conf: dict, root, data_dir, collect, recipe_prep: dict, progress: bool = True) -> dict:
    """Run the whole preparation; returns the summary also written to ``prepare_summary.json``."""
    prep = check_conf(conf, recipe_prep)
    root = Path(root).resolve()
    data_dir = Path(data_dir)
    if not root.is_dir():
        raise DataError(root, "corpus directory not found (set root in " + conf_source(conf) + ")")
    fs = int(conf.get("fs", 22050))
    emotions = conf.get("emotions") or ["neutral"]
    label_map = conf.get("label_map") or {}
    drops = Drops()
    scp_paths = ScpPaths(data_dir)  # whitespace-free wav.scp paths (links under data_dir/links/)

    records = collect(conf, root, prep, drops)
    log.info("%s: the corpus lists %d utterance(s)", conf.get("name"), len(records))

    if prep["speakers"] is not None:
        wanted = {str(s) for s in prep["speakers"]}
        unknown = wanted - {r.speaker for r in records}
        if unknown:
            raise ConfigError(conf_source(conf), f"speakers not in the corpus: {', '.join(sorted(unknown))}",
                              key="prep.speakers")
        kept = []
        for r in records:
            if r.speaker in wanted:
                kept.append(r)
            else:
                drops.drop("speaker not selected", r.orig_id)
        records = kept

    keep = keep_corpus_names((r.speaker, r.orig_id) for r in records)
    utts: dict[str, dict] = {}
    for r in records:
        emotion, reason = map_label(r.label, label_map, emotions)
        if reason:
            drops.drop(reason, r.orig_id)
            continue
        text = " ".join(str(r.text).split())
        if not text:
            drops.drop("empty text", r.orig_id)
            continue
        utt = kaldi_id(r.speaker, r.orig_id, keep)
        bad = unsafe_id_reason(utt) or (" " in utt and "contains a space") or None
        if bad:
            drops.drop("unsafe id", f"{utt} ({bad})")
            continue
        if utt in utts:
            drops.drop("duplicate id", f"{utt} ({r.source})")
            continue
        info, reason = audiolib.probe(r.wav)
        if reason:
            drops.drop(reason.replace("_", " "), f"{r.orig_id} ({r.wav})")
            continue
        if info.frames <= 0:
            drops.drop("empty audio", f"{r.orig_id} ({r.wav})")
            continue
        duration = info.frames / info.samplerate
        if duration < float(prep["min_duration"]) or (
                prep["max_duration"] is not None and duration > float(prep["max_duration"])):
            drops.drop("duration out of range", f"{r.orig_id} ({duration:.2f} s)")
            continue
        convert = audiolib.needs_conversion(info, fs)
        utts[utt] = {"speaker": r.speaker, "text": text, "emotion": emotion, "split": r.split,
                     "src": r.wav.resolve(), "convert": convert,
                     "wav": (data_dir / "wav" / f"{utt}.wav").resolve() if convert else r.wav.resolve(),
                     "duration": duration}
        utts[utt]["scp"] = scp_paths(utts[utt]["wav"], utt)

    reused = 0
    for u in utts.values():  # a converted file newer than its source is kept from a previous run
        if u["convert"] and u["wav"].is_file() and u["wav"].stat().st_mtime >= u["src"].stat().st_mtime:
            info, reason = audiolib.probe(u["wav"])
            if reason is None and not audiolib.needs_conversion(info, fs) and info.frames > 0:
                u["convert"], u["duration"], reused = False, info.frames / fs, reused + 1
    if reused:
        log.info("reusing %d converted file(s) from a previous run", reused)
    jobs = [(u["src"], u["wav"]) for u in utts.values() if u["convert"]]
    results = audiolib.normalize_all(jobs, fs, nj=int(prep["nj"]), progress=progress)
    converted = [utt for utt, u in utts.items() if u["convert"]]
    for utt, (n_samples, error) in zip(converted, results):
        if error:
            drops.drop("audio conversion failed", f"{utt}: {error}")
            del utts[utt]
        else:
            utts[utt]["duration"] = n_samples / fs

    split_conf = prep["split"]
    if isinstance(split_conf, dict) and split_conf["mode"] == "holdout":
        assigned = holdout([(utt, u["speaker"], u["emotion"]) for utt, u in utts.items()],
                           split_conf["dev"], split_conf["eval"], split_conf["seed"])
        for utt, split in assigned.items():
            utts[utt]["split"] = split
    for utt in [utt for utt, u in utts.items() if u["split"] not in SPLITS]:
        drops.drop("no split", utt)
        del utts[utt]

    summary = {"corpus": conf.get("name"), "fs": fs, "converted_audio": len(jobs), "reused_audio": reused,
               "dropped": drops.as_dict(), "splits": {}}
    for split in SPLITS:
        part = {utt: u for utt, u in utts.items() if u["split"] == split}
        if not part:
            raise DataError(root, f"no utterance left for split '{split}' (see the dropped counts in "
                            "the log; check prep.split and prep.speakers)")
        out = data_dir / split
        write_kv(out / "wav.scp", {utt: u["scp"] for utt, u in part.items()})
        write_kv(out / "text", {utt: u["text"] for utt, u in part.items()})
        utt2spk = {utt: u["speaker"] for utt, u in part.items()}
        write_kv(out / "utt2spk", utt2spk)
        write_kv(out / "spk2utt", spk2utt_from_utt2spk(utt2spk))
        write_kv(out / "utt2emo", {utt: u["emotion"] for utt, u in part.items()})
        write_kv(out / "utt2dur", {utt: f"{u['duration']:.4f}" for utt, u in part.items()})
        seconds = sum(u["duration"] for u in part.values())
        summary["splits"][split] = {
            "utterances": len(part), "seconds": round(seconds, 3),
            "speakers": dict(sorted(collections.Counter(utt2spk.values()).items())),
            "emotions": dict(sorted(collections.Counter(u["emotion"] for u in part.values()).items())),
        }
        info = summary["splits"][split]
        log.info("%s: %d utterances, %.1f min, %d speaker(s); per emotion %s", split, len(part),
                 seconds / 60, len(info["speakers"]), info["emotions"])
    drops.report()
    write_text_atomic(data_dir / "prepare_summary.json",
                      json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return summary

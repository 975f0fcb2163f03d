"""Turn a generated espeak_emo corpus into Kaldi data dirs ``<data_dir>/{train,dev,eval}/``.

Each split gets ``wav.scp`` (absolute wav paths), ``text``, ``utt2spk``, ``spk2utt``,
``utt2emo`` and ``utt2dur`` (seconds), all sorted like ``LC_ALL=C sort`` and written atomically.
"""

from __future__ import annotations

import collections
import logging
from pathlib import Path

import soundfile as sf

from local.espeak_emo import plan as planlib
from pytorch_backend.errors import DataError
from pytorch_backend.io.kaldi_map import spk2utt_from_utt2spk, write_kv

log = logging.getLogger("emotts.espeak_emo")


def prepare_data_dirs(conf: dict, root, data_dir) -> dict[str, dict]:
    """Write the Kaldi data dirs; returns ``{split: {"utterances", "seconds", "speakers", "emotions"}}``."""
    planlib.check_conf(conf)
    root = Path(root).resolve()
    utts = planlib.read_metadata(conf, root)
    fs_expected = conf.get("fs", 22050)
    summary: dict[str, dict] = {}
    for split in planlib.SPLITS:
        part = [u for u in utts if u.split == split]
        if not part:
            raise DataError(root / planlib.METADATA_NAME, f"no utterance in split '{split}'")
        wav_scp, text, utt2spk, utt2emo, utt2dur = {}, {}, {}, {}, {}
        for utt in part:
            wav = planlib.wav_path(root, utt.utt_id)
            try:
                info = sf.info(str(wav))
            except RuntimeError as exc:
                raise DataError(wav, f"unreadable wav: {exc}", utt=utt.utt_id) from None
            if info.samplerate != fs_expected or info.channels != 1:
                raise DataError(wav, f"expected mono {fs_expected} Hz audio, got {info.channels} "
                                     f"channel(s) at {info.samplerate} Hz", utt=utt.utt_id)
            wav_scp[utt.utt_id] = str(wav)
            text[utt.utt_id] = utt.text
            utt2spk[utt.utt_id] = utt.speaker
            utt2emo[utt.utt_id] = utt.emotion
            utt2dur[utt.utt_id] = f"{info.frames / info.samplerate:.4f}"
        out = Path(data_dir) / split
        write_kv(out / "wav.scp", wav_scp)
        write_kv(out / "text", text)
        write_kv(out / "utt2spk", utt2spk)
        write_kv(out / "spk2utt", spk2utt_from_utt2spk(utt2spk))
        write_kv(out / "utt2emo", utt2emo)
        write_kv(out / "utt2dur", utt2dur)
        seconds = sum(float(d) for d in utt2dur.values())
        summary[split] = {
            "utterances": len(part),
            "seconds": round(seconds, 3),
            "speakers": dict(sorted(collections.Counter(utt2spk.values()).items())),
            "emotions": dict(sorted(collections.Counter(utt2emo.values()).items())),
        }
        log.info("%s: %d utterances, %.1f min; per speaker %s; per emotion %s", split, len(part),
                 seconds / 60, summary[split]["speakers"], summary[split]["emotions"])
    return summary

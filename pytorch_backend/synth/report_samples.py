"""The fixed sample set of an experiment for the report, through the one synthesis function.

For a few eval sentences per emotion (the same sentences in every emotion where the corpus
has them, so a listener compares like with like) it writes, under ``out``::

    real/<emotion>/<sentence>.wav             the real recording (at the model's rate)
    floor/<vocoder>/<emotion>/<sentence>.wav  the analysis-synthesis floor (real mels -> vocoder)
    synth/<vocoder>/<emotion>/<sentence>.wav  the model's synthesis of the sentence's text,
                                              the recording's speaker, that emotion
    sweep/<vocoder>/<emotion>/<level>/s1.wav  intensity 0 / 0.5 / 1 of each non-neutral emotion
                                              (the first sentence, the default vocoder)
    mels/<emotion>_<sentence>.png             real vs synthesized log-mel
    samples.json                              what each file is (written last)

Sentences are named ``s1``, ``s2``, ... by their rank; ``samples.json`` holds their texts and
the utterance each recording is. Synthesis is ``Synthesizer.synthesize`` (batched, seeded):
the same request gives the same sample the demo server and the command line give.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np

from pytorch_backend.errors import DataError
from pytorch_backend.synth.synthesizer import Request
from pytorch_backend.utils.fileio import write_text_atomic

log = logging.getLogger("emotts.report")

LEVELS = (0.0, 0.5, 1.0)


def level_name(level: float) -> str:
    return f"{float(level):g}"


def choose_sentences(data_dir, emotions: list[str], per_emotion: int = 2, sayable=None) -> list[dict]:
    """The fixed set: ``per_emotion`` eval utterances of each emotion, preferring texts spoken in
    every emotion (then in most), earliest utterance id first; deterministic for a data dir.
    ``sayable(text) -> bool`` ranks texts the model can say in full before those with symbols
    its train-set token list lacks (a small corpus's eval split can hold phones train never had;
    those are said with ``<unk>``, as decoding the split does), with a warning.
    Returns [{sentence, emotion, utt, text, speaker}] (``sentence``: s1, s2, ... by text)."""
    from pytorch_backend.io.kaldi_map import c_sorted, read_kv

    data_dir = Path(data_dir)
    text = read_kv(data_dir / "text")
    utt2emo = read_kv(data_dir / "utt2emo")
    utt2spk = read_kv(data_dir / "utt2spk")
    for name, mapping in (("utt2emo", utt2emo), ("utt2spk", utt2spk)):
        missing = [u for u in text if u not in mapping]
        if missing:
            raise DataError(data_dir / name, "no entry for an utterance of text", utt=missing[0])
    by_text: dict[str, list[str]] = {}
    for utt in c_sorted(text):
        by_text.setdefault(" ".join(text[utt].split()).lower(), []).append(utt)
    # texts spoken in the most emotions first, then by their first utterance id
    ranked = sorted(by_text, key=lambda t: (-len({utt2emo[u] for u in by_text[t]}), by_text[t][0].encode()))
    if sayable is not None:
        unsayable = [t for t in ranked if not sayable(text[by_text[t][0]])]
        if unsayable:
            log.warning("%s: %d of %d eval texts hold symbols outside the model's token list: chosen only "
                        "where too few others are, said with <unk> (first: utterance %s)", data_dir / "text",
                        len(unsayable), len(ranked), by_text[unsayable[0]][0])
        ranked = [t for t in ranked if t not in set(unsayable)] + unsayable
    rank = {t: i for i, t in enumerate(ranked)}
    chosen = []
    for emotion in emotions:
        picked = []
        for t in ranked:
            utts = [u for u in by_text[t] if utt2emo[u] == emotion]
            if utts:
                picked.append((t, utts[0]))
            if len(picked) == per_emotion:
                break
        if not picked:
            log.warning("no eval utterance of emotion '%s' in %s: no samples of it", emotion, data_dir)
        for t, utt in picked:
            chosen.append({"sentence": f"s{rank[t] + 1}", "emotion": emotion, "utt": utt, "text": text[utt],
                           "speaker": utt2spk[utt]})
    # renumber the sentences used 1..K in rank order, so names are short and stable
    used = sorted({c["sentence"] for c in chosen}, key=lambda s: int(s[1:]))
    names = {s: f"s{i + 1}" for i, s in enumerate(used)}
    for c in chosen:
        c["sentence"] = names[c["sentence"]]
    return chosen


def _write_wav(path: Path, wav: np.ndarray, fs: int) -> None:
    import soundfile as sf

    from pytorch_backend.utils.fileio import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".wav") as tmp:
        sf.write(str(tmp), np.clip(np.asarray(wav, dtype=np.float32), -1.0, 1.0), int(fs), format="WAV",
                 subtype="PCM_16")


def collect_samples(synth, data_dir, out_dir, vocoders: list[str] | None = None, floors: dict | None = None,
                    per_emotion: int = 2, levels=LEVELS, sweep_vocoder: str | None = None,
                    allow_pipes: bool = False) -> dict:
    """Write the sample set of ``synth`` (see the module docstring); returns samples.json."""
    from pytorch_backend.feats.audio import load_audio
    from pytorch_backend.feats.logmel import LogMelExtractor
    from pytorch_backend.io.kaldi_map import read_kv
    from pytorch_backend.plots.mel import plot_mels

    data_dir, out = Path(data_dir), Path(out_dir)
    vocoders = list(vocoders or [synth.vocoder_name])
    sweep_vocoder = sweep_vocoder or vocoders[0]
    floors = dict(floors or {})
    for sub in ("real", "floor", "synth", "sweep", "mels"):
        shutil.rmtree(out / sub, ignore_errors=True)
    (out / "samples.json").unlink(missing_ok=True)
    chosen = choose_sentences(data_dir, synth.emotions, per_emotion,
                              sayable=lambda t: not synth.unknown_tokens(t))
    if not chosen:
        raise DataError(data_dir / "text", "no eval utterance to take samples of")
    fs = synth.sample_rate
    wav_scp = read_kv(data_dir / "wav.scp")
    extractor = LogMelExtractor.from_conf(synth.feats_conf)
    common = {"exp": synth.assets.exp, "backend": synth.model_name}
    entries = []

    def add(rel: str, wav, kind: str, c: dict, **extra) -> None:
        _write_wav(out / rel, wav, fs)
        entries.append({"path": rel, "kind": kind, "emotion": c["emotion"], "sentence": c["sentence"],
                        "text": c["text"], "utt": c["utt"], "speaker": c["speaker"],
                        "seconds": round(len(wav) / fs, 3), **common, **extra})

    real_mels = {}
    for c in chosen:
        if c["utt"] not in wav_scp:
            raise DataError(data_dir / "wav.scp", "no entry for a chosen utterance", utt=c["utt"])
        wav = load_audio(wav_scp[c["utt"]], fs, resample=True, allow_pipes=allow_pipes,
                         source=data_dir / "wav.scp", utt=c["utt"])
        wav = extractor.trim(wav)
        real_mels[(c["emotion"], c["sentence"])] = extractor(wav)
        add(f"real/{c['emotion']}/{c['sentence']}.wav", wav, "real", c, vocoder=None, intensity=None)
    for voc, scp in floors.items():
        table = read_kv(scp)
        for c in chosen:
            if c["utt"] not in table:
                log.warning("%s: no floor wav of %s", scp, c["utt"])
                continue
            wav = load_audio(table[c["utt"]], fs, resample=True, source=scp, utt=c["utt"])
            add(f"floor/{voc}/{c['emotion']}/{c['sentence']}.wav", wav, "floor", c, vocoder=voc, intensity=None)

    def speaker_of(c):
        return c["speaker"] if c["speaker"] in synth.speakers else None

    requests = [Request(c["text"], emotion=c["emotion"], intensity=1.0, speaker=speaker_of(c),
                        id=f"{c['emotion']}_{c['sentence']}", source=f"{data_dir / 'text'} ({c['utt']})")
                for c in chosen]
    first = {}
    for c in chosen:
        first.setdefault(c["emotion"], c)
    sweep = [(c, float(level)) for e, c in first.items() if e != synth.neutral for level in levels]
    sweep_requests = [Request(c["text"], emotion=c["emotion"], intensity=level, speaker=speaker_of(c),
                              source=f"{data_dir / 'text'} ({c['utt']})") for c, level in sweep]
    for voc in vocoders:
        results = synth.synthesize(requests + (sweep_requests if voc == sweep_vocoder else []), vocoder=voc,
                                   unknown="unk")
        for c, res in zip(chosen, results[:len(chosen)]):
            add(f"synth/{voc}/{c['emotion']}/{c['sentence']}.wav", res.wav, "synth", c, vocoder=voc, intensity=1.0,
                soft_label=res.sentences[0]["soft_label"] if res.sentences else None)
            if voc == sweep_vocoder:
                mel = np.concatenate(res.mels, axis=0) if res.mels else np.zeros((1, extractor.n_mels), np.float32)
                key = (c["emotion"], c["sentence"])
                png = out / "mels" / f"{c['emotion']}_{c['sentence']}.png"
                png.parent.mkdir(parents=True, exist_ok=True)
                plot_mels([("real recording", real_mels[key]), (f"{synth.model_name} ({voc})", mel)], png,
                          title=f"{c['emotion']}, {c['sentence']}: {c['text']}"[:90])
        for (c, level), res in zip(sweep, results[len(chosen):]):
            add(f"sweep/{voc}/{c['emotion']}/{level_name(level)}/{c['sentence']}.wav", res.wav, "sweep", c,
                vocoder=voc, intensity=level,
                soft_label=res.sentences[0]["soft_label"] if res.sentences else None)
    sentences = {}
    for c in chosen:
        sentences.setdefault(c["sentence"], c["text"])
    record = {"format": "emotts-samples", "version": 1, "exp": synth.assets.exp, "backend": synth.model_name,
              "sample_rate": fs, "emotions": synth.emotions, "neutral": synth.neutral, "vocoders": vocoders,
              "sweep_vocoder": sweep_vocoder, "levels": [float(x) for x in levels],
              "sentences": sentences, "chosen": chosen, "samples": entries,
              "mels": sorted(p.name for p in (out / "mels").glob("*.png"))}
    write_text_atomic(out / "samples.json", json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    log.info("%d samples of %d sentence(s) x %d emotion(s) -> %s", len(entries), len(sentences),
             len({c['emotion'] for c in chosen}), out)
    return record

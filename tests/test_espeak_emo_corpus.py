"""Tests of the embedded eSpeak NG emotional corpus (local/espeak_emo/)."""

from __future__ import annotations

import collections
import copy
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espeak_fixtures import median_f0, rms
from local.espeak_emo import plan as planlib
from local.espeak_emo.generator import generate_corpus
from local.espeak_emo.prosody import EMOTIONS, SPEAKERS, synthesis_settings
from local.espeak_emo.sentences import SENTENCES
from local.espeak_emo.to_kaldi import prepare_data_dirs
from pipeline.resolve import load_corpus_conf
from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.io.kaldi_map import c_sorted, read_kv
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent
EMOS = ["neutral", "happy", "sad", "angry", "surprise"]
TINY = {
    "name": "espeak_emo",
    "fs": 22050,
    "emotions": EMOS,
    "prep": {"num_sentences": 6, "emotions_per_sentence": 5, "speakers": ["m3", "f1"], "seed": 7,
             "dev_sentences": 1, "eval_sentences": 1, "num_workers": 2},
}
FILES = ("wav.scp", "text", "utt2spk", "spk2utt", "utt2emo", "utt2dur")


def tiny(**prep) -> dict:
    conf = copy.deepcopy(TINY)
    conf["prep"].update(prep)
    return conf


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("espeak_emo") / "corpus"
    stats = generate_corpus(tiny(), root, progress=False)
    return root, stats


@pytest.fixture(scope="module")
def data_dir(corpus, tmp_path_factory):
    root, _ = corpus
    out = tmp_path_factory.mktemp("data") / "espeak_emo"
    summary = prepare_data_dirs(tiny(), root, out)
    return out, summary


def metadata_rows(root) -> list[list[str]]:
    lines = (Path(root) / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines]


def copy_corpus(root: Path, dest: Path) -> Path:
    (dest / "wav").mkdir(parents=True)
    for wav in (root / "wav").glob("*.wav"):
        os.link(wav, dest / "wav" / wav.name)
    (dest / "metadata.tsv").write_bytes((root / "metadata.tsv").read_bytes())
    return dest


# --- generation ---------------------------------------------------------------------------------

def test_generation_is_deterministic(corpus, tmp_path):
    root, stats = corpus
    assert stats["utterances"] == 30 and stats["reused"] == 0
    other = tmp_path / "again"
    generate_corpus(tiny(num_workers=1), other, progress=False)  # other worker count, same bytes
    names = sorted(p.name for p in (root / "wav").glob("*.wav"))
    assert names == sorted(p.name for p in (other / "wav").glob("*.wav")) and len(names) == 30
    for name in names:
        assert (root / "wav" / name).read_bytes() == (other / "wav" / name).read_bytes(), name
    for name in ("metadata.tsv", "README.txt"):
        assert (root / name).read_bytes() == (other / name).read_bytes()
    different = tmp_path / "seed8"
    generate_corpus(tiny(seed=8), different, progress=False)
    assert (different / "metadata.tsv").read_bytes() != (root / "metadata.tsv").read_bytes()


def test_layout_speakers_emotions_and_format(corpus):
    root, _ = corpus
    rows = metadata_rows(root)
    assert tuple(rows[0]) == planlib.METADATA_HEADER
    body = rows[1:]
    assert [r[0] for r in body] == c_sorted(r[0] for r in body)
    assert {r[1] for r in body} == {"m3", "f1"}
    assert {r[2] for r in body} == set(EMOS)
    for utt, spk, emo, sid, split, text in body:
        assert utt == f"{spk}_{emo}_{sid}"
        assert text == SENTENCES[int(sid[1:])]
        info = sf.info(str(root / "wav" / f"{utt}.wav"))
        assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
        assert 0.5 < info.duration < 10
    # eval and dev sentences are spoken in every emotion (balanced); each sentence by one speaker
    per_split = collections.Counter((r[4], r[2]) for r in body)
    assert all(per_split[("eval", e)] == 1 and per_split[("dev", e)] == 1 for e in EMOS)
    speakers_of = collections.defaultdict(set)
    for r in body:
        speakers_of[r[3]].add(r[1])
    assert all(len(s) == 1 for s in speakers_of.values())
    readme = (root / "README.txt").read_text()
    assert "30 utterances" in readme and "surprise" in readme and "en-us+m3" in readme
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_rerun_reuses_identical_wavs_and_repairs_a_bad_one(tmp_path):
    conf = tiny(num_sentences=4, dev_sentences=1, eval_sentences=1, emotions_per_sentence=1)
    root = tmp_path / "c"
    first = generate_corpus(conf, root, progress=False)
    wavs = sorted((root / "wav").glob("*.wav"))
    good = wavs[0].read_bytes()
    wavs[0].write_bytes(good[: len(good) // 2])  # a damaged file
    (root / "metadata.tsv").unlink()  # as if interrupted before the end
    second = generate_corpus(conf, root, progress=False)
    assert second["utterances"] == first["utterances"] == len(wavs)
    assert second["reused"] == len(wavs) - 1
    assert wavs[0].read_bytes() == good
    assert (root / "metadata.tsv").is_file()


def test_plan_rotation_and_balance():
    conf = tiny(num_sentences=40, emotions_per_sentence=2, speakers=["m1", "m3", "m7", "f4"],
                dev_sentences=4, eval_sentences=8)
    utts = planlib.plan_corpus(conf)
    train = [u for u in utts if u.split == "train"]
    assert len(train) == 28 * 2
    counts = collections.Counter(u.emotion for u in train)
    assert max(counts.values()) - min(counts.values()) <= 2 and set(counts) == set(EMOS)
    evals = [u for u in utts if u.split == "eval"]
    assert collections.Counter(u.emotion for u in evals) == {e: 8 for e in EMOS}
    assert collections.Counter(u.speaker for u in evals) == {s: 10 for s in ["m1", "m3", "m7", "f4"]}
    sentences = {split: {u.sentence_id for u in utts if u.split == split} for split in planlib.SPLITS}
    assert not sentences["train"] & (sentences["dev"] | sentences["eval"])
    assert not sentences["dev"] & sentences["eval"]
    assert planlib.plan_corpus(conf) == utts


# --- prosody ------------------------------------------------------------------------------------

def test_prosody_table_changes_duration_f0_and_level(corpus):
    root, _ = corpus
    body = metadata_rows(root)[1:]
    by_sentence = collections.defaultdict(dict)
    for utt, spk, emo, sid, split, text in body:
        by_sentence[sid][emo] = root / "wav" / f"{utt}.wav"
    for sid in sorted(by_sentence)[:2]:
        audio = {e: sf.read(str(p), dtype="int16") for e, p in by_sentence[sid].items()}
        dur = {e: a.size / fs for e, (a, fs) in audio.items()}
        f0 = {e: median_f0(a, fs) for e, (a, fs) in audio.items()}
        level = {e: rms(a) for e, (a, fs) in audio.items()}
        assert dur["sad"] > 1.4 * dur["angry"], (sid, dur)
        assert dur["sad"] > dur["neutral"] > dur["angry"]
        assert dur["surprise"] > dur["happy"]
        assert f0["sad"] < f0["neutral"] < f0["angry"], (sid, f0)
        assert f0["happy"] > 1.15 * f0["neutral"] and f0["surprise"] > 1.15 * f0["neutral"]
        assert level["sad"] < level["neutral"] < level["angry"], (sid, level)


def test_speaker_and_emotion_are_separate_factors():
    for speaker in SPEAKERS:
        sad, angry = synthesis_settings(speaker, "sad"), synthesis_settings(speaker, "angry")
        assert sad["voice"] == angry["voice"] == SPEAKERS[speaker]["voice"]
        assert sad["rate"] < angry["rate"] and sad["pitch"] < angry["pitch"]
    assert len({s["pitch"] for s in SPEAKERS.values()}) == len(SPEAKERS) >= 4
    assert not any(s["voice"].split("+")[1] in ("f2", "f3", "f5") for s in SPEAKERS.values())
    assert set(EMOTIONS) >= set(EMOS)


# --- Kaldi data dirs ----------------------------------------------------------------------------

def test_data_dirs_agree_and_are_sorted(corpus, data_dir):
    root, _ = corpus
    out, summary = data_dir
    ids_by_split = {}
    for split in planlib.SPLITS:
        maps = {name: read_kv(out / split / name) for name in FILES}
        ids = list(maps["wav.scp"])
        assert ids == c_sorted(ids)
        for name in ("text", "utt2spk", "utt2emo", "utt2dur"):
            assert list(maps[name]) == ids, (split, name)
        spk2utt = maps["spk2utt"]
        assert list(spk2utt) == c_sorted(spk2utt)
        assert sorted(u for v in spk2utt.values() for u in v.split()) == sorted(ids)
        for utt in ids:
            path = Path(maps["wav.scp"][utt])
            assert path.is_absolute() and path == (root / "wav" / f"{utt}.wav").resolve()
            assert utt.startswith(maps["utt2spk"][utt] + "_")
            assert maps["utt2emo"][utt] in EMOS
            assert abs(float(maps["utt2dur"][utt]) - sf.info(str(path)).duration) < 1e-3
        ids_by_split[split] = maps
        assert summary[split]["utterances"] == len(ids)
    texts = {split: set(m["text"].values()) for split, m in ids_by_split.items()}
    assert not texts["train"] & (texts["dev"] | texts["eval"])
    assert summary["eval"]["emotions"] == {e: 1 for e in sorted(EMOS)}


# --- errors -------------------------------------------------------------------------------------

def test_missing_root_and_metadata(tmp_path):
    with pytest.raises(DataError, match=r"nowhere.*not found.*generate\.py"):
        prepare_data_dirs(tiny(), tmp_path / "nowhere", tmp_path / "data")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty/metadata\.tsv: corpus metadata not found"):
        prepare_data_dirs(tiny(), tmp_path / "empty", tmp_path / "data")


def test_unknown_emotion_in_metadata_names_file_and_line(corpus, tmp_path):
    root = copy_corpus(corpus[0], tmp_path / "c")
    rows = metadata_rows(root)
    rows[3][2] = "bored"  # line 4 of the file
    (root / "metadata.tsv").write_text("".join("\t".join(r) + "\n" for r in rows))
    with pytest.raises(DataError, match=r"metadata\.tsv:4 \(utterance \S+\): emotion 'bored' is not"):
        prepare_data_dirs(tiny(), root, tmp_path / "data")
    assert not (tmp_path / "data").exists()  # nothing written for a bad corpus


def test_missing_wav_names_file_and_line(corpus, tmp_path):
    root = copy_corpus(corpus[0], tmp_path / "c")
    victim = metadata_rows(root)[5][0]
    (root / "wav" / f"{victim}.wav").unlink()
    with pytest.raises(DataError, match=rf"metadata\.tsv:6 \(utterance {victim}\): wav file .*{victim}"
                                        rf"\.wav listed here does not exist"):
        prepare_data_dirs(tiny(), root, tmp_path / "data")


def test_sentence_shared_between_splits_is_an_error(corpus, tmp_path):
    root = copy_corpus(corpus[0], tmp_path / "c")
    rows = metadata_rows(root)
    target = next(i for i, r in enumerate(rows) if i and r[4] == "train")
    rows[target][4] = "eval"
    (root / "metadata.tsv").write_text("".join("\t".join(r) + "\n" for r in rows))
    with pytest.raises(DataError, match=r"metadata\.tsv:\d+ .*splits must not share sentences"):
        prepare_data_dirs(tiny(), root, tmp_path / "data")


@pytest.mark.parametrize("prep, key, message", [
    ({"bogus": 1}, "prep.bogus", "unknown key"),
    ({"num_workers": 0}, "prep.num_workers", "between 1 and 64"),
    ({"speakers": ["m3", "f2"]}, "prep.speakers", "unknown speaker"),
    ({"num_sentences": 5000}, "prep.num_sentences", "between 3 and"),
    ({"dev_sentences": 3, "eval_sentences": 3}, "prep.num_sentences", "leave train sentences"),
    ({"seed": "one"}, "prep.seed", "must be an integer"),
])
def test_bad_prep_is_a_config_error_naming_the_key(prep, key, message, tmp_path):
    with pytest.raises(ConfigError, match=rf"conf/corpus/espeak_emo\.yaml: key '{key}': .*{message}"):
        generate_corpus(tiny(**prep), tmp_path / "c", progress=False)
    assert not (tmp_path / "c").exists()


def test_emotion_without_prosody_is_a_config_error():
    conf = tiny()
    conf["emotions"] = ["neutral", "bored"]
    with pytest.raises(ConfigError, match=r"key 'emotions': no prosody for \['bored'\]"):
        planlib.check_conf(conf)


def test_cli_reports_errors_in_one_line(tmp_path):
    import json

    cmd = [sys.executable, "-m", "local.prepare", "--recipe", "espeak_emo", "--conf", json.dumps(tiny()),
           "--root", str(tmp_path / "nowhere"), "--data-dir", str(tmp_path / "data")]
    res = run_in_group(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 1
    assert f"ERROR: {tmp_path / 'nowhere'}: espeak_emo corpus directory not found" in res.stderr
    bad = tiny(bogus=3)
    cmd = [sys.executable, str(REPO / "local/espeak_emo/generate.py"), "--conf", json.dumps(bad),
           "--root", str(tmp_path / "c")]
    res = run_in_group(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "key 'prep.bogus': unknown key" in res.stderr


# --- the shipped conf and sentences -------------------------------------------------------------

def test_shipped_conf_and_sentences():
    conf = load_corpus_conf(REPO / "conf", "espeak_emo")
    prep = planlib.check_conf(conf)
    assert conf["emotions"] == EMOS and conf["fs"] == 22050 and conf["recipe"] == "espeak_emo"
    assert len(prep["speakers"]) >= 4
    utts = planlib.plan_corpus(conf)
    assert len({u.sentence_id for u in utts}) == prep["num_sentences"] >= 150
    assert len(utts) == prep["num_sentences"] * 5
    assert len(set(SENTENCES)) == len(SENTENCES) >= 150
    assert all(5 <= len(s.split()) <= 12 for s in SENTENCES)
    assert np.mean([s.count(",") for s in SENTENCES]) < 0.2  # plain sentences

"""Running a real-corpus preparation on its fixture and checking the result against ``Expected``."""

from __future__ import annotations

import importlib
from pathlib import Path

import soundfile as sf

from local.common.prepare import prepare_corpus
from pipeline.resolve import load_corpus_conf
from pytorch_backend.config import deep_merge
from pytorch_backend.data.validate import validate_data_dir
from pytorch_backend.io.kaldi_map import read_kv
from tests.corpus_fixtures import make

REPO = Path(__file__).resolve().parents[2]
SPLITS = ("train", "dev", "eval")


def corpus_conf(name: str, expected, **overrides) -> dict:
    """The repository's conf of ``name`` pointed at the fixture, with the fixture's prep options."""
    conf = load_corpus_conf(REPO / "conf", name)
    conf = deep_merge(conf, {"root": str(expected.root), "prep": {"nj": 1}})
    conf = deep_merge(conf, {"prep": expected.prep, **expected.conf})
    return deep_merge(conf, overrides)


def run(name: str, tmp_path, **overrides):
    """Make the fixture, prepare it; return (summary, data_dir, expected, conf)."""
    expected = make(name, tmp_path / "corpus")
    conf = corpus_conf(name, expected, **overrides)
    corpus = importlib.import_module(f"local.{conf['recipe']}.corpus")
    data_dir = tmp_path / "data" / name
    summary = prepare_corpus(conf, expected.root, data_dir, corpus.collect, corpus.PREP, progress=False)
    return summary, data_dir, expected, conf


def read_dirs(data_dir) -> dict:
    """``{utt: {"split", "speaker", "text", "emotion", "wav", "dur"}}`` over the three splits."""
    out = {}
    for split in SPLITS:
        d = Path(data_dir) / split
        text, spk, emo = read_kv(d / "text"), read_kv(d / "utt2spk"), read_kv(d / "utt2emo")
        wav, dur = read_kv(d / "wav.scp"), read_kv(d / "utt2dur")
        for utt in spk:
            out[utt] = {"split": split, "speaker": spk[utt], "text": text[utt], "emotion": emo[utt],
                        "wav": wav[utt], "dur": float(dur[utt])}
    return out


def check_prepared(name: str, tmp_path, **overrides):
    """Prepare the fixture, validate every split, compare with ``Expected``; return the pieces."""
    summary, data_dir, expected, conf = run(name, tmp_path, **overrides)
    for split in SPLITS:
        report = validate_data_dir(data_dir / split, conf["emotions"], check_audio=True)
        assert report["utterances"] == summary["splits"][split]["utterances"] > 0
    got = read_dirs(data_dir)
    assert sorted(got) == sorted(expected.utts), "utterance ids differ"
    for utt, (speaker, text, emotion) in expected.utts.items():
        assert (got[utt]["speaker"], got[utt]["text"], got[utt]["emotion"]) == (speaker, text, emotion), utt
    assert summary["dropped"] == expected.drops
    for utt, split in expected.splits.items():
        assert got[utt]["split"] == split, utt
    fs = int(conf["fs"])
    for utt, row in got.items():
        info = sf.info(row["wav"])
        assert (info.samplerate, info.channels, info.subtype) == (fs, 1, "PCM_16"), utt
        assert abs(row["dur"] - info.frames / fs) < 1e-3, utt
    return summary, data_dir, expected, got

"""Streaming training data: the lazy ark/scp reads (pytorch_backend/data/feats_table.py) and the
TTS, vocoder and emotion-classifier datasets built on them give exactly the items that
preloading gives, and bad entries fail with the scp line and utterance named."""

from __future__ import annotations

import shutil
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch
from feats_fixtures import vowel, write_wav
from prosody_fixtures import add_prosody
from tts_fixtures import EMOTIONS, SPEAKERS
from tts_fixtures import make_corpus as make_tts_corpus
from vocoder_fixtures import FEATS, HOP
from vocoder_fixtures import make_corpus as make_voc_corpus

from pytorch_backend.data.feats_table import FeatsTable, probe
from pytorch_backend.data.tts_dataset import TTSDataset, collate
from pytorch_backend.errors import DataError
from pytorch_backend.feats.dump import dump_feats
from pytorch_backend.feats.stats import load_stats
from pytorch_backend.ser.data import LazyFeats, load_labelled_set
from pytorch_backend.vocoders.data import SegmentData


# -- the scp table ------------------------------------------------------------------------------
@pytest.fixture()
def mixed_scp(tmp_path):
    """An scp over float32/float64 matrices, a vector, a compressed matrix and a row range."""
    rng = np.random.default_rng(0)
    mats = {"u1": rng.standard_normal((7, 3)).astype(np.float32),
            "u2": rng.standard_normal((5, 3)),  # float64: a DM object
            "u3": rng.standard_normal(9).astype(np.float32)}
    ark, scp = tmp_path / "a.ark", tmp_path / "a.scp"
    kaldiio.save_ark(str(ark), mats, scp=str(scp))
    kaldiio.save_ark(str(tmp_path / "c.ark"), {"u4": mats["u1"]}, scp=str(tmp_path / "c.scp"),
                     compression_method=2)
    lines = scp.read_text().splitlines()
    ranged = lines[0].split()[1] + "[2:4]"  # kaldiio's end-inclusive row range
    scp.write_text("\n".join(lines + [(tmp_path / "c.scp").read_text().strip(), f"u5 {ranged}"]) + "\n")
    return scp, mats


def test_table_shapes_come_from_headers_and_rows_match_whole_loads(mixed_scp):
    scp, mats = mixed_scp
    table = FeatsTable(scp)
    assert table.utts() == ["u1", "u2", "u3", "u4", "u5"] and len(table) == 5
    assert table.shape("u1") == (7, 3) and table.shape("u2") == (5, 3) and table.shape("u3") == (9,)
    assert table.shape("u4") == (7, 3) and table.shape("u5") == (3, 3)  # loaded: no plain header
    assert probe(table.spec("u1")) is not None and probe(table.spec("u4")) is None
    assert probe(table.spec("u5")) is None
    np.testing.assert_array_equal(table.load("u2"), mats["u2"].astype(np.float32))
    for utt in table.utts():
        whole = table.load(utt)
        assert whole.dtype == np.float32
        for a, b in ((0, 2), (1, 4), (3, 100), (6, 7)):
            part = table.rows(utt, a, b)
            np.testing.assert_array_equal(part, whole[a:b])
            assert part.dtype == np.float32 and part.flags.writeable


def test_table_errors_name_the_scp_line_and_utterance(tmp_path):
    mats = {"a": np.zeros((4, 2), np.float32), "b": np.ones((6, 2), np.float32)}
    ark, scp = tmp_path / "f.ark", tmp_path / "f.scp"
    kaldiio.save_ark(str(ark), mats, scp=str(scp))
    with open(ark, "r+b") as fh:  # cut the last matrix short
        fh.truncate(ark.stat().st_size - 8)
    table = FeatsTable(scp)
    assert table.shape("a") == (4, 2)
    with pytest.raises(DataError, match=r"f\.scp:2 \(utterance b\): cannot read features .*truncated"):
        table.shape("b")
    scp.write_text(scp.read_text() + scp.read_text().splitlines()[0] + "\n")
    with pytest.raises(DataError, match=r"f\.scp:3 \(utterance a\): duplicate id 'a' \(first on line 1\)"):
        FeatsTable(scp)
    with pytest.raises(DataError, match=r"nope\.scp: file not found"):
        FeatsTable(tmp_path / "nope.scp")


# -- the TTS dataset ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tts_corpus(tmp_path_factory):
    return add_prosody(make_tts_corpus(tmp_path_factory.mktemp("tts"), sentences={"train": 3, "dev": 1}))


def _tts(c, **kw):
    return TTSDataset(c["data_root"] / "train", c["tokens"] / "train" / "text_tokens", c["tokens"] / "token_list",
                      SPEAKERS, EMOTIONS, feats_scp=c["dump"] / "train" / "feats.scp",
                      stats=c["dump"] / "stats.npz", **kw)


def test_streaming_tts_dataset_gives_the_preloaded_items(tts_corpus):
    lazy, eager = _tts(tts_corpus, with_prosody=True), _tts(tts_corpus, with_prosody=True, preload=True)
    assert not lazy._cache and not lazy._prosody_cache  # nothing of the data held
    assert len(eager._cache) == len(eager) == len(lazy) == 18
    assert lazy.lengths == eager.lengths and lazy.utts == eager.utts
    for i in range(len(lazy)):
        a, b = lazy[i], eager[i]
        assert a.keys() == b.keys() == {"utt", "tokens", "speaker", "emotion", "mel", "pitch", "energy", "voiced"}
        for key in a:
            if isinstance(a[key], torch.Tensor):
                assert torch.equal(a[key], b[key]), (i, key)
            else:
                assert a[key] == b[key]
        assert a["mel"].shape[0] == lazy.lengths[i]
    ba, bb = collate([lazy[i] for i in (0, 7, 17)], 2), collate([eager[i] for i in (0, 7, 17)], 2)
    for key in ba:
        assert torch.equal(ba[key], bb[key]) if isinstance(ba[key], torch.Tensor) else ba[key] == bb[key]


def test_streaming_tts_dataset_needs_no_utt2num_frames(tts_corpus, tmp_path):
    root = tmp_path / "copy"
    base = tts_corpus["data_root"].parent.parent
    shutil.copytree(base, root)
    c = {k: root / Path(v).relative_to(base) for k, v in tts_corpus.items()}
    for scp in (c["dump"] / "train").glob("*.scp"):
        scp.write_text(scp.read_text().replace(str(tts_corpus["dump"]), str(c["dump"])))
    (c["dump"] / "train" / "utt2num_frames").write_text("garbage\n")  # not read any more
    assert _tts(c).lengths == _tts(tts_corpus, preload=True).lengths


# -- the vocoder's segments ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def voc_corpus(tmp_path_factory):
    return make_voc_corpus(tmp_path_factory.mktemp("voc"))


def _same_segments(lazy: SegmentData, eager: SegmentData) -> None:
    assert lazy.utts == eager.utts and lazy.frames == eager.frames
    assert len(lazy.mels) == len(eager.mels) == len(lazy)
    for i in range(len(lazy)):
        np.testing.assert_array_equal(lazy.mels[i], eager.mels[i])
        np.testing.assert_array_equal(lazy.wavs[i], eager.wavs[i])
        assert len(lazy.wavs[i]) == lazy.frames[i] * HOP
    for seed in range(4):
        for frames in (4, 9, 400):  # 400: past every utterance's end (padding)
            ma, wa = lazy.batch(np.random.default_rng(seed), 3, frames)
            mb, wb = eager.batch(np.random.default_rng(seed), 3, frames)
            assert torch.equal(ma, mb) and torch.equal(wa, wb)
    for i in range(len(lazy)):
        for start in (0, 5, lazy.frames[i] - 2):
            for a, b in zip(lazy.segment(i, start, 6), eager.segment(i, start, 6)):
                np.testing.assert_array_equal(a, b)


def test_streaming_segments_equal_the_preloaded_ones(voc_corpus):
    data, dump = voc_corpus
    lazy = SegmentData(data / "train", dump / "train" / "feats.scp", FEATS)
    eager = SegmentData(data / "train", dump / "train" / "feats.scp", FEATS, preload=True)
    assert isinstance(eager.mels, list) and not isinstance(lazy.mels, list)
    assert lazy._spill is None and all(ref.path for ref in lazy._refs)  # sliced from the wav files
    _same_segments(lazy, eager)
    assert lazy.mels[-1].shape == eager.mels[-1].shape and lazy.mels[1:3][1].shape == eager.mels[2].shape
    with pytest.raises(IndexError):
        lazy.mels[len(lazy)]


def test_resampled_piped_and_stereo_audio_stream_like_preloaded(tmp_path):
    fs = FEATS["fs"]
    lines = []
    clips = {"spk1_a_other_rate": (vowel(0.3, f0=130.0, fs=16000, seed=1, silence=0.1), 16000),
             "spk1_b_piped": (vowel(0.35, f0=150.0, seed=2, silence=0.1), fs),
             "spk1_c_stereo": (np.stack([vowel(0.3, seed=3, silence=0.1),
                                         0.5 * vowel(0.3, f0=200.0, seed=4, silence=0.1)], axis=1), fs)}
    for utt, (audio, rate) in clips.items():
        wav = write_wav(tmp_path / "wav" / f"{utt}.wav", audio, rate)
        lines.append(f"{utt} cat {wav} |\n" if "piped" in utt else f"{utt} {wav}\n")
    data = tmp_path / "data" / "train"
    data.mkdir(parents=True)
    (data / "wav.scp").write_text("".join(lines))
    dump_feats(FEATS, data, tmp_path / "dump", nj=1, allow_pipes=True, progress=False)
    scp = tmp_path / "dump" / "feats.scp"
    lazy = SegmentData(data, scp, FEATS, allow_pipes=True, cache_dir=tmp_path)
    eager = SegmentData(data, scp, FEATS, allow_pipes=True, preload=True)
    assert [ref.path is None for ref in lazy._refs] == [True, True, False]  # resampled, piped: cached
    assert sf.info(lazy._refs[2].path).channels == 2
    _same_segments(lazy, eager)
    lazy.close()
    assert lazy._spill is None


def test_streaming_segment_errors_name_scp_line_and_utterance(voc_corpus, tmp_path):
    data, dump = voc_corpus
    scp = tmp_path / "feats.scp"
    lines = (dump / "train" / "feats.scp").read_text().splitlines()
    utts = [line.split()[0] for line in lines]
    kaldiio.save_ark(str(tmp_path / "bad.ark"), {utts[1]: np.zeros((5, 7), np.float32)},
                     scp=str(tmp_path / "bad.scp"))
    lines[1] = (tmp_path / "bad.scp").read_text().strip()
    scp.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=rf"feats\.scp:2 \(utterance {utts[1]}\): expected a frames x 80"):
        SegmentData(data / "train", scp, FEATS)
    scp.write_text("\n".join(lines[:1]) + "\n" + "spk1_unknown " + lines[0].split()[1] + "\n")
    with pytest.raises(DataError, match=r"utterance spk1_unknown\): utterance has features but no audio"):
        SegmentData(data / "train", scp, FEATS)


# -- the emotion classifier's sets --------------------------------------------------------------
def test_streaming_labelled_set_gives_the_preloaded_features(tts_corpus, tmp_path):
    c = tts_corpus
    mean, std = load_stats(c["dump"] / "stats.npz")
    args = (c["dump"] / "train" / "feats.scp", c["data_root"] / "train" / "utt2emo", EMOTIONS, mean, std)
    lazy, eager = load_labelled_set(*args), load_labelled_set(*args, preload=True)
    assert isinstance(lazy.feats, LazyFeats) and isinstance(eager.feats, list)
    assert lazy.utts == eager.utts and np.array_equal(lazy.labels, eager.labels) and len(lazy) == 18
    assert lazy.feats.lengths == [len(f) for f in eager.feats]
    for i in np.arange(len(lazy)):  # numpy indices, as the batch sampler gives them
        np.testing.assert_array_equal(lazy.feats[i], eager.feats[i])
    assert [f.shape for f in lazy.feats[2:4]] == [f.shape for f in eager.feats[2:4]]
    bad = tmp_path / "utt2emo"
    bad.write_text(f"{lazy.utts[0]} neutral\nspkZ_missing happy\n")
    with pytest.raises(DataError, match=r"feats\.scp \(utterance spkZ_missing\): no features"):
        load_labelled_set(args[0], bad, EMOTIONS, mean, std)
    with pytest.raises(DataError, match=r"feats\.scp:1 \(utterance .*\): features of shape .* \(7 bins\)"):
        load_labelled_set(args[0], args[1], EMOTIONS, mean[:7], std[:7])


def test_trim_bounds_are_what_trim_keeps():
    from pytorch_backend.feats.logmel import LogMelExtractor

    ext = LogMelExtractor.from_conf(FEATS)
    for audio in (vowel(0.3, silence=0.2), vowel(0.3), np.zeros(4000, np.float32)):
        start, end = ext.trim_bounds(audio)
        np.testing.assert_array_equal(ext.trim(audio), audio[start:end])
    start, end = ext.trim_bounds(vowel(0.3, silence=0.2))
    assert 0 < start and end < len(vowel(0.3, silence=0.2))
    assert ext.trim_bounds(np.zeros(4000, np.float32)) == (0, 4000)  # nothing above the threshold

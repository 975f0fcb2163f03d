"""ESD recipe: both releases (split folders, or none and the split from the utterance numbers),
the top folder with spaces kept out of wav.scp, transcript encodings, broken lines."""

import os
from pathlib import Path

import pytest

from local.common.text import read_text_lines
from local.esd.corpus import official_split
from pytorch_backend.errors import DataError
from pytorch_backend.io.kaldi_map import read_kv
from tests.corpus_fixtures import check, esd, make
from tests.corpus_fixtures.check import check_prepared, run


def use_layout(monkeypatch, layout):
    monkeypatch.setattr(check, "make", lambda name, root: esd.make(root, layout=layout))


def wav_scp_paths(data_dir):
    return {utt: path for split in check.SPLITS for utt, path in read_kv(data_dir / split / "wav.scp").items()}


@pytest.mark.parametrize("number,split", [(1, "dev"), (20, "dev"), (21, "eval"), (50, "eval"), (51, "train"),
                                          (350, "train"), (351, "dev"), (371, "eval"), (401, "train"),
                                          (1401, "dev"), (1450, "eval"), (1750, "train")])
def test_official_split_from_the_position_in_the_emotion_block(number, split):
    assert official_split(f"0011_{number:06d}") == split


@pytest.mark.parametrize("name", ["0011_000000", "0011_1", "0011_neutral_000001", "arctic_a0001"])
def test_names_without_a_number_get_no_official_split(name):
    assert official_split(name) is None


@pytest.mark.parametrize("layout", esd.LAYOUTS)
def test_prepare_both_releases(tmp_path, monkeypatch, layout):
    use_layout(monkeypatch, layout)
    summary, data_dir, expected, got = check_prepared("esd", tmp_path)  # splits checked against the fixture
    assert " " in str(expected.root)  # the fixture's top folder is 'Emotion Speech Dataset'
    assert got["0001_000051"]["text"] == "打远一看，它们的确很是美丽，"  # GB2312 decoded, kept as written
    assert got["0012_001405"]["emotion"] == "surprise"
    assert summary["splits"]["dev"]["emotions"] == {"angry": 1, "neutral": 1, "surprise": 1}
    assert {s: summary["splits"][s]["utterances"] for s in check.SPLITS} == {"train": 4, "dev": 3, "eval": 3}


def test_both_releases_give_the_same_data_dirs(tmp_path, monkeypatch):
    out = {}
    for layout in esd.LAYOUTS:
        use_layout(monkeypatch, layout)
        _, data_dir, _, _ = run("esd", tmp_path / layout)
        out[layout] = {split: {name: (data_dir / split / name).read_text()
                               for name in ("text", "utt2spk", "utt2emo", "spk2utt")}
                       for split in check.SPLITS}
    assert out["no_split_folders"] == out["split_folders"]


def test_wav_scp_points_through_a_whitespace_free_link(tmp_path):
    _, data_dir, expected, _ = run("esd", tmp_path)
    paths = wav_scp_paths(data_dir)
    links = {Path(p).parent.parent.parent for p in paths.values()}  # links/<top>-<hash>/<spk>/<Emotion>/x.wav
    assert len(links) == 1
    (link,) = links
    assert link.parent == (data_dir / "links").resolve() and link.is_symlink()
    assert link.name.startswith("Emotion_Speech_Dataset-")
    assert os.readlink(link) == str(expected.root.resolve())
    for utt, path in paths.items():
        assert not any(c.isspace() for c in path) and os.path.isabs(path), path
        assert Path(path).resolve() == (expected.root / utt[:4] / Path(path).parent.name / f"{utt}.wav").resolve()
    run("esd", tmp_path)  # a second run reuses the same link
    assert wav_scp_paths(data_dir) == paths


def test_root_may_be_the_folder_above_the_top_folder(tmp_path):
    expected = make("esd", tmp_path / "corpus")
    from local.common.prepare import prepare_corpus
    from local.esd import corpus
    from tests.corpus_fixtures.check import corpus_conf, read_dirs

    from local.common.source import corpus_input
    from local.esd import SOURCE

    for root in (expected.root, expected.root.parent):  # the gated-corpus check accepts both
        assert corpus_input(SOURCE, {"name": "esd", "root": str(root)}, "conf/corpus/esd.yaml") == []
    conf = corpus_conf("esd", expected, root=str(expected.root.parent))
    prepare_corpus(conf, expected.root.parent, tmp_path / "data", corpus.collect, corpus.PREP, progress=False)
    assert sorted(read_dirs(tmp_path / "data")) == sorted(expected.utts)


def test_data_dir_with_whitespace_is_an_error_naming_it(tmp_path):
    from local.common.prepare import prepare_corpus
    from local.esd import corpus
    from tests.corpus_fixtures.check import corpus_conf

    expected = make("esd", tmp_path / "corpus")
    conf = corpus_conf("esd", expected)
    data_dir = tmp_path / "my data" / "esd"
    with pytest.raises(DataError, match=r"my data/esd: the data dir's absolute path has whitespace"):
        prepare_corpus(conf, expected.root, data_dir, corpus.collect, corpus.PREP, progress=False)
    assert not (data_dir / "train" / "wav.scp").exists()


def test_transcript_encodings_are_detected(tmp_path):
    expected = make("esd", tmp_path)
    assert read_text_lines(expected.root / "0012" / "0012.txt")[1] == "utf-16"
    assert read_text_lines(expected.root / "0001" / "0001.txt")[1] == "gb18030"
    assert read_text_lines(expected.root / "0011" / "0011.txt")[1] == "utf-8"


def test_wrong_forced_encoding_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(DataError, match=r"0012\.txt: cannot decode as utf-8"):
        run("esd", tmp_path, prep={"encodings": {"0012": "utf-8"}})


def test_mandarin_conf_uses_the_same_recipe(tmp_path):
    from local.common.prepare import prepare_corpus
    from local.esd import corpus
    from tests.corpus_fixtures.check import corpus_conf, read_dirs

    expected = make("esd", tmp_path / "corpus")
    conf = corpus_conf("esd_zh", expected, prep={"speakers": ["0001"]})
    assert conf["recipe"] == "esd" and conf["language"] == "zh"
    prepare_corpus(conf, expected.root, tmp_path / "data", corpus.collect, corpus.PREP, progress=False)
    got = read_dirs(tmp_path / "data")
    assert sorted(got) == ["0001_000051", "0001_000355", "0001_000721"]
    assert got["0001_000355"]["text"] == "你在干什么？" and got["0001_000355"]["emotion"] == "angry"
    assert [got[u]["split"] for u in sorted(got)] == ["train", "dev", "eval"]

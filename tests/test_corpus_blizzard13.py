"""Blizzard 2013 recipe: both segmented releases (BC2013_segmented_v0 wav/txt trees, or
train/segmented/prompts.gui + wavn/), markup removal, book selection by name or code, resampling,
and the missing-corpus message naming both releases."""

import pytest

from local.blizzard13 import SOURCE
from local.blizzard13.corpus import book_code, book_name, clean_prompt, read_prompts
from local.common.drops import Drops
from local.common.source import CorpusMissing, corpus_input
from pytorch_backend.errors import ConfigError, DataError
from tests.corpus_fixtures import blizzard13, check
from tests.corpus_fixtures.check import check_prepared, read_dirs, run


def use_release(monkeypatch, release):
    monkeypatch.setattr(check, "make", lambda name, root: blizzard13.make(root, release=release))


def test_prepare(tmp_path):
    summary, _, _, got = check_prepared("blizzard13", tmp_path)
    assert got["CB-JE-01-02"]["text"] == ("We had been wandering, indeed, in the leafless shrubbery an hour "
                                          "in the morning;")
    assert summary["converted_audio"] == 4
    assert "CB-EM-54-136" not in got


def test_prepare_prompts_gui_release(tmp_path, monkeypatch):
    use_release(monkeypatch, "train_segmented")
    summary, _, expected, got = check_prepared("blizzard13", tmp_path)  # texts: markup removed
    assert (expected.root / "train" / "segmented" / "prompts.gui").is_file()
    assert got["CB-JE-37-10"]["text"] == "It was Mr Rochester's voice, and it was near!"
    assert summary["converted_audio"] == 4 and "CB-EM-54-136" not in got


@pytest.mark.parametrize("release", blizzard13.RELEASES)
def test_all_books(tmp_path, monkeypatch, release):
    use_release(monkeypatch, release)
    _, data_dir, _, _ = run("blizzard13", tmp_path, prep={"books": None})
    assert "CB-EM-54-136" in read_dirs(data_dir)


@pytest.mark.parametrize("release", blizzard13.RELEASES)
@pytest.mark.parametrize("books,emma", [(["JE"], False), (["JE", "emma"], True), (["jane_eyre", "EM"], True)])
def test_books_select_by_folder_name_or_code_in_both_releases(tmp_path, monkeypatch, release, books, emma):
    use_release(monkeypatch, release)
    _, data_dir, expected, _ = run("blizzard13", tmp_path, prep={"books": books})
    got = read_dirs(data_dir)
    assert set(expected.utts) <= set(got) and ("CB-EM-54-136" in got) == emma


@pytest.mark.parametrize("release", blizzard13.RELEASES)
def test_books_selecting_nothing_is_an_error_listing_the_books(tmp_path, monkeypatch, release):
    use_release(monkeypatch, release)
    with pytest.raises(ConfigError, match=r"blizzard13.yaml: key 'prep.books': selects no book.*emma \(EM\)"
                       r".*jane_eyre \(JE\)"):
        run("blizzard13", tmp_path, prep={"books": ["persuasion"]})


def test_root_with_both_releases_needs_prep_release(tmp_path, monkeypatch):
    blizzard13.make(tmp_path / "corpus")
    blizzard13.make(tmp_path / "corpus", release="train_segmented")
    monkeypatch.setattr(check, "make", lambda name, root: blizzard13.Expected(root, {}, {},
                                                                              prep={"min_duration": 0.0}))
    with pytest.raises(ConfigError, match=r"key 'prep.release': root holds both"):
        run("blizzard13", tmp_path)
    _, data_dir, _, _ = run("blizzard13", tmp_path, prep={"release": "train_segmented",
                                                          "split": {"dev": 1, "eval": 1}})
    assert "CB-JE-37-10" in read_dirs(data_dir)  # only in prompts.gui
    with pytest.raises(ConfigError, match=r"key 'prep.release': must be one of"):
        run("blizzard13", tmp_path, prep={"release": "v1"})


def test_root_with_neither_release_is_an_error_naming_it(tmp_path, monkeypatch):
    (tmp_path / "corpus" / "train").mkdir(parents=True)
    monkeypatch.setattr(check, "make", lambda name, root: blizzard13.Expected(root, {}, {}))
    with pytest.raises(DataError, match=r"corpus: holds neither Blizzard 2013 release"):
        run("blizzard13", tmp_path)


def test_clean_prompt_removes_markup_and_tokenizer_spaces():
    assert clean_prompt("@ Yes . | Again # came it , then ; that 's all ? ! ") == \
        "Yes. Again came it, then; that's all?!"
    assert clean_prompt("no#spaces|around@markup") == "no spaces around markup"


def test_book_codes():
    assert book_code("CB-JE-01-59") == "JE" and book_name("JE") == "jane_eyre"
    assert book_code("CB-JB2-03-17") == "JB2" and book_name("JB2") == "jb2"  # not in the table: the code
    assert book_code("jane_eyre_01") is None


def test_malformed_prompts_blocks_are_dropped_naming_the_line(tmp_path):
    path = tmp_path / "prompts.gui"
    path.write_text("CB-JE-01-01\nThere was no possibility . #\n0 1 2 ||\n"
                    "CB-JE-01-02\nCB-JE-01-03\nReader , I married him .\n0 1 ||\n"
                    "stray line\n\n"
                    "CB-JE-01-03\nA second text for the same id .\n0 ||\n"
                    "CB-JE-01-04\r\nNo annotation line here .\r\n")
    drops = Drops()
    prompts = read_prompts(path, drops)
    assert prompts == {"CB-JE-01-01": ("There was no possibility.", 1), "CB-JE-01-03": ("Reader, I married him.", 5),
                       "CB-JE-01-04": ("No annotation line here.", 13)}
    assert drops.as_dict() == {"malformed prompts.gui block": 2, "duplicate prompt": 1}
    assert drops.examples["malformed prompts.gui block"] == ["prompts.gui:4", "prompts.gui:8"]


def test_missing_corpus_message_names_both_releases(tmp_path):
    conf = {"name": "blizzard13", "root": str(tmp_path / "nowhere")}
    with pytest.raises(CorpusMissing) as info:
        corpus_input(SOURCE, conf, "conf/corpus/blizzard13.yaml")
    msg = str(info.value)
    assert msg.startswith("ERROR: conf/corpus/blizzard13.yaml: key 'root': Blizzard Challenge 2013 corpus not "
                          f"found: {tmp_path / 'nowhere'} is missing.")
    for fragment in ("BC2013_segmented_v0_wav1.zip", "train/segmented/prompts.gui", "wavn/",
                     "https://data.cstr.ed.ac.uk/blizzard2013/lessac/",
                     "holds one of: BC2013_segmented_v*_wav* + BC2013_segmented_v*_txt*; train/segmented/prompts.gui + "
                     "train/segmented/wavn/*.wav; prompts.gui + wavn/*.wav."):
        assert fragment in msg, fragment
    assert isinstance(info.value.error, ConfigError) and info.value.error.key == "root"
    (tmp_path / "nowhere").mkdir()
    with pytest.raises(CorpusMissing, match=r"does not hold BC2013_segmented_v\*_wav\* nor "
                                            r"train/segmented/prompts.gui nor prompts.gui"):
        corpus_input(SOURCE, conf, "conf/corpus/blizzard13.yaml")


@pytest.mark.parametrize("release", blizzard13.RELEASES)
def test_either_release_satisfies_the_gated_check(tmp_path, release):
    expected = blizzard13.make(tmp_path / "corpus", release=release)
    assert corpus_input(SOURCE, {"name": "blizzard13", "root": str(expected.root)}, "x.yaml") == []

"""Blizzard 2013 recipe: segmented wav/txt trees, book selection, resampling."""

from tests.corpus_fixtures.check import check_prepared, read_dirs, run


def test_prepare(tmp_path):
    summary, _, _, got = check_prepared("blizzard13", tmp_path)
    assert got["CB-JE-01-02"]["text"] == ("We had been wandering, indeed, in the leafless shrubbery an hour "
                                          "in the morning;")
    assert summary["converted_audio"] == 4
    assert "CB-EM-54-136" not in got


def test_all_books(tmp_path):
    _, data_dir, _, _ = run("blizzard13", tmp_path, prep={"books": None})
    assert "CB-EM-54-136" in read_dirs(data_dir)

"""EmoV-DB recipe: ARCTIC prompt numbers in file names, folder styles as labels, mixed rates."""

from tests.corpus_fixtures.check import check_prepared


def test_prepare(tmp_path):
    summary, _, _, got = check_prepared("emov_db", tmp_path)
    assert got["bea-anger_1-28_0001"]["emotion"] == "angry"
    assert got["sam-sleepiness_1-28_0003"]["emotion"] == "sleepy"
    assert summary["converted_audio"] == 2  # the 44.1 kHz files (one of them stereo)
    # every speaker keeps a train utterance even with one held out for eval
    assert set(summary["splits"]["train"]["speakers"]) == {"bea", "sam"}

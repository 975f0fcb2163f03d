"""IEMOCAP recipe: EmoEvaluation labels, transcriptions, the 4-class map, drops per reason."""

from tests.corpus_fixtures.check import check_prepared, read_dirs, run


def test_prepare_four_classes(tmp_path):
    summary, _, _, got = check_prepared("iemocap", tmp_path)
    assert got["Ses01M-Ses01F_impro01_M000"]["emotion"] == "happy"  # exc merged into happy
    assert got["Ses01M-Ses01F_impro01_M000"]["text"] == "Do you have your forms?"  # [LAUGHTER] removed
    assert got["Ses02F-Ses02M_script01_1_F000"]["speaker"] == "Ses02F"
    speakers = set(summary["splits"]["train"]["speakers"])
    assert speakers == {"Ses01F", "Ses01M", "Ses02F", "Ses02M"}


def test_label_set_is_configurable(tmp_path):
    """Frustration kept as its own class, excited dropped explicitly (mapped to null)."""
    emotions = ["neutral", "happy", "sad", "angry", "frustrated"]
    label_map = {"neu": "neutral", "hap": "happy", "exc": None, "sad": "sad", "ang": "angry",
                 "fru": "frustrated"}
    summary, data_dir, _, _ = run("iemocap", tmp_path, emotions=emotions, label_map=label_map)
    got = read_dirs(data_dir)
    assert got["Ses01M-Ses01F_impro01_M001"]["emotion"] == "frustrated"
    assert "Ses01M-Ses01F_impro01_M000" not in got
    assert summary["dropped"]["label 'exc' dropped by label_map"] == 1
    assert summary["dropped"]["label 'xxx' not in label_map"] == 1

"""CMU ARCTIC recipe: festival prompt files, speaker-prefixed ids, speaker selection."""

import pytest

from pytorch_backend.errors import ConfigError
from tests.corpus_fixtures.check import check_prepared, run


def test_prepare(tmp_path):
    summary, _, _, got = check_prepared("cmu_arctic", tmp_path)
    assert got["bdl-arctic_a0001"]["text"] == "Author of the danger trail, Philip Steels, etc."
    assert set(summary["splits"]["train"]["speakers"]) == {"bdl", "slt"}


def test_unknown_speaker_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"prep.speakers.*rms"):
        run("cmu_arctic", tmp_path, prep={"speakers": ["bdl", "rms"]})

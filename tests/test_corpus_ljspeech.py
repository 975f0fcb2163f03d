"""LJSpeech recipe: metadata.csv with unbalanced quotes, held-out splits, the whole recipe through Snakemake."""

import csv

import pytest

from pytorch_backend.errors import ConfigError
from tests.corpus_fixtures.check import check_prepared, read_dirs, run
from tests.pipeline_fixtures import edit_conf, env, make_workdir, snakemake_cmd
from tests.process_group import run as run_in_group


def test_prepare_keeps_quotes_and_counts_drops(tmp_path):
    summary, data_dir, expected, got = check_prepared("ljspeech", tmp_path)
    assert got["LJ001-0003"]["text"].startswith('"The earliest book printed')
    assert got["LJ001-0003"]["text"].endswith("of about fourteen fifty-five,")
    assert [summary["splits"][s]["utterances"] for s in ("train", "dev", "eval")] == [2, 1, 1]
    assert summary["converted_audio"] == 0  # 22.05 kHz mono 16-bit: used where it lies
    assert got["LJ001-0001"]["wav"] == str(expected.root / "wavs" / "LJ001-0001.wav")
    # what a CSV reader with quoting would have done to the same file
    with open(expected.root / "metadata.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter="|"))
    assert [len(r) for r in rows if r and r[0] == "LJ001-0003"] != [3]


def test_raw_text_field_and_bad_option(tmp_path):
    _, data_dir, _, _ = run("ljspeech", tmp_path, prep={"text_field": "raw"})
    assert read_dirs(data_dir)["LJ001-0004"]["text"] == "Dr. Smith paid $16 for it."
    with pytest.raises(ConfigError, match="prep.text_fild"):
        run("ljspeech", tmp_path / "x", prep={"text_fild": "raw"})


def test_recipe_runs_through_snakemake_without_download(tmp_path):
    """Root already holds the corpus: the download rule only checks the layout, then prepare + validate."""
    from tests.corpus_fixtures import make

    expected = make("ljspeech", tmp_path / "LJSpeech-1.1")
    workdir = make_workdir(tmp_path)
    edit_conf(workdir / "conf", "corpus/ljspeech.yaml",
              {"root": str(expected.root), "prep": {"split": {"dev": 1, "eval": 1}}})
    proc = run_in_group(snakemake_cmd(workdir, "data/ljspeech/train/.validated", "data/ljspeech/eval/.validated"),
                          capture_output=True, text=True, env=env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (workdir / "downloads/ljspeech/.download.done").is_file()
    log = (workdir / "data/ljspeech/log/download.log").read_text()
    assert "already holds the corpus layout" in log
    prep_log = (workdir / "data/ljspeech/log/prepare.log").read_text()
    assert "malformed metadata line" in prep_log and "missing audio" in prep_log

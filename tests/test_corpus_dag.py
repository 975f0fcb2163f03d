"""Snakemake builds the DAG of the headline real-corpus experiments on the fixture trees through
the generic corpus rules (recipes/corpus.smk), a missing licence-gated corpus stops the DAG (dry
run included) saying where to get it, and a new corpus conf needs no rule file."""

from pathlib import Path

import pytest

from pipeline import paths as P
from tests.corpus_fixtures import make
from tests.pipeline_fixtures import edit_conf, env, make_workdir, planned_rules, snakemake, snakemake_cmd
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent
HEADLINE = [("blizzard13", "gst"), ("iemocap", "emo_dnn"), ("esd", "fastspeech2"), ("ljspeech", "tacotron2")]
DOWNLOADED = {"ljspeech"}  # public: the DAG fetches (or checks) it first


def fixture_workdir(tmp_path, corpus):
    expected = make(corpus, tmp_path / "corpus")
    workdir = make_workdir(tmp_path)
    edit_conf(workdir / "conf", f"corpus/{corpus}.yaml", {"root": str(expected.root), "prep": expected.prep})
    return workdir


@pytest.mark.parametrize("corpus,model", HEADLINE)
def test_headline_experiment_dag(tmp_path, corpus, model):
    if not (REPO / "conf" / "tts" / f"{model}.yaml").is_file():
        pytest.skip(f"conf/tts/{model}.yaml is not in the repository yet")
    workdir = fixture_workdir(tmp_path, corpus)
    assert (workdir / "conf" / "exp" / f"{corpus}_{model}.yaml").is_file()
    rules = planned_rules(workdir, P.fill(P.DONE, corpus=corpus, model=model))
    expected = {"prepare_corpus", "validate_data_dir", "make_feats", "make_tokens", "train_tts",
                "decode", "vocode", "evaluate", "train_ser", "summarize"}
    assert expected <= rules
    assert ("download_corpus" in rules) == (corpus in DOWNLOADED)
    assert "espeak_emo_generate" not in rules


@pytest.mark.parametrize("corpus,where", [("iemocap", "https://sail.usc.edu/iemocap"),
                                          ("blizzard13", "https://data.cstr.ed.ac.uk/blizzard2013/lessac/"),
                                          ("esd", "https://github.com/HLTSingapore/Emotional-Speech-Data"),
                                          ("kss", "https://www.kaggle.com/datasets/bryanpark")])
def test_missing_gated_corpus_stops_the_dry_run(tmp_path, corpus, where):
    workdir = make_workdir(tmp_path)
    edit_conf(workdir / "conf", f"corpus/{corpus}.yaml", {"root": str(tmp_path / "nowhere")})
    proc = run_in_group(snakemake_cmd(workdir, f"data/{corpus}/train/.validated", extra=("-n",)),
                          capture_output=True, text=True, env=env(), timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert where in out
    assert f"corpus/{corpus}.yaml: key 'root'" in out and str(tmp_path / "nowhere") in out
    assert "licence-gated" in out


def test_gated_corpus_with_incomplete_layout_names_what_is_missing(tmp_path):
    workdir = make_workdir(tmp_path)
    (tmp_path / "iemocap" / "Session1" / "dialog" / "EmoEvaluation").mkdir(parents=True)
    edit_conf(workdir / "conf", "corpus/iemocap.yaml", {"root": str(tmp_path / "iemocap")})
    proc = run_in_group(snakemake_cmd(workdir, "data/iemocap/train/.validated", extra=("-n",)),
                          capture_output=True, text=True, env=env(), timeout=120)
    assert proc.returncode != 0
    assert "does not hold Session*/dialog/transcriptions" in proc.stdout + proc.stderr


def test_a_new_corpus_conf_is_served_by_the_generic_rules(tmp_path):
    """A second corpus read by an existing recipe package: only conf/corpus/<name>.yaml is added."""
    expected = make("ljspeech", tmp_path / "corpus")
    workdir = make_workdir(tmp_path)
    conf = workdir / "conf" / "corpus"
    (conf / "ljslice.yaml").write_text((conf / "ljspeech.yaml").read_text())
    edit_conf(workdir / "conf", "corpus/ljslice.yaml", {"name": "ljslice", "recipe": "ljspeech",
                                                         "root": str(expected.root), "prep": expected.prep})
    proc = snakemake(workdir, "data/ljslice/train/.validated", extra=("-n", "-p"))
    out = proc.stdout + proc.stderr
    assert planned_rules(workdir, "data/ljslice/train/.validated") == {
        "download_corpus", "prepare_corpus", "validate_data_dir"}
    assert "python -m local.prepare --recipe ljspeech" in out and "--data-dir data/ljslice" in out
    assert "--touch downloads/ljslice/.download.done" in out


def test_a_recipe_without_a_package_names_the_conf_and_key(tmp_path):
    workdir = make_workdir(tmp_path)
    edit_conf(workdir / "conf", "corpus/ljspeech.yaml", {"recipe": "nosuch"})
    proc = run_in_group(snakemake_cmd(workdir, "data/ljspeech/train/.validated", extra=("-n",)),
                          capture_output=True, text=True, env=env(), timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "corpus/ljspeech.yaml: key 'recipe': no recipe package local/nosuch" in out
    assert "ljspeech" in out.split("known recipes:")[1]

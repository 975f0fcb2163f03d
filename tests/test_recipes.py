"""local/prepare.py: a corpus conf's `recipe` names a package local/<recipe>/ (SOURCE + corpus.py)
that the generic rules of recipes/corpus.smk serve; bad recipes are errors naming the conf."""

import json
import shutil
import sys
from pathlib import Path

import pytest

from local import prepare as recipes
from local.common.source import Source
from pipeline.lookup import ConfLookup
from pytorch_backend.errors import ConfigError
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def confs(tmp_path):
    shutil.copytree(REPO / "conf", tmp_path / "conf")
    return ConfLookup(tmp_path / "conf")


def test_every_recipe_package_declares_its_source_and_reader():
    names = recipes.known_recipes()
    assert {"espeak_emo", "ljspeech", "iemocap", "esd", "blizzard13"} <= set(names)
    assert "common" not in names
    for name in names:
        source = recipes.recipe_source(name, "conf/corpus/x.yaml")
        assert isinstance(source, Source) and source.layout, name
        corpus = recipes.recipe_corpus(name, "conf/corpus/x.yaml")
        assert callable(getattr(corpus, "prepare", None)) or callable(corpus.collect), name


def test_kinds_of_source(confs):
    assert recipes.corpus_source(confs, "espeak_emo").generated
    assert recipes.corpus_source(confs, "iemocap").gated
    downloaded = recipes.downloaded_corpora(confs)
    assert {"ljspeech", "thchs30", "jsut", "cmu_arctic", "emov_db"} <= set(downloaded)
    assert not {"espeak_emo", "iemocap", "esd", "esd_zh", "blizzard13", "kss"} & set(downloaded)


def test_prepare_input_per_kind(confs, tmp_path):
    assert recipes.corpus_prepare_input(confs, "espeak_emo") == ["downloads/espeak_emo/metadata.tsv"]
    assert recipes.corpus_prepare_input(confs, "ljspeech") == ["downloads/ljspeech/.download.done"]
    iemocap = confs.corpus_path("iemocap")
    text = iemocap.read_text()
    assert "\nroot: downloads/iemocap" in text
    iemocap.write_text(text.replace("\nroot: downloads/iemocap", f"\nroot: {tmp_path / 'nowhere'}"))
    with pytest.raises(SystemExit, match="IEMOCAP corpus not found"):
        recipes.corpus_prepare_input(ConfLookup(confs.conf_dir), "iemocap")


def test_generated_corpus_elsewhere_is_refused(confs):
    path = confs.corpus_path("espeak_emo")
    path.write_text(path.read_text().replace("root: downloads/espeak_emo", "root: /elsewhere"))
    with pytest.raises(ConfigError, match=r"espeak_emo\.yaml: key 'root': the generated corpus lives in "
                                          r"downloads/espeak_emo"):
        recipes.corpus_prepare_input(ConfLookup(confs.conf_dir), "espeak_emo")


@pytest.mark.parametrize("recipe,message", [
    ("nosuch", "no recipe package local/nosuch/ (known recipes: blizzard13"),
    ("common", "'common' is not a recipe name"),
    ("../x", "'../x' is not a recipe name"),
    (None, "'None' is not a recipe name"),
])
def test_bad_recipe_names_the_conf_and_key(recipe, message):
    with pytest.raises(ConfigError, match="conf/corpus/c.yaml: key 'recipe': ") as err:
        recipes.recipe_source(recipe, "conf/corpus/c.yaml")
    assert message in str(err.value)


def test_broken_corpus_conf_is_left_to_its_prepare_rule(confs):
    path = confs.corpus_path("ljspeech")
    path.write_text(path.read_text().replace("recipe: ljspeech", "recipe: nosuch"))
    fresh = ConfLookup(confs.conf_dir)
    assert "ljspeech" not in recipes.downloaded_corpora(fresh) and "thchs30" in recipes.downloaded_corpora(fresh)
    with pytest.raises(ConfigError, match="ljspeech.yaml: key 'recipe'"):
        recipes.corpus_prepare_input(fresh, "ljspeech")


def test_cli_prepares_the_generated_corpus(tmp_path):
    """One entry point for every recipe: the embedded corpus's data dirs through `local.prepare`."""
    from local.espeak_emo.generator import generate_corpus

    conf = {"name": "espeak_emo", "recipe": "espeak_emo", "fs": 22050, "emotions": ["neutral", "sad"],
            "prep": {"num_sentences": 4, "emotions_per_sentence": 2, "speakers": ["m3"], "seed": 7,
                     "dev_sentences": 1, "eval_sentences": 1, "num_workers": 1}}
    generate_corpus(conf, tmp_path / "c", progress=False)
    proc = run_in_group([sys.executable, "-m", "local.prepare", "--recipe", "espeak_emo", "--conf",
                           json.dumps(conf), "--root", str(tmp_path / "c"), "--data-dir", str(tmp_path / "data"),
                           "--no-progress"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for split in ("train", "dev", "eval"):
        lines = (tmp_path / "data" / split / "utt2emo").read_text().splitlines()
        assert lines and all(line.split()[1] in conf["emotions"] for line in lines)

"""bin/snakemake, the launcher path.sh puts first on PATH: targets written after --resources,
--set-resources, --config or --quiet reach Snakemake as targets; every other word is passed on
unchanged. Checked on the argument rewrite itself and through dry runs of the real DAG."""

import importlib.machinery
import importlib.util
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.corpus_fixtures import blizzard13
from tests.pipeline_fixtures import edit_conf, make_workdir

REPO = Path(__file__).resolve().parent.parent
LAUNCHER = REPO / "bin" / "snakemake"
VENV_BIN = REPO / ".venv" / "bin"
DESIGN_CARD = "snakemake --cores 8 --resources gpu=2 exp/blizzard13_gst/done"


def load_launcher():
    loader = importlib.machinery.SourceFileLoader("emotts_snakemake_launcher", str(LAUNCHER))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.mark.parametrize("line,expected", [
    (DESIGN_CARD, "snakemake exp/blizzard13_gst/done --cores 8 --resources gpu=2"),
    ("snakemake exp/a/done --cores 8 --resources gpu=2", "snakemake exp/a/done --cores 8 --resources gpu=2"),
    ("snakemake --cores 2 -n target", "snakemake --cores 2 -n target"),
    ("snakemake --resources gpu=1 mem_mb=100 target", "snakemake target --resources gpu=1 mem_mb=100"),
    ("snakemake --res gpu=1 t1 t2 -n", "snakemake t1 t2 --res gpu=1 -n"),
    ("snakemake --config a=b target", "snakemake target --config a=b"),
    ("snakemake -C a=b 'x=[1, 2]' target", "snakemake target -C a=b 'x=[1, 2]'"),
    ("snakemake --set-resources train_tts:gpu=1 target", "snakemake target --set-resources train_tts:gpu=1"),
    ("snakemake --set-threads train_tts=4 --default-resources mem_mb=100 t",
     "snakemake t --set-threads train_tts=4 --default-resources mem_mb=100"),
    ("snakemake -n --quiet rules t1 -p t2", "snakemake t1 -n --quiet rules -p t2"),
    ("snakemake -q t", "snakemake t -q"),
    ("snakemake --resources=gpu=2 t", "snakemake --resources=gpu=2 t"),  # one value only: nothing swallowed
    ("snakemake --forcerun train_tts t", "snakemake --forcerun train_tts t"),  # rule names: not ours to judge
    ("snakemake --cores 2 -- --resources x", "snakemake --cores 2 -- --resources x"),
])
def test_rearrange(line, expected):
    import shlex

    words = shlex.split(line)
    assert shlex.join(["snakemake", *load_launcher().rearrange(words[1:])]) == expected


def run(cmd, cwd, env=None, timeout=240):
    """Run ``cmd`` in its own process group; kill the whole group if it times out."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return proc.returncode, out


def in_path_sh(command: str, cwd=REPO, env=None, timeout=240):
    """``command`` in bash after ``. ./path.sh`` (sourced from the repository, as the README says)."""
    return run(["bash", "-c", f". {REPO / 'path.sh'} && cd {cwd} && {command}"], REPO, env=env, timeout=timeout)


def planned(out: str) -> set[str]:
    rules, in_table = set(), False
    for line in out.splitlines():
        parts = line.split()
        if parts[:2] == ["job", "count"]:
            in_table = True
        elif in_table and parts and not parts[0].startswith("-"):
            if parts[0] == "total":
                break
            rules.add(parts[0])
    return rules


def test_path_sh_puts_the_launcher_first():
    rc, out = in_path_sh("command -v snakemake && snakemake --version")
    assert rc == 0, out
    assert out.split() == [str(LAUNCHER), "9.27.1"]


def test_design_card_line_as_typed_in_the_repository():
    """The exact line in a fresh checkout: the corpus is absent, so the gated-corpus message, no traceback."""
    root = REPO / "downloads" / "blizzard13"
    rc, out = in_path_sh(f"{DESIGN_CARD} -n")
    assert "Traceback" not in out and "ValueError" not in out and "dictionary update sequence" not in out
    if root.exists():  # someone has the corpus here: then the DAG is planned
        assert rc == 0 and "train_tts" in out, out[-3000:]
        return
    assert rc == 1, out[-3000:]
    assert "conf/corpus/blizzard13.yaml: key 'root': Blizzard Challenge 2013 corpus not found" in out
    assert "licence-gated" in out and "train/segmented/prompts.gui" in out and "BC2013_segmented_v0_wav1" in out
    assert "InputFunctionException" not in out


@pytest.mark.parametrize("release", blizzard13.RELEASES)
def test_design_card_line_plans_the_dag_with_the_corpus_present(tmp_path, release):
    expected = blizzard13.make(tmp_path / "corpus", release=release)
    workdir = make_workdir(tmp_path)
    edit_conf(workdir / "conf", "corpus/blizzard13.yaml", {"root": str(expected.root), "prep": expected.prep})
    rc, out = in_path_sh(f"{DESIGN_CARD} -n --quiet rules -s {REPO / 'Snakefile'} "
                         f"--config conf_dir={workdir / 'conf'}", cwd=workdir)
    assert rc == 0, out[-4000:]
    rules = planned(out)
    assert {"train_tts", "decode", "evaluate", "summarize"} <= rules, rules
    assert rules & {"prepare_corpus", "blizzard13_prepare"}, rules  # the generic rule or the older per-corpus one


@pytest.mark.parametrize("line", [
    "data/espeak_emo/train/.validated --cores 2 -n --quiet rules",  # targets first
    "--cores 2 -n --quiet rules data/espeak_emo/train/.validated",
    "-n --quiet rules --resources gpu=1 mem_mb=100 data/espeak_emo/train/.validated",
    "-n --quiet rules --config foo=bar data/espeak_emo/train/.validated",
    "-n --quiet rules --set-resources train_tts:gpu=1 data/espeak_emo/train/.validated",
    "-n --cores 1 --quiet rules data/espeak_emo/train/.validated --resources gpu=1",
])
def test_ordinary_lines(tmp_path, line):
    workdir = tmp_path / "work"
    workdir.mkdir()
    rc, out = in_path_sh(f"snakemake -s {REPO / 'Snakefile'} --cores 2 {line}", cwd=workdir)
    assert rc == 0, out[-4000:]
    rules = planned(out)
    assert "validate_data_dir" in rules and "train_tts" not in rules, rules  # the target, not the default


def test_no_recursion_through_copies_on_path(tmp_path):
    """A copy of the launcher outside the repository (no .venv beside it) finds the real Snakemake on
    PATH, skipping other copies of itself; without one it says so and exits 127."""
    own, other = tmp_path / "own" / "bin", tmp_path / "other"
    own.mkdir(parents=True)
    other.mkdir()
    shutil.copy2(LAUNCHER, own / "snakemake")
    shutil.copy2(LAUNCHER, other / "snakemake")
    env = {**os.environ, "PATH": os.pathsep.join([str(own), str(other), str(VENV_BIN), "/usr/bin", "/bin"]),
           "EMOTTS_LAUNCHER_ECHO": "1"}
    rc, out = run([str(own / "snakemake"), "--version"], tmp_path, env=env, timeout=120)
    assert rc == 0 and out.splitlines() == [f"+ {VENV_BIN / 'snakemake'} --version", "9.27.1"], out
    env["PATH"] = os.pathsep.join([str(own), str(other), "/usr/bin", "/bin"])
    rc, out = run([str(own / "snakemake"), "--version"], tmp_path, env=env, timeout=120)
    assert rc == 127 and "no Snakemake found" in out, out

"""Snakemake profiles: the SLURM profile's per-rule resources, rendered into the sbatch
arguments the SLURM executor plugin would submit, from a dry run (no cluster needed)."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

from tests.pipeline_fixtures import REPO, make_workdir, snakemake

SLURM = REPO / "profiles" / "slurm" / "profile.yaml"
GPU_RULES = ("train_tts", "train_ser", "decode")
TARGET = "exp/espeak_emo_gst/done"


def sbatch_args(resources: dict, threads: int) -> list[str]:
    """The resource part of the sbatch call of snakemake-executor-plugin-slurm 2.6 for a job.

    Mirrors the plugin's rules: -p partition, -t runtime, --mem, --gpus=[model:]N,
    --ntasks-per-gpu (default 1, left out when tasks_per_gpu is 0), --cpus-per-gpu for GPU
    jobs and --cpus-per-task otherwise (both default to the job's threads), slurm_extra last.
    """
    args = []
    if resources.get("slurm_partition"):
        args += ["-p", str(resources["slurm_partition"])]
    if resources.get("runtime"):
        args += ["-t", str(resources["runtime"])]
    if resources.get("mem_mb"):
        args += ["--mem", str(resources["mem_mb"])]
    gpu = int(resources.get("gpu") or 0)
    if gpu:
        model = resources.get("gpu_model")
        args.append(f"--gpus={model}:{gpu}" if model else f"--gpus={gpu}")
        per_gpu = resources.get("tasks_per_gpu", 1)
        if per_gpu >= 1:
            args.append(f"--ntasks-per-gpu={per_gpu}")
        args.append(f"--cpus-per-gpu={resources.get('cpus_per_gpu') or threads}")
    else:
        args += ["--ntasks=1", f"--cpus-per-task={resources.get('cpus_per_task') or threads}"]
    if resources.get("slurm_extra"):
        args += shlex.split(str(resources["slurm_extra"]))
    return args


def parse_dry_run(text: str) -> dict[str, dict]:
    """rule -> {"resources": {...}, "threads": n, "shell": str} of the first job of each rule."""
    jobs: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^(?:local)?rule (\w+):$", line.strip())
        if m:
            current = {"resources": {}, "threads": 1, "shell": ""}
            jobs.setdefault(m.group(1), current)
            continue
        if current is None:
            continue
        s = line.strip()
        if s.startswith("threads:"):
            current["threads"] = int(s.split(":", 1)[1])
        elif s.startswith("resources:"):
            for item in s.split(":", 1)[1].split(", "):
                key, _, value = item.strip().partition("=")
                current["resources"][key] = int(value) if value.isdigit() else value
        elif s.startswith("Shell command:"):
            current["shell"] = s.split(":", 1)[1].strip()
    return jobs


@pytest.fixture(scope="module")
def profile():
    return yaml.safe_load(SLURM.read_text())


def test_slurm_profile_sets_gpu_and_cpu_resources(profile):
    assert profile["executor"] == "slurm"
    assert profile["default-resources"]["slurm_partition"]
    assert profile["default-resources"]["runtime"] > 0 and profile["default-resources"]["mem_mb"] > 0
    for rule in GPU_RULES:
        res = profile["set-resources"][rule]
        assert res["slurm_partition"] != profile["default-resources"]["slurm_partition"], rule
        assert res["cpus_per_gpu"] >= 1 and res["runtime"] > 0 and res["mem_mb"] > 0, rule
        assert res["tasks_per_gpu"] == 0, rule  # one task; torchrun starts the workers
        assert "gres" not in res, rule
    for rule, res in profile["set-resources"].items():
        assert "--gres" not in str(res.get("slurm_extra", "")), rule  # the plugin rejects it


def test_dry_run_renders_submission_arguments(profile, tmp_path):
    """The profile (less the executor, so no plugin or cluster is needed) drives a dry run of the
    full DAG with 2 training GPUs; each job's resources become the sbatch arguments."""
    local = dict(profile)
    local.pop("executor")
    local["set-resources"] = {k: dict(v) for k, v in profile["set-resources"].items()}
    local["set-resources"]["train_tts"]["gpu"] = 2
    (tmp_path / "prof").mkdir()
    (tmp_path / "prof" / "profile.yaml").write_text(yaml.safe_dump(local))
    workdir = make_workdir(tmp_path)
    proc = snakemake(workdir, TARGET, extra=("-n", "--cores", "64", "--profile", str(tmp_path / "prof")))
    jobs = parse_dry_run(proc.stdout + proc.stderr)
    assert {"train_tts", "train_ser", "decode", "make_feats", "vocode", "evaluate"} <= set(jobs)

    train = jobs["train_tts"]
    assert sbatch_args(train["resources"], train["threads"]) == [
        "-p", "gpu", "-t", "2880", "--mem", "32000", "--gpus=2", "--cpus-per-gpu=4"]
    # 2 GPUs: one torchrun job with one worker per GPU, the job's threads shared among them
    assert "torchrun --standalone --nproc-per-node=2 -m steps.train_tts" in train["shell"]
    assert train["shell"].startswith("OMP_NUM_THREADS=2 python -m steps.with_gpus --gpus 2 -- ")
    assert "--gpus 2 --threads 2 " in train["shell"]

    for rule in ("train_ser", "decode"):
        job = jobs[rule]
        args = sbatch_args(job["resources"], job["threads"])
        assert args[:2] == ["-p", "gpu"] and "--gpus=1" in args, rule
        assert job["shell"].startswith("python -m steps.with_gpus --gpus 1 -- python -m steps."), rule

    feats = jobs["make_feats"]
    assert sbatch_args(feats["resources"], feats["threads"]) == [
        "-p", "cpu", "-t", "120", "--mem", "8000", "--ntasks=1", "--cpus-per-task=8"]
    vocode = jobs["vocode"]
    assert sbatch_args(vocode["resources"], vocode["threads"]) == [
        "-p", "cpu", "-t", "60", "--mem", "4000", "--ntasks=1", f"--cpus-per-task={vocode['threads']}"]
    assert not vocode["shell"].startswith("python -m steps.with_gpus")


def test_default_profile_is_local():
    profile = yaml.safe_load((REPO / "profiles" / "default" / "profile.yaml").read_text())
    assert "executor" not in profile and profile["rerun-incomplete"] is True


def test_launchers():
    from pipeline.launch import gpu_prefix, train_launcher, worker_threads

    assert gpu_prefix(0) == "" and train_launcher(0, 2) == "python -m"
    assert train_launcher(1, 4) == "python -m steps.with_gpus --gpus 1 -- python -m"
    assert train_launcher(4, 8) == ("OMP_NUM_THREADS=2 python -m steps.with_gpus --gpus 4 -- "
                                    "torchrun --standalone --nproc-per-node=4 -m")
    assert worker_threads(2, 4) == 1 and worker_threads(8, 0) == 8

"""The exact jobs a fresh dry run plans for the demo experiment and for the results table, so
a change of the workflow files that drops, renames or duplicates a stage fails here."""

from collections import Counter

import pytest

from tests.pipeline_fixtures import REPO, make_workdir, snakemake

# the jobs of one experiment exp/espeak_emo_<model>/done on the embedded corpus (griffin_lim only)
PER_CORPUS = {"espeak_emo_generate": 1, "prepare_corpus": 1, "validate_data_dir": 3, "make_feats": 3,
              "compute_stats": 1, "make_tokens": 1, "train_ser": 1, "train_asr": 1, "evaluate_real": 1,
              "analyse_reference": 1, "train_text_emotion": 1}
PER_MODEL = {"write_config": 1, "train_tts": 1, "decode": 1, "vocode": 2, "evaluate": 2,
             "emotion_space": 1, "intensity_check": 1, "synth_assets": 1, "summarize": 1}


def planned_jobs(workdir, target: str) -> Counter:
    """rule -> number of jobs, from the job table of ``snakemake -n --quiet rules``."""
    proc = snakemake(workdir, target, extra=("-n", "--quiet", "rules"))
    jobs: Counter = Counter()
    lines = (proc.stdout + proc.stderr).splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["job", "count"])
    for line in lines[start + 1:]:
        parts = line.split()
        if not parts or parts[0].startswith("-"):
            continue
        if parts[0] == "total":
            assert int(parts[1]) == sum(jobs.values())
            break
        jobs[parts[0]] += int(parts[1])
    return jobs


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return make_workdir(tmp_path_factory.mktemp("plan"))


def test_demo_experiment_plans_every_stage_once(workdir):
    assert planned_jobs(workdir, "exp/espeak_emo_gst/done") == Counter({**PER_CORPUS, **PER_MODEL})


def test_results_table_plans_every_backend(workdir):
    models = sorted(p.stem for p in (REPO / "conf" / "tts").glob("*.yaml"))
    assert len(models) >= 6
    expected = Counter(PER_CORPUS)
    for rule, count in PER_MODEL.items():
        expected[rule] = count * len(models)
    expected["results_table"] = 1
    assert planned_jobs(workdir, "results/espeak_emo.md") == expected


def test_pack_plans_the_experiment_then_packs_it(workdir):
    expected = Counter({**PER_CORPUS, **PER_MODEL, "pack": 1})
    assert planned_jobs(workdir, "exp/espeak_emo_gst/pack.zip") == expected

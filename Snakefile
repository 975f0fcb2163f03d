# emotts: the generic DAG of an emotional TTS experiment.
#
#   data prep (recipes/) -> validate -> features + stats -> tokens (rules/data.smk, rules/feats.smk)
#   -> train TTS -> decode (rules/tts.smk) -> vocode (rules/vocoder.smk)
#   -> evaluate with the shared emotion classifier -> done (rules/eval.smk, rules/emotion_eval.smk)
#
# Targets: exp/<corpus>_<model>/done for any conf/corpus/<corpus>.yaml x conf/tts/<model>.yaml,
# results/<corpus>.md for every model of a corpus. Paths come from the one table pipeline/paths.py;
# each rule gets only the slice of the resolved config it depends on as `params`
# (pipeline/slices.py), so editing a conf re-runs exactly the stages that read it. Declared
# outputs are marker or concrete files, never an exp directory: Snakemake deletes the outputs of
# a failed job, and training checkpoints must survive a crash.

from pathlib import Path

from pipeline import paths as P
from pipeline.launch import export_job_environment, gpu_prefix, train_launcher, worker_threads
from pipeline.lookup import ConfLookup
from pipeline.rule_paths import RulePaths
from pipeline.slices import RuleSlices
from pytorch_backend.utils.numba_cache import warm as warm_numba_cache

CONFS = ConfLookup(config.get("conf_dir", Path(workflow.basedir) / "conf"))
SLICES = RuleSlices(CONFS)
PATHS = RulePaths(CONFS)
export_job_environment()
warm_numba_cache()  # before parallel jobs import librosa (pytorch_backend/utils/numba_cache.py)
report: "report/workflow.rst"  # the front page of `snakemake --report` (rules/report.smk)


wildcard_constraints:
    corpus=P.alternation(CONFS.corpora),
    model=P.alternation(CONFS.models),
    split="train|dev|eval",
    name="train|dev|eval|floor",
    token_type="char|phn|bpe",
    feats=r"[A-Za-z0-9_.-]+",
    vocoder=r"[A-Za-z0-9_]+",


rule all:
    input:
        P.fill(P.DONE, corpus="espeak_emo", model="gst"),
    default_target: True


include: "recipes/corpus.smk"
include: "recipes/espeak_emo.smk"
include: "rules/data.smk"
include: "rules/feats.smk"
include: "rules/tts.smk"
include: "rules/vocoder.smk"
include: "rules/eval.smk"
include: "rules/emotion_eval.smk"
include: "rules/report.smk"
include: "rules/synth.smk"

# emotts: the generic CONFS of an emotional TTS experiment.
#
#   data prep (recipes/<recipe>.smk) -> validate -> features + stats -> tokens
#   -> train TTS -> decode -> vocode -> evaluate (+ shared emotion classifier) -> done
#
# Targets: exp/<corpus>_<model>/done for any conf/corpus/<corpus>.yaml x conf/tts/<model>.yaml.
# Each rule gets only the slice of the resolved config it depends on as `params` (see
# pytorch_backend/dag.py), so editing a conf re-runs exactly the stages that read it.
# Declared outputs are marker or concrete files, never an exp directory: Snakemake deletes the
# outputs of a failed job, and training checkpoints must survive a crash.

import sys
from pathlib import Path

REPO = Path(workflow.basedir)
sys.path.insert(0, str(REPO))

from pytorch_backend.dag import (DATA_FILES, SPLITS, Dag, alternation, as_json, export_job_environment,
                                  gpu_prefix, train_launcher, worker_threads)

CONFS = Dag(config.get("conf_dir", REPO / "conf"))
export_job_environment(REPO)


wildcard_constraints:
    corpus=alternation(CONFS.corpora),
    model=alternation(CONFS.models),
    split="train|dev|eval",
    name="train|dev|eval|floor",
    token_type="char|phn|bpe",
    feats=r"[A-Za-z0-9_.-]+",
    vocoder=r"[A-Za-z0-9_]+",


# every corpus recipe (data-prep rules only) and the rule files of the shared per-corpus models
for _recipe in sorted((REPO / "recipes").glob("*.smk")):

    include: str(_recipe)


for _rules in sorted((REPO / "rules").glob("*.smk")):

    include: str(_rules)


rule all:
    input:
        "exp/espeak_emo_gst/done",
    default_target: True


rule validate_data_dir:
    input:
        expand("data/{{corpus}}/{{split}}/{name}", name=DATA_FILES),
    output:
        "data/{corpus}/{split}/.validated",
    params:
        conf=CONFS.validate_slice,
    log:
        "data/{corpus}/log/validate_{split}.log",
    shell:
        "python -m steps.validate_data_dir --conf {params.conf:q}"
        " --data-dir data/{wildcards.corpus}/{wildcards.split} --touch {output} --log {log}"


rule make_feats:
    input:
        wav_scp="data/{corpus}/{split}/wav.scp",
        validated="data/{corpus}/{split}/.validated",
    output:
        scp="dump/{corpus}/{feats}/{split}/feats.scp",
        num_frames="dump/{corpus}/{feats}/{split}/utt2num_frames",
        # frame-level F0 and log energy (feats conf pitch_energy: true), read by fastspeech2
        pitch="dump/{corpus}/{feats}/{split}/pitch.scp",
        energy="dump/{corpus}/{feats}/{split}/energy.scp",
    params:
        conf=lambda wc: as_json(CONFS.feats_conf(wc.feats)),
        pipes=lambda wc: "--allow-pipes" if CONFS.corpus_conf(wc.corpus)["allow_pipes"] else "",
    threads: lambda wc: int(CONFS.feats_conf(wc.feats)["nj"])
    log:
        "dump/{corpus}/{feats}/log/make_feats_{split}.log",
    shell:
        "python -m steps.make_feats --conf {params.conf:q} --data-dir data/{wildcards.corpus}/{wildcards.split}"
        " --out dump/{wildcards.corpus}/{wildcards.feats}/{wildcards.split} --nj {threads} {params.pipes}"
        " --log {log}"


rule compute_stats:
    input:
        "dump/{corpus}/{feats}/train/feats.scp",
    output:
        "dump/{corpus}/{feats}/stats.npz",
    log:
        "dump/{corpus}/{feats}/log/compute_stats.log",
    shell:
        "python -m steps.compute_stats --feats-scp {input} --out {output} --log {log}"


rule make_tokens:
    input:
        text=expand("data/{{corpus}}/{split}/text", split=SPLITS),
        validated=expand("data/{{corpus}}/{split}/.validated", split=SPLITS),
    output:
        token_list="data/{corpus}/tokens/{token_type}/token_list",
        text_tokens=expand("data/{{corpus}}/tokens/{{token_type}}/{split}/text_tokens", split=SPLITS),
    params:
        conf=CONFS.tokens_slice,
    log:
        "data/{corpus}/log/make_tokens_{token_type}.log",
    shell:
        "python -m steps.make_tokens --conf {params.conf:q} --data-root data/{wildcards.corpus}"
        " --out data/{wildcards.corpus}/tokens/{wildcards.token_type} --log {log}"


rule train_ser:
    input:
        feats=CONFS.feats_inputs,
        validated=expand("data/{{corpus}}/{split}/.validated", split=SPLITS),
    output:
        "exp/{corpus}_ser/done",
    params:
        conf=CONFS.ser_slice,
        dump=CONFS.dump_dir,
        gpus=lambda wc, resources: gpu_prefix(resources.gpu),
    threads: 2
    resources:
        gpu=1,
    log:
        "exp/{corpus}_ser/log/train_ser.log",
    shell:
        "{params.gpus}python -m steps.train_ser --conf {params.conf:q} --data-root data/{wildcards.corpus}"
        " --dump {params.dump} --out exp/{wildcards.corpus}_ser --log {log}"


rule write_config:
    output:
        "exp/{corpus}_{model}/config.yaml",
    params:
        conf=lambda wc: as_json(CONFS.exp(wc)),
    log:
        "exp/{corpus}_{model}/log/write_config.log",
    shell:
        "python -m steps.write_config --conf {params.conf:q} --out {output} --log {log}"


rule train_tts:
    input:
        tokens=lambda wc: [f"{CONFS.token_dir(wc)}/token_list"]
        + [f"{CONFS.token_dir(wc)}/{s}/text_tokens" for s in ("train", "dev")],
        feats=lambda wc: CONFS.feats_inputs(wc, ["train", "dev"]),
    output:
        "exp/{corpus}_{model}/train/train.done",
    params:
        conf=CONFS.train_slice,
        tokens=CONFS.token_dir,
        dump=CONFS.dump_dir,
        source=CONFS.tts_conf_path,
        # gpu > 1: torchrun, one DDP worker per GPU (see pytorch_backend/dag.py)
        launcher=lambda wc, resources, threads: train_launcher(resources.gpu, threads),
        worker_threads=lambda wc, resources, threads: worker_threads(threads, resources.gpu),
    threads: 2
    resources:
        gpu=lambda wc: int(CONFS.exp(wc)["tts"]["train"]["ngpu"]),
    log:
        "exp/{corpus}_{model}/log/train_tts.log",
    shell:
        "{params.launcher} steps.train_tts --conf {params.conf:q} --data-root data/{wildcards.corpus}"
        " --tokens {params.tokens} --dump {params.dump} --out exp/{wildcards.corpus}_{wildcards.model}/train"
        " --gpus {resources.gpu} --threads {params.worker_threads} --source {params.source:q} --log-file {log}"


rule decode:
    input:
        done="exp/{corpus}_{model}/train/train.done",
        tokens=lambda wc: f"{CONFS.token_dir(wc)}/{wc.split}/text_tokens",
        feats=lambda wc: CONFS.feats_inputs(wc, ["train"]),
    output:
        "exp/{corpus}_{model}/decode/{split}/feats.scp",
    params:
        conf=CONFS.decode_slice,
        tokens=CONFS.token_dir,
        dump=CONFS.dump_dir,
        gpus=lambda wc, resources: gpu_prefix(resources.gpu),
    threads: 2
    resources:
        gpu=lambda wc: min(1, int(CONFS.exp(wc)["tts"]["train"]["ngpu"])),
    log:
        "exp/{corpus}_{model}/log/decode_{split}.log",
    shell:
        "{params.gpus}python -m steps.decode --conf {params.conf:q} --model-dir exp/{wildcards.corpus}_{wildcards.model}/train"
        " --data-root data/{wildcards.corpus} --split {wildcards.split} --tokens {params.tokens}"
        " --dump {params.dump} --out exp/{wildcards.corpus}_{wildcards.model}/decode/{wildcards.split}"
        " --gpus {resources.gpu} --log {log}"


rule vocode:
    input:
        feats=CONFS.vocoder_input,
        model=CONFS.vocoder_model_input,  # exp/{corpus}_voc_{vocoder}/train.done for trained vocoders
    output:
        "exp/{corpus}_{model}/synth/{vocoder}/{name}/wav.scp",
    params:
        conf=CONFS.vocoder_slice,
        model_dir=CONFS.vocoder_model_arg,
    threads: 2
    log:
        "exp/{corpus}_{model}/log/vocode_{vocoder}_{name}.log",
    shell:
        "python -m steps.vocode --conf {params.conf:q} --feats-scp {input.feats} {params.model_dir}"
        " --out exp/{wildcards.corpus}_{wildcards.model}/synth/{wildcards.vocoder}/{wildcards.name}"
        " --log {log}"


rule evaluate:
    input:
        wav_scp="exp/{corpus}_{model}/synth/{vocoder}/{name}/wav.scp",
        ser="exp/{corpus}_ser/done",
        stats=lambda wc: f"{CONFS.dump_dir(wc)}/stats.npz",
        ref=lambda wc: f"data/{wc.corpus}/{CONFS.eval_split(wc)}/.validated",
    output:
        "exp/{corpus}_{model}/eval/{vocoder}/{name}/metrics.json",
    params:
        conf=CONFS.eval_slice,
        ref_split=CONFS.eval_split,
        dump=CONFS.dump_dir,
        targets=CONFS.eval_targets_arg,
    threads: 2
    log:
        "exp/{corpus}_{model}/log/evaluate_{vocoder}_{name}.log",
    shell:
        "python -m steps.evaluate --conf {params.conf:q} --synth-wav-scp {input.wav_scp} {params.targets}"
        " --ref-data-dir data/{wildcards.corpus}/{params.ref_split} --ser-dir exp/{wildcards.corpus}_ser"
        " --dump {params.dump} --out exp/{wildcards.corpus}_{wildcards.model}/eval/{wildcards.vocoder}/{wildcards.name}"
        " --log {log}"


rule summarize:
    input:
        config="exp/{corpus}_{model}/config.yaml",
        train="exp/{corpus}_{model}/train/train.done",
        metrics=CONFS.summary_inputs,
        analysis=CONFS.analysis_outputs,
    output:
        summary="exp/{corpus}_{model}/summary.json",
        results="exp/{corpus}_{model}/results.md",
        done="exp/{corpus}_{model}/done",
    params:
        vocoders=lambda wc: " ".join(CONFS.exp(wc)["vocoders"]),
        split=lambda wc: CONFS.exp(wc)["eval"]["split"],
        floor=lambda wc: "" if CONFS.exp(wc)["eval"]["floor"] else "--no-floor",
    log:
        "exp/{corpus}_{model}/log/summarize.log",
    shell:
        "python -m steps.summarize --exp-dir exp/{wildcards.corpus}_{wildcards.model}"
        " --ser-dir exp/{wildcards.corpus}_ser --vocoders {params.vocoders} --split {params.split}"
        " {params.floor}"
        " --log {log}"

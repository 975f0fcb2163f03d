# One experiment's TTS model: the resolved config, training (resumed from its newest checkpoint,
# which are undeclared side files so a crash keeps them), decoding, and the teacher-forced mels
# a vocoder can be fine-tuned on.


rule write_config:
    output:
        P.CONFIG,
    params:
        conf=SLICES.exp,
    log:
        P.fill(P.EXP_LOG, stage="write_config"),
    shell:
        "python -m steps.write_config --conf {params.conf:q} --out {output} --log {log}"


rule train_tts:
    input:
        tokens=PATHS.token_files,
        feats=lambda wc: PATHS.feats(wc, ["train", "dev"]),
    output:
        P.TRAIN_DONE,
    params:
        conf=SLICES.train,
        tokens=PATHS.token_dir,
        dump=PATHS.dump_dir,
        source=PATHS.tts_conf,
        data_root=P.of_job(P.DATA),
        out=P.of_job(P.TRAIN),
        # gpu > 1: torchrun, one DDP worker per GPU (see pipeline/launch.py)
        launcher=lambda wc, resources, threads: train_launcher(resources.gpu, threads),
        worker_threads=lambda wc, resources, threads: worker_threads(threads, resources.gpu),
    threads: 2
    resources:
        gpu=lambda wc: int(CONFS.exp(wc)["tts"]["train"]["ngpu"]),
    log:
        P.fill(P.EXP_LOG, stage="train_tts"),
    shell:
        "{params.launcher} steps.train_tts --conf {params.conf:q} --data-root {params.data_root}"
        " --tokens {params.tokens} --dump {params.dump} --out {params.out}"
        " --gpus {resources.gpu} --threads {params.worker_threads} --source {params.source:q} --log-file {log}"


rule decode:
    input:
        done=P.TRAIN_DONE,
        tokens=PATHS.text_tokens,
        feats=lambda wc: PATHS.feats(wc, ["train"]),
    output:
        P.DECODE_SCP,
    params:
        conf=SLICES.decode,
        tokens=PATHS.token_dir,
        dump=PATHS.dump_dir,
        model_dir=P.of_job(P.TRAIN),
        data_root=P.of_job(P.DATA),
        out=P.of_job(P.DECODE),
        gpus=lambda wc, resources: gpu_prefix(resources.gpu),
    threads: 2
    resources:
        gpu=lambda wc: min(1, int(CONFS.exp(wc)["tts"]["train"]["ngpu"])),
    log:
        P.fill(P.EXP_LOG, stage="decode_{split}"),
    shell:
        "{params.gpus}python -m steps.decode --conf {params.conf:q} --model-dir {params.model_dir}"
        " --data-root {params.data_root} --split {wildcards.split} --tokens {params.tokens}"
        " --dump {params.dump} --out {params.out} --gpus {resources.gpu} --log {log}"


rule dump_teacher_forced:
    input:
        done=P.TRAIN_DONE,
        tokens=PATHS.text_tokens,
        feats=lambda wc: PATHS.feats(wc, [wc.split]),
    output:
        P.TEACHER_FORCED_SCP,
    params:
        tokens=PATHS.token_dir,
        dump=PATHS.dump_dir,
        model_dir=P.of_job(P.TRAIN),
        data_root=P.of_job(P.DATA),
        out=P.of_job(P.TEACHER_FORCED),
    threads: 2
    log:
        P.fill(P.EXP_LOG, stage="teacher_forced_{split}"),
    shell:
        "python -m steps.dump_teacher_forced --model-dir {params.model_dir}"
        " --data-root {params.data_root} --tokens {params.tokens} --dump {params.dump}"
        " --split {wildcards.split} --out {params.out} --threads {threads} --log {log}"

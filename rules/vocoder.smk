# Vocoding an experiment's decoded (or, for its floor, real) mels, and the neural vocoders trained
# per corpus on its real speech: exp/<corpus>_voc_<vocoder>/ from conf/vocoder/<vocoder>.yaml (its
# `train` section), shared by every experiment of the corpus that lists the vocoder (conf key
# `vocoders`). Target: exp/<corpus>_voc_<vocoder>/done, which also needs the vocoder's
# analysis-synthesis floor (real eval mels -> vocoder -> scores). Checkpoints are undeclared side
# files of train_vocoder, so a crash keeps training progress.
# Fine-tuning (optional): a vocoder conf with train.teacher_forced: <model> trains on the
# teacher-forced mels of that experiment (rule dump_teacher_forced), and with
# train.init_from: <vocoder> starts from that trained vocoder (see conf/vocoder/hifigan_ft_gst.yaml).


rule vocode:
    input:
        feats=PATHS.vocoder_feats,
        model=PATHS.vocoder_model,  # the trained vocoder's train.done (none for Griffin-Lim)
    output:
        P.SYNTH_WAV_SCP,
    params:
        conf=SLICES.vocoder,
        model_dir=PATHS.vocoder_model_arg,
        out=P.of_job(P.SYNTH),
    threads: 2
    log:
        P.fill(P.EXP_LOG, stage="vocode_{vocoder}_{name}"),
    shell:
        "python -m steps.vocode --conf {params.conf:q} --feats-scp {input.feats} {params.model_dir}"
        " --out {params.out} --log {log}"


rule train_vocoder:
    input:
        feats=lambda wc: PATHS.feats(wc, ["train", "dev"]),
        validated=expand(P.VALIDATED, split=["train", "dev"], allow_missing=True),
        finetune=PATHS.vocoder_train,  # train.init_from / train.teacher_forced (else none)
    output:
        P.VOC_TRAIN_DONE,
    params:
        conf=SLICES.vocoder_train,
        mels=PATHS.vocoder_train_args,
        source=lambda wc: f"conf/vocoder/{wc.vocoder}.yaml",  # named in its errors
        data_root=P.of_job(P.DATA),
        out=P.of_job(P.VOC),
    threads: 2
    resources:
        gpu=0,
    log:
        P.fill(P.VOC_LOG, stage="train"),
    shell:
        "python -m steps.train_vocoder --conf {params.conf:q} --data-root {params.data_root}"
        " {params.mels} --out {params.out} --gpus {resources.gpu} --threads {threads}"
        " --source {params.source:q} --touch {output} --log {log}"


rule vocoder_floor_synth:
    input:
        done=P.VOC_TRAIN_DONE,
        feats=PATHS.vocoder_floor_feats,
    output:
        P.VOC_FLOOR_WAV_SCP,
    params:
        conf=SLICES.vocoder_synth,
        model_dir=P.of_job(P.VOC),
        out=P.of_job(P.VOC_FLOOR_SYNTH),
    threads: 2
    log:
        P.fill(P.VOC_LOG, stage="vocode_floor"),
    shell:
        "python -m steps.vocode --conf {params.conf:q} --feats-scp {input.feats}"
        " --model-dir {params.model_dir} --out {params.out} --log {log}"


rule vocoder_floor_eval:
    input:
        wav_scp=P.VOC_FLOOR_WAV_SCP,
        ser=P.SER_DONE,
        asr=P.ASR_DONE,
        stats=PATHS.stats,
        ref=PATHS.vocoder_reference,
        ref_analysis=PATHS.vocoder_reference_analysis,
    output:
        P.VOC_FLOOR_METRICS,
    params:
        conf=SLICES.vocoder_eval,
        ref_dir=PATHS.vocoder_reference_dir,
        ser_dir=P.of_job(P.SER),
        asr_dir=P.of_job(P.ASR),
        dump=PATHS.dump_dir,
        out=P.of_job(P.VOC_FLOOR_EVAL),
    threads: 2
    log:
        P.fill(P.VOC_LOG, stage="evaluate_floor"),
    shell:
        "python -m steps.evaluate --conf {params.conf:q} --synth-wav-scp {input.wav_scp}"
        " --ref-data-dir {params.ref_dir} --ser-dir {params.ser_dir} --asr-dir {params.asr_dir}"
        " --dump {params.dump} --ref-analysis {input.ref_analysis} --out {params.out} --log {log}"


rule vocoder_done:
    input:
        train=P.VOC_TRAIN_DONE,
        floor=P.VOC_FLOOR_METRICS,
    output:
        touch(P.VOC_DONE),

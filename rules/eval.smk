# Evaluation: the corpus's emotion classifier and CTC recognizer (each trained once on its real
# train speech), the real recordings scored by every judge (once per corpus), the scores of each
# vocoder's speech (and of its analysis-synthesis floor), the experiment's summary and done.


rule train_ser:
    input:
        feats=PATHS.feats,
        validated=expand(P.VALIDATED, split=P.SPLITS, allow_missing=True),
    output:
        P.SER_DONE,
    params:
        conf=SLICES.ser,
        dump=PATHS.dump_dir,
        data_root=P.of_job(P.DATA),
        out=P.of_job(P.SER),
        gpus=lambda wc, resources: gpu_prefix(resources.gpu),
    threads: 2
    resources:
        gpu=1,
    log:
        P.fill(P.SER_LOG, stage="train_ser"),
    shell:
        "{params.gpus}python -m steps.train_ser --conf {params.conf:q} --data-root {params.data_root}"
        " --dump {params.dump} --out {params.out} --log {log}"


rule train_asr:
    input:
        feats=PATHS.feats,
        validated=expand(P.VALIDATED, split=P.SPLITS, allow_missing=True),
    output:
        P.ASR_DONE,
    params:
        conf=SLICES.asr,
        dump=PATHS.dump_dir,
        data_root=P.of_job(P.DATA),
        out=P.of_job(P.ASR),
        gpus=lambda wc, resources: gpu_prefix(resources.gpu),
    threads: 2
    resources:
        gpu=1,
    log:
        P.fill(P.ASR_LOG, stage="train_asr"),
    shell:
        "{params.gpus}python -m steps.train_asr --conf {params.conf:q} --data-root {params.data_root}"
        " --dump {params.dump} --out {params.out} --gpus {resources.gpu} --threads {threads} --log {log}"


rule evaluate_real:
    input:
        ser=P.SER_DONE,
        asr=P.ASR_DONE,
        stats=PATHS.stats,
        ref=P.VALIDATED,
    output:
        P.REAL_METRICS,
    params:
        conf=SLICES.real,
        ref_dir=P.of_job(P.DATA_SPLIT),
        ser_dir=P.of_job(P.SER),
        asr_dir=P.of_job(P.ASR),
        dump=PATHS.dump_dir,
        out=P.of_job(P.REAL),
    threads: 2
    log:
        P.fill(P.REAL_LOG, stage="evaluate_real_{split}"),
    shell:
        "python -m steps.evaluate_real --conf {params.conf:q} --ref-data-dir {params.ref_dir}"
        " --ser-dir {params.ser_dir} --asr-dir {params.asr_dir} --dump {params.dump} --out {params.out}"
        " --log {log}"


rule analyse_reference:
    input:
        ref=P.VALIDATED,
    output:
        P.REF_ANALYSIS,
    params:
        conf=SLICES.reference_analysis,
        ref_dir=P.of_job(P.DATA_SPLIT),
    threads: 2
    log:
        P.fill(P.REAL_LOG, stage="analyse_reference_{split}"),
    shell:
        "python -m steps.analyse_reference --conf {params.conf:q} --ref-data-dir {params.ref_dir}"
        " --out {output} --log {log}"


rule evaluate:
    input:
        wav_scp=P.SYNTH_WAV_SCP,
        ser=P.SER_DONE,
        asr=P.ASR_DONE,
        stats=PATHS.stats,
        ref=PATHS.reference,
        ref_analysis=PATHS.reference_analysis,
    output:
        P.METRICS,
    params:
        conf=SLICES.eval,
        ref_dir=PATHS.reference_dir,
        ser_dir=P.of_job(P.SER),
        asr_dir=P.of_job(P.ASR),
        dump=PATHS.dump_dir,
        targets=PATHS.eval_targets_arg,
        out=P.of_job(P.EVAL),
    threads: 2
    log:
        P.fill(P.EXP_LOG, stage="evaluate_{vocoder}_{name}"),
    shell:
        "python -m steps.evaluate --conf {params.conf:q} --synth-wav-scp {input.wav_scp} {params.targets}"
        " --ref-data-dir {params.ref_dir} --ser-dir {params.ser_dir} --asr-dir {params.asr_dir}"
        " --dump {params.dump} --ref-analysis {input.ref_analysis} --out {params.out} --log {log}"


rule summarize:
    input:
        config=P.CONFIG,
        train=P.TRAIN_DONE,
        metrics=PATHS.summary,
        real=PATHS.real_metrics,
        analysis=PATHS.analysis,
        textemo=P.TEXTEMO_DONE,  # its accuracy goes into results.md (rules/synth.smk)
        assets=P.ASSETS,  # a done experiment synthesizes: `emotts synthesize -m exp/<exp>`
    output:
        summary=P.SUMMARY,
        results=P.RESULTS,
        done=P.DONE,
    params:
        vocoders=lambda wc: " ".join(CONFS.exp(wc)["vocoders"]),
        split=lambda wc: CONFS.exp(wc)["eval"]["split"],
        floor=lambda wc: "" if CONFS.exp(wc)["eval"]["floor"] else "--no-floor",
        exp_dir=P.of_job(P.EXP),
        ser_dir=P.of_job(P.SER),
        real_dir=PATHS.real_dir,
        textemo_dir=P.of_job(P.TEXTEMO),
    log:
        P.fill(P.EXP_LOG, stage="summarize"),
    shell:
        "python -m steps.summarize --exp-dir {params.exp_dir} --ser-dir {params.ser_dir}"
        " --vocoders {params.vocoders} --split {params.split} {params.floor} --real-dir {params.real_dir}"
        " --textemo-dir {params.textemo_dir}"
        " --log {log}"

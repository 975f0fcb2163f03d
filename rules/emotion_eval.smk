# Emotion analysis of a trained TTS experiment, and the results table across backends:
#   the emotion-space map (PCA / t-SNE of the train utterances' style or label embeddings),
#   the intensity check (P(target emotion) at each intensity level, its Spearman ranking),
#   results/<corpus>.md + .json (every backend of conf/tts/ side by side).
# The first two are inputs of the experiment's summary (rules/eval.smk).


rule emotion_space:
    input:
        done=P.TRAIN_DONE,
        feats=lambda wc: PATHS.feats(wc, ["train"]),
    output:
        P.EMOTION_SPACE,
    params:
        conf=SLICES.analysis,
        tokens=PATHS.token_dir,
        dump=PATHS.dump_dir,
        model_dir=P.of_job(P.TRAIN),
        data_root=P.of_job(P.DATA),
        out=P.of_job(P.PLOTS),
    threads: 2
    log:
        P.fill(P.EXP_LOG, stage="emotion_space"),
    shell:
        "python -m steps.plot_emotion_space --conf {params.conf:q} --model-dir {params.model_dir}"
        " --data-root {params.data_root} --tokens {params.tokens} --dump {params.dump}"
        " --threads {threads} --out {params.out} --log {log}"


rule intensity_check:
    input:
        done=P.TRAIN_DONE,
        ser=P.SER_DONE,
        tokens=lambda wc: PATHS.text_tokens(wc, "eval"),
        feats=lambda wc: PATHS.feats(wc, ["train"]),
    output:
        P.INTENSITY_JSON,
    params:
        conf=SLICES.analysis,
        tokens=PATHS.token_dir,
        dump=PATHS.dump_dir,
        model_dir=P.of_job(P.TRAIN),
        data_root=P.of_job(P.DATA),
        ser_dir=P.of_job(P.SER),
        out=P.of_job(P.INTENSITY),
    threads: 2
    log:
        P.fill(P.EXP_LOG, stage="intensity_check"),
    shell:
        "python -m steps.intensity_check --conf {params.conf:q} --model-dir {params.model_dir}"
        " --data-root {params.data_root} --tokens {params.tokens} --dump {params.dump}"
        " --ser-dir {params.ser_dir} --threads {threads} --out {params.out} --log {log}"


rule results_table:
    input:
        PATHS.results,
    output:
        md=P.TABLE_MD,
        json=P.TABLE_JSON,
    log:
        P.TABLE_LOG,
    shell:
        "python -m steps.results_table --exps {input} --out {output.md} --log {log}"

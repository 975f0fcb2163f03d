# Emotion analysis of a trained TTS experiment, and the results table across backends:
#   exp/{corpus}_{model}/plots/emotion_space.json   (+ PCA / t-SNE maps of the train utterances)
#   exp/{corpus}_{model}/eval/intensity/intensity.json  (P(target emotion) at intensities 0, 0.5, 1)
#   results/{corpus}.md + .json                      (every backend of conf/tts/ side by side)
# The first two are inputs of the experiment's summary (exp/{corpus}_{model}/done).


rule emotion_space:
    input:
        done="exp/{corpus}_{model}/train/train.done",
        feats=lambda wc: CONFS.feats_inputs(wc, ["train"]),
    output:
        "exp/{corpus}_{model}/plots/emotion_space.json",
    params:
        conf=CONFS.analysis_slice,
        tokens=CONFS.token_dir,
        dump=CONFS.dump_dir,
    threads: 2
    log:
        "exp/{corpus}_{model}/log/emotion_space.log",
    shell:
        "python -m steps.plot_emotion_space --conf {params.conf:q}"
        " --model-dir exp/{wildcards.corpus}_{wildcards.model}/train --data-root data/{wildcards.corpus}"
        " --tokens {params.tokens} --dump {params.dump} --threads {threads}"
        " --out exp/{wildcards.corpus}_{wildcards.model}/plots --log {log}"


rule intensity_check:
    input:
        done="exp/{corpus}_{model}/train/train.done",
        ser="exp/{corpus}_ser/done",
        tokens=lambda wc: f"{CONFS.token_dir(wc)}/eval/text_tokens",
        feats=lambda wc: CONFS.feats_inputs(wc, ["train"]),
    output:
        "exp/{corpus}_{model}/eval/intensity/intensity.json",
    params:
        conf=CONFS.analysis_slice,
        tokens=CONFS.token_dir,
        dump=CONFS.dump_dir,
    threads: 2
    log:
        "exp/{corpus}_{model}/log/intensity_check.log",
    shell:
        "python -m steps.intensity_check --conf {params.conf:q}"
        " --model-dir exp/{wildcards.corpus}_{wildcards.model}/train --data-root data/{wildcards.corpus}"
        " --tokens {params.tokens} --dump {params.dump} --ser-dir exp/{wildcards.corpus}_ser"
        " --threads {threads} --out exp/{wildcards.corpus}_{wildcards.model}/eval/intensity --log {log}"


rule results_table:
    input:
        CONFS.results_inputs,
    output:
        md="results/{corpus}.md",
        json="results/{corpus}.json",
    log:
        "results/log/{corpus}.log",
    shell:
        "python -m steps.results_table --exps {input} --out {output.md} --log {log}"

# Neural vocoders trained per corpus on its real speech: exp/{corpus}_voc_{vocoder}/ from
# conf/vocoder/{vocoder}.yaml (its `train` section), shared by every experiment of the corpus
# that lists the vocoder (conf key `vocoders`). Target: exp/{corpus}_voc_{vocoder}/done, which
# also needs the vocoder's analysis-synthesis floor (real eval mels -> vocoder -> scores).
# Checkpoints are undeclared side files of train_vocoder, so a crash keeps training progress.
# Fine-tuning (optional): a vocoder conf with train.teacher_forced: <model> trains on the
# teacher-forced mels of exp/{corpus}_<model> (rule dump_teacher_forced), and with
# train.init_from: <vocoder> starts from exp/{corpus}_voc_<vocoder> (see conf/vocoder/hifigan_ft_gst.yaml).


rule train_vocoder:
    input:
        feats=lambda wc: CONFS.feats_inputs(wc, ["train", "dev"]),
        validated=expand("data/{{corpus}}/{split}/.validated", split=["train", "dev"]),
        finetune=CONFS.vocoder_train_inputs,  # train.init_from / train.teacher_forced (else none)
    output:
        "exp/{corpus}_voc_{vocoder}/train.done",
    params:
        conf=CONFS.vocoder_train_slice,
        mels=CONFS.vocoder_train_args,
        source=lambda wc: f"conf/vocoder/{wc.vocoder}.yaml",
    threads: 2
    resources:
        gpu=0,
    log:
        "exp/{corpus}_voc_{vocoder}/log/train.log",
    shell:
        "python -m steps.train_vocoder --conf {params.conf:q} --data-root data/{wildcards.corpus}"
        " {params.mels} --out exp/{wildcards.corpus}_voc_{wildcards.vocoder}"
        " --gpus {resources.gpu} --threads {threads} --source {params.source:q}"
        " --touch {output} --log {log}"


rule vocoder_floor_synth:
    input:
        done="exp/{corpus}_voc_{vocoder}/train.done",
        feats=lambda wc: f"{CONFS.dump_dir(wc)}/{CONFS.vocoder_eval_split(wc)}/feats.scp",
    output:
        "exp/{corpus}_voc_{vocoder}/synth/floor/wav.scp",
    params:
        conf=CONFS.vocoder_synth_slice,
    threads: 2
    log:
        "exp/{corpus}_voc_{vocoder}/log/vocode_floor.log",
    shell:
        "python -m steps.vocode --conf {params.conf:q} --feats-scp {input.feats}"
        " --model-dir exp/{wildcards.corpus}_voc_{wildcards.vocoder}"
        " --out exp/{wildcards.corpus}_voc_{wildcards.vocoder}/synth/floor --log {log}"


rule vocoder_floor_eval:
    input:
        wav_scp="exp/{corpus}_voc_{vocoder}/synth/floor/wav.scp",
        ser="exp/{corpus}_ser/done",
        stats=lambda wc: f"{CONFS.dump_dir(wc)}/stats.npz",
        ref=lambda wc: f"data/{wc.corpus}/{CONFS.vocoder_eval_split(wc)}/.validated",
    output:
        "exp/{corpus}_voc_{vocoder}/eval/floor/metrics.json",
    params:
        conf=CONFS.vocoder_eval_slice,
        ref_split=CONFS.vocoder_eval_split,
        dump=CONFS.dump_dir,
    threads: 2
    log:
        "exp/{corpus}_voc_{vocoder}/log/evaluate_floor.log",
    shell:
        "python -m steps.evaluate --conf {params.conf:q} --synth-wav-scp {input.wav_scp}"
        " --ref-data-dir data/{wildcards.corpus}/{params.ref_split} --ser-dir exp/{wildcards.corpus}_ser"
        " --dump {params.dump} --out exp/{wildcards.corpus}_voc_{wildcards.vocoder}/eval/floor"
        " --log {log}"


rule vocoder_done:
    input:
        train="exp/{corpus}_voc_{vocoder}/train.done",
        floor="exp/{corpus}_voc_{vocoder}/eval/floor/metrics.json",
    output:
        touch("exp/{corpus}_voc_{vocoder}/done"),


rule dump_teacher_forced:
    input:
        done="exp/{corpus}_{model}/train/train.done",
        tokens=lambda wc: f"{CONFS.token_dir(wc)}/{wc.split}/text_tokens",
        feats=lambda wc: CONFS.feats_inputs(wc, [wc.split]),
    output:
        "exp/{corpus}_{model}/teacher_forced/{split}/feats.scp",
    params:
        tokens=CONFS.token_dir,
        dump=CONFS.dump_dir,
    threads: 2
    log:
        "exp/{corpus}_{model}/log/teacher_forced_{split}.log",
    shell:
        "python -m steps.dump_teacher_forced --model-dir exp/{wildcards.corpus}_{wildcards.model}/train"
        " --data-root data/{wildcards.corpus} --tokens {params.tokens} --dump {params.dump}"
        " --split {wildcards.split} --out exp/{wildcards.corpus}_{wildcards.model}/teacher_forced"
        " --threads {threads} --log {log}"

# Using a trained experiment (pytorch_backend/synth): everything synthesis needs, indexed in
# exp/<corpus>_<model>/assets.json (the exp dir then works with `emotts synthesize -m exp/<exp>`),
# and one packed file that synthesizes anywhere (exp/<corpus>_<model>/pack.zip). Shared by a
# corpus's experiments: the text emotion classifier of `--emotion auto` (exp/<corpus>_textemo).
#
#   train_text_emotion  tf-idf + logistic regression on the train split's text and utt2emo,
#                       scored on the eval split (textemo.json, confusion.png; in results.md)
#   synth_assets        emotion-mean styles of the train utterances (styles.pt) + assets.json
#   pack                pack.zip: weights, resolved config, token list / bpe model, stats, speaker
#                       and emotion lists, styles, text and speech emotion classifiers, the
#                       experiment's trained vocoders, the results card, a sha256 manifest
# Inputs, arguments and slices: pipeline/synth_paths.py.

from pipeline.synth_paths import SynthPaths

SYNTH = SynthPaths(CONFS)


rule train_text_emotion:
    input:
        data=expand(P.DATA_FILE, split=["train", "eval"],
                    file=["text", "utt2emo"], allow_missing=True),
        validated=expand(P.VALIDATED, split=["train", "eval"], allow_missing=True),
    output:
        P.TEXTEMO_DONE,
    params:
        conf=SYNTH.text_emotion,
        data_root=P.of_job(P.DATA),
        out=P.of_job(P.TEXTEMO),
    log:
        P.fill(P.TEXTEMO_LOG, stage="train"),
    shell:
        "python -m steps.train_text_emotion --conf {params.conf:q} --data-root {params.data_root}"
        " --out {params.out} --log {log}"


rule synth_assets:
    input:
        config=P.CONFIG,
        train=P.TRAIN_DONE,
        tokens=PATHS.token_files,
        feats=lambda wc: PATHS.feats(wc, ["train"]),
        ser=P.SER_DONE,
        textemo=P.TEXTEMO_DONE,
        vocoders=SYNTH.vocoder_inputs,
    output:
        styles=P.STYLES,
        assets=P.ASSETS,
    params:
        exp_dir=P.of_job(P.EXP),
        data_root=P.of_job(P.DATA),
        tokens=PATHS.token_dir,
        dump=PATHS.dump_dir,
        ser=P.of_job(P.SER_MODEL),
        textemo=P.of_job(P.TEXTEMO_MODEL),
        vocoders=SYNTH.vocoder_args,
    threads: 2
    log:
        P.fill(P.EXP_LOG, stage="synth_assets"),
    shell:
        "python -m steps.synth_assets --exp-dir {params.exp_dir} --data-root {params.data_root}"
        " --tokens {params.tokens} --dump {params.dump} --ser {params.ser} --text-emotion {params.textemo}"
        " {params.vocoders} --threads {threads} --log {log}"


rule pack:
    input:
        assets=P.ASSETS,
        done=P.DONE,
    output:
        P.PACK,
    params:
        exp_dir=P.of_job(P.EXP),
    log:
        P.fill(P.EXP_LOG, stage="pack"),
    shell:
        "python -m steps.pack_model --exp-dir {params.exp_dir} --out {output} --log {log}"

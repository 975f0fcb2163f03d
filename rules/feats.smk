# Features and tokens of a corpus: log-mels (+ frame-level F0 and energy) per split, their train
# statistics, and the token lists of each token type.


rule make_feats:
    input:
        wav_scp=P.fill(P.DATA_FILE, file="wav.scp"),
        validated=P.VALIDATED,
    output:
        scp=P.FEATS_SCP,
        num_frames=P.NUM_FRAMES,
        # frame-level F0 and log energy (feats conf pitch_energy: true), read by fastspeech2
        pitch=P.PITCH_SCP,
        energy=P.ENERGY_SCP,
    params:
        conf=SLICES.feats,
        pipes=lambda wc: "--allow-pipes" if CONFS.corpus_conf(wc.corpus)["allow_pipes"] else "",
        data_dir=P.of_job(P.DATA_SPLIT),
        out=P.of_job(P.FEATS_DIR),
    threads: lambda wc: int(CONFS.feats_conf(wc.feats)["nj"])
    log:
        P.fill(P.DUMP_LOG, stage="make_feats_{split}"),
    shell:
        "python -m steps.make_feats --conf {params.conf:q} --data-dir {params.data_dir}"
        " --out {params.out} --nj {threads} {params.pipes} --log {log}"


rule compute_stats:
    input:
        P.fill(P.FEATS_SCP, split="train"),
    output:
        P.STATS,
    log:
        P.fill(P.DUMP_LOG, stage="compute_stats"),
    shell:
        "python -m steps.compute_stats --feats-scp {input} --out {output} --log {log}"


rule make_tokens:
    input:
        text=expand(P.DATA_FILE, split=P.SPLITS, file="text", allow_missing=True),
        validated=expand(P.VALIDATED, split=P.SPLITS, allow_missing=True),
    output:
        token_list=P.TOKEN_LIST,
        text_tokens=expand(P.TEXT_TOKENS, split=P.SPLITS, allow_missing=True),
    params:
        conf=SLICES.tokens,
        data_root=P.of_job(P.DATA),
        out=P.of_job(P.TOKENS),
    log:
        P.fill(P.DATA_LOG, stage="make_tokens_{token_type}"),
    shell:
        "python -m steps.make_tokens --conf {params.conf:q} --data-root {params.data_root}"
        " --out {params.out} --log {log}"

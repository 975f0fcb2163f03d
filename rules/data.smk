# Kaldi data dirs: data/<corpus>/<split>/ checked against Kaldi's rules (sorted, unique ids,
# speaker-prefixed utterance ids, files that agree) before anything reads them.


rule validate_data_dir:
    input:
        expand(P.DATA_FILE, file=P.DATA_FILES, allow_missing=True),
    output:
        P.VALIDATED,
    params:
        conf=SLICES.validate,
        data_dir=P.of_job(P.DATA_SPLIT),
    log:
        P.fill(P.DATA_LOG, stage="validate_{split}"),
    shell:
        "python -m steps.validate_data_dir --conf {params.conf:q} --data-dir {params.data_dir}"
        " --touch {output} --log {log}"

#!/usr/bin/env python3
"""Validate a Kaldi data dir (Kaldi's rules + emotts' utt2emo) and touch a marker on success.

    python steps/validate_data_dir.py --conf '{"emotions": ["neutral", "happy"], "allow_pipes": false}' \
        --data-dir data/<corpus>/train --touch data/<corpus>/train/.validated [--log F]

conf keys: ``emotions`` (required), ``allow_pipes`` (default false), ``check_audio``
(default true: every wav is opened with soundfile.info). On failure the script exits 1 with
the error naming the file and line; the marker is neither written nor removed.
"""

import json

from pytorch_backend.utils import cli

CONF_KEYS = {"emotions", "allow_pipes", "check_audio"}


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True, help="the Kaldi data dir to check")
    p.add_argument("--touch", default=None, help="marker file written (atomically) on success")
    args = p.parse_args()
    log = cli.setup_logging(args.log, args.verbose)

    from pytorch_backend.data.validate import validate_data_dir
    from pytorch_backend.config import check_keys
    from pytorch_backend.errors import ConfigError
    from pytorch_backend.utils.fileio import write_text_atomic

    conf = args.conf
    check_keys(conf, dict.fromkeys(CONF_KEYS), "--conf")
    emotions = conf.get("emotions")
    if not emotions or not isinstance(emotions, list):
        raise ConfigError("--conf", "a non-empty list of emotion labels is required", key="emotions")

    check_audio = bool(conf.get("check_audio", True))
    log.info("validating %s (audio check: %s)", args.data_dir, "on" if check_audio else "off")
    summary = validate_data_dir(args.data_dir, emotions, allow_pipes=bool(conf.get("allow_pipes", False)),
                                check_audio=check_audio)
    duration = summary["duration_s"]
    hours = f"{duration / 3600:.3f} h" if duration is not None else "unknown duration"
    emo = ", ".join(f"{k}={v}" for k, v in summary["emotions"].items())
    log.info("%s is valid: %d utterances, %d speakers, %s; emotions: %s",
             args.data_dir, summary["utterances"], summary["speakers"], hours, emo)
    if args.touch:
        write_text_atomic(args.touch, json.dumps(summary, sort_keys=True) + "\n")


if __name__ == "__main__":
    cli.run(main)

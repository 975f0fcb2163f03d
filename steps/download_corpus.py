#!/usr/bin/env python3
"""Fetch, verify and extract a public corpus into its root (or check that it is already there).

    python -m steps.download_corpus --conf '{"name": "ljspeech", "root": "downloads/ljspeech",
        "download": [{"url": ..., "sha256": ...}], "layout": ["metadata.csv"]}' \
        --archives downloads/ljspeech/archives --touch downloads/ljspeech/.download.done [--log F]

The marker is touched only when the corpus layout is complete (see local/common/download.py).
"""

from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--archives", required=True, help="where fetched archives are kept")
    p.add_argument("--touch", required=True, help="marker written when the corpus is in place")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)

    from pathlib import Path

    from local.common.download import install
    from pytorch_backend.utils.fileio import write_text_atomic

    conf = args.conf
    source = f"conf/corpus/{conf.get('name', '<corpus>')}.yaml"
    install(conf.get("download"), conf["root"], args.archives, conf.get("layout", ()), source=source)
    write_text_atomic(Path(args.touch), "")


if __name__ == "__main__":
    cli.run(main)

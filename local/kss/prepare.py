"""Prepare the KSS corpus into Kaldi data dirs (reader: local/kss/corpus.py).

    python -m local.kss.prepare --conf '<corpus conf JSON>' --root DIR \
        --data-dir data/<corpus> [--no-progress] [--log F]
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from local.common.cli import run  # noqa: E402

if __name__ == "__main__":
    run("kss")

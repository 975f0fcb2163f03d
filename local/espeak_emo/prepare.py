"""Turn a generated espeak_emo corpus into Kaldi data dirs data/<corpus>/{train,dev,eval}/.

Usage: python local/espeak_emo/prepare.py --conf '<corpus conf JSON>' --root DIR
       --data-dir data/<corpus> [--log F]
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "steps"))
import _cli  # noqa: E402  (puts the repository on sys.path)

from local.espeak_emo.to_kaldi import prepare_data_dirs  # noqa: E402


def main() -> None:
    p = _cli.parser(__doc__.splitlines()[0])
    p.add_argument("--root", required=True, help="the generated corpus (holds metadata.tsv)")
    p.add_argument("--data-dir", required=True, help="output: data/<corpus>")
    args = p.parse_args()
    _cli.setup_logging(args.log, args.verbose)
    prepare_data_dirs(args.conf, args.root, args.data_dir)


if __name__ == "__main__":
    _cli.run(main)

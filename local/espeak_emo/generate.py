"""Generate the embedded espeak_emo corpus (eSpeak NG, fully offline) into a directory.

Usage: python -m local.espeak_emo.generate --conf '<corpus conf JSON>' --root DIR [--log F]

Writes DIR/wav/<utt_id>.wav, DIR/README.txt and, last, DIR/metadata.tsv. Re-running with the
same conf reuses identical wavs. See local/espeak_emo/{prosody,plan,generator}.py.
"""

import time

from local.espeak_emo.generator import generate_corpus
from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--root", required=True, help="where the corpus is written")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = p.parse_args()
    log = cli.setup_logging(args.log, args.verbose)
    start = time.perf_counter()
    stats = generate_corpus(args.conf, args.root, progress=not args.no_progress)
    log.info("generated %d utterances (%.1f min of audio) in %.1f s",
             stats["utterances"], stats["seconds"] / 60, time.perf_counter() - start)


if __name__ == "__main__":
    cli.run(main)

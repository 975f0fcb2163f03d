#!/usr/bin/env python
"""Train (or resume) a neural vocoder on a corpus's real speech: exp/<corpus>_voc_<vocoder>/.

Example:
    python -m steps.train_vocoder --conf '{"name": "hifigan", "vocoder": {...conf/vocoder/hifigan.yaml...},
        "feats": {...}, "allow_pipes": false}' --data-root data/espeak_emo --dump dump/espeak_emo/mel80 \
        --out exp/espeak_emo_voc_hifigan --touch exp/espeak_emo_voc_hifigan/train.done

Writes OUT/checkpoints/step_<N>.pt, OUT/train.json, OUT/curves.png, OUT/model.pt (last).
"""

import os

# Before torch loads: OpenMP workers that spin while waiting make 2-thread training on a
# busy 2-core machine ~10x slower; passive waiting costs little when the cores are idle.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
from pytorch_backend.utils import cli


def main() -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--data-root", required=True, help="data/<corpus> (train/ and dev/ wav.scp)")
    p.add_argument("--dump", required=True, help="dump/<corpus>/<feats> (train/ and dev/ feats.scp), or the "
                   "teacher-forced mels exp/<corpus>_<model>/teacher_forced when fine-tuning")
    p.add_argument("--init", default=None, help="model.pt of a trained vocoder to start from (fine-tuning)")
    p.add_argument("--out", required=True, help="exp/<corpus>_voc_<vocoder>")
    p.add_argument("--gpus", type=int, default=0, help="GPUs granted to this job (0: CPU)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: OMP_NUM_THREADS)")
    p.add_argument("--source", default=None, help="the conf file named in error messages")
    p.add_argument("--touch", default=None, help="marker file written when training is complete")
    args = p.parse_args()
    cli.setup_logging(args.log, args.verbose)

    from pathlib import Path

    from pytorch_backend.config import FEATS_SCHEMA, VOCODER_SCHEMA, check_keys, deep_merge, defaults_of
    from pytorch_backend.errors import ConfigError
    from pytorch_backend.vocoders.train import train_vocoder

    voc = args.conf.get("vocoder")
    name = args.conf.get("name") or (voc or {}).get("name")
    if not isinstance(voc, dict) or not name:
        raise ConfigError("--conf", "needs {'name': ..., 'vocoder': {'name': ..., 'train': {...}}}", key="vocoder")
    source = args.source or f"conf/vocoder/{name}.yaml"
    check_keys(voc, VOCODER_SCHEMA, source)
    check_keys(args.conf.get("feats", {}), FEATS_SCHEMA, "--conf", "feats")
    feats = deep_merge(defaults_of(FEATS_SCHEMA), args.conf.get("feats", {}))
    threads = args.threads or int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or None
    device = "cuda" if args.gpus > 0 else "cpu"
    train_vocoder(name, voc, feats, args.data_root, args.dump, args.out, source=source,
                  allow_pipes=bool(args.conf.get("allow_pipes", False)), threads=threads, device=device,
                  init_model=args.init)
    if args.touch:
        Path(args.touch).parent.mkdir(parents=True, exist_ok=True)
        Path(args.touch).touch()


if __name__ == "__main__":
    cli.run(main)

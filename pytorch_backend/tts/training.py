"""What ``steps/train_tts.py`` does, importable: read the data, build the model, train.

``conf`` is the stage's JSON slice: ``{"tts": {model, model_conf, train, decode}, "emotions":
[...], "feats": {...}, "token_type": ...}``; missing ``tts`` keys take the schema defaults.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from pytorch_backend.data.tts_dataset import read_speakers, read_token_list
from pytorch_backend.train import distributed as ddp
from pytorch_backend.train.device import set_deterministic, set_seed, set_threads
from pytorch_backend.train.schedulers import schedule_defining_keys
from pytorch_backend.tts.trainer import Trainer
from pytorch_backend.tts import build_model, needs_prosody
from pytorch_backend.tts.loading import load_split, tts_conf_of
from pytorch_backend.utils.fileio import write_text_atomic

log = logging.getLogger("emotts.train")


# Keys of the train conf that say how long or how visibly to train, not what is trained: a
# checkpoint written under other values of these is resumed (e.g. max_steps raised = train longer),
# except those the LR schedule depends on (max_steps of `exponential`: train/schedulers.py).
SCHEDULE_ONLY_KEYS = ("max_steps", "max_minutes", "eval_interval", "save_interval", "keep_checkpoints",
                      "log_interval", "num_threads", "ngpu", "deterministic")


def training_fingerprint(conf: dict, tts: dict) -> str:
    """A hash of everything that defines the trained model; checkpoints of another one are not resumed."""
    keep = set(schedule_defining_keys(tts["train"]))  # e.g. max_steps of an exponential decay
    train = {k: v for k, v in tts["train"].items() if k not in SCHEDULE_ONLY_KEYS or k in keep}
    what = {"model": tts["model"], "model_conf": tts["model_conf"], "train": train,
            "emotions": conf.get("emotions"), "feats": conf.get("feats"), "token_type": conf.get("token_type")}
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]


def write_training_environment(out: Path, dist, train_conf: dict, nthreads: int) -> None:
    """``<out>/environment.yaml``: the environment record (package versions, git commit, GPUs)
    of the machine that trains -- on a cluster not the one that wrote exp/<exp>/environment.yaml --
    plus the device, ranks, visible GPUs, threads, seed and deterministic mode of this run."""
    import os

    from pytorch_backend.config import dump_yaml
    from pytorch_backend.utils.environment import environment_record

    record = environment_record()
    record["training"] = {"device": str(dist.device), "world_size": dist.world_size, "backend": dist.backend,
                          "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
                          "threads_per_process": nthreads, "seed": int(train_conf["seed"]),
                          "deterministic": bool(train_conf.get("deterministic", False))}
    write_text_atomic(out / "environment.yaml", dump_yaml(record))


def train_tts(conf: dict, data_root, tokens_dir, dump_dir, out_dir, gpus: int = 0, threads: int | None = None,
              source="<conf>", stop_after: int | None = None) -> dict:
    """Train the model of ``conf`` into ``out_dir``; returns the train.json summary."""
    out = Path(out_dir)
    tts = tts_conf_of(conf, source)
    train_conf = tts["train"]
    emotions = list(conf.get("emotions") or ["neutral"])
    n_mels = int((conf.get("feats") or {}).get("n_mels", 80))
    nthreads = set_threads(threads or train_conf.get("num_threads"))
    set_deterministic(bool(train_conf.get("deterministic", False)))  # before any CUDA work
    dist = ddp.setup(gpus)  # torchrun: this rank's device and process group; else choose_device
    device = dist.device
    tokens = read_token_list(Path(tokens_dir) / "token_list")
    speakers = read_speakers(Path(data_root) / "train" / "utt2spk")
    if dist.is_main:
        write_text_atomic(out / "speakers.txt", "".join(f"{s}\n" for s in speakers))
        write_training_environment(out, dist, train_conf, nthreads)
    prosody = needs_prosody(tts["model"], source)
    train_set = load_split(data_root, tokens_dir, dump_dir, "train", tokens, speakers, emotions, n_mels=n_mels,
                           with_prosody=prosody)
    dev_set = load_split(data_root, tokens_dir, dump_dir, "dev", tokens, speakers, emotions, n_mels=n_mels,
                         with_prosody=prosody)
    log.info("train %d utts (%d frames), dev %d utts; %d tokens, %d speakers, %d emotions; %d threads",
             len(train_set), sum(train_set.lengths), len(dev_set), len(tokens), len(speakers),
             len(emotions), nthreads)
    set_seed(int(train_conf["seed"]))
    model = build_model(tts["model"], tts["model_conf"], len(tokens), len(speakers), len(emotions), n_mels,
                        source)
    meta = {"model": tts["model"], "model_conf": tts["model_conf"], "num_tokens": len(tokens),
            "num_speakers": len(speakers), "num_emotions": len(emotions), "n_mels": n_mels,
            "speakers": speakers, "emotions": emotions, "tokens": tokens,
            "token_type": conf.get("token_type"), "fingerprint": training_fingerprint(conf, tts),
            "seed": int(train_conf["seed"])}
    trainer = Trainer(model, train_set, dev_set, train_conf, out, device, meta, source, dist=dist)
    try:
        return trainer.train(stop_after=stop_after)
    finally:
        del trainer  # its DDP wrapper must go before the process group (ddp.cleanup)
        ddp.cleanup(dist)

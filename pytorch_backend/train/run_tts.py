"""What ``steps/train_tts.py`` does, importable: read the data, build the model, train.

``conf`` is the stage's JSON slice: ``{"tts": {model, model_conf, train, decode}, "emotions":
[...], "feats": {...}, "token_type": ...}``; missing ``tts`` keys take the schema defaults.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from pytorch_backend.config import TTS_SCHEMA, check_keys, deep_merge, defaults_of
from pytorch_backend.data.tts_dataset import TTSDataset, read_speakers, read_token_list
from pytorch_backend.errors import ConfigError
from pytorch_backend.train import distributed as ddp
from pytorch_backend.train.device import set_deterministic, set_seed, set_threads
from pytorch_backend.train.trainer import Trainer
from pytorch_backend.tts import MODELS, build_model
from pytorch_backend.utils.fileio import write_text_atomic

log = logging.getLogger("emotts.train")


# Keys of the train conf that say how long or how visibly to train, not what is trained: a
# checkpoint written under other values of these is resumed (e.g. max_steps raised = train longer).
SCHEDULE_ONLY_KEYS = ("max_steps", "max_minutes", "eval_interval", "save_interval", "keep_checkpoints",
                      "log_interval", "num_threads", "ngpu", "deterministic")


def training_fingerprint(conf: dict, tts: dict) -> str:
    """A hash of everything that defines the trained model; checkpoints of another one are not resumed."""
    train = {k: v for k, v in tts["train"].items() if k not in SCHEDULE_ONLY_KEYS}
    what = {"model": tts["model"], "model_conf": tts["model_conf"], "train": train,
            "emotions": conf.get("emotions"), "feats": conf.get("feats"), "token_type": conf.get("token_type")}
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]


def tts_conf_of(conf: dict, source="<conf>") -> dict:
    """The full TTS conf (schema defaults + the given slice); unknown keys (a typo in a hand-written
    --conf) are a ConfigError naming ``source`` and the key path; checks the model name is set."""
    check_keys(conf.get("tts") or {}, TTS_SCHEMA, source)
    tts = deep_merge(defaults_of(TTS_SCHEMA), conf.get("tts") or {})
    if not tts.get("model"):
        raise ConfigError(source, "missing the registry name of the model", key="model")
    return tts


def load_split(data_root, tokens_dir, dump_dir, split: str, tokens: list[str], speakers: list[str],
               emotions: list[str], with_feats: bool = True, n_mels: int | None = None,
               with_prosody: bool = False) -> TTSDataset:
    """``with_prosody``: also load pitch.scp/energy.scp (models with ``NEEDS_PROSODY``)."""
    data_root, tokens_dir, dump_dir = Path(data_root), Path(tokens_dir), Path(dump_dir)
    return TTSDataset(data_root / split, tokens_dir / split / "text_tokens", tokens, speakers, emotions,
                      feats_scp=dump_dir / split / "feats.scp" if with_feats else None,
                      stats=dump_dir / "stats.npz" if with_feats else None, n_mels=n_mels,
                      with_prosody=with_feats and with_prosody)


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
    prosody = bool(getattr(MODELS.get(tts["model"]), "NEEDS_PROSODY", False))
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
        ddp.cleanup(dist)

"""What the DAG runs to make a trained experiment usable for synthesis: the emotion-mean styles
(``styles.pt``), the asset index (``assets.json``) and the packed model (``pack.zip``)."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from pytorch_backend.synth.assets import ExpAssets, open_assets, read_pack, sha256_of, write_pack
from pytorch_backend.utils.fileio import atomic_path

log = logging.getLogger("emotts.synth")


def compute_styles(model_dir, data_root, tokens_dir, dump_dir, out_path, device="cpu", progress: bool = True) -> dict:
    """``styles.pt``: the mean style of each emotion's TRAIN utterances (latent models; label
    models get an entry without ``means``), tied to ``best.pt`` by its sha256."""
    from pytorch_backend.tts.loading import load_split, load_trained
    from pytorch_backend.tts.styles import emotion_mean_styles

    best = Path(model_dir) / "best.pt"
    model, meta = load_trained(model_dir, device)
    emotions = list(meta["emotions"])
    record = {"emotions": emotions, "model_sha256": sha256_of(best.read_bytes())}
    if model.uses_style():
        train_set = load_split(data_root, tokens_dir, dump_dir, "train", meta["tokens"], meta["speakers"], emotions,
                               n_mels=meta["n_mels"])
        means, counts = emotion_mean_styles(model, train_set, len(emotions), device=device, progress=progress)
        missing = [emotions[i] for i, c in enumerate(counts) if c == 0]
        if missing:
            log.warning("no train utterances of emotion(s) %s: their style is the zero vector", missing)
        record.update(means=means.float().cpu(), counts=[int(c) for c in counts])
        log.info("emotion-mean styles of %d train utterances (%s)", sum(counts),
                 ", ".join(f"{e} {c}" for e, c in zip(emotions, counts)))
    with atomic_path(out_path, suffix=".pt") as tmp:
        torch.save(record, tmp)
    return record


def pack_experiment(exp_dir, out_path) -> dict:
    """Pack an experiment (through its asset index) into ``out_path``; the pack is loaded back
    as a model before it is kept. Returns the manifest."""
    from pytorch_backend.synth.synthesizer import Synthesizer

    assets = ExpAssets(exp_dir)
    synth = Synthesizer(assets)  # everything loads and agrees before it is packed
    info = {"model": synth.model_name, "emotions": synth.emotions, "speakers": synth.speakers,
            "sample_rate": synth.sample_rate, "token_type": synth.token_type, "language": synth.language}
    manifest = write_pack(assets, out_path, synth.speakers, synth.emotions, extra_info=info)
    read_pack(out_path)
    Synthesizer(open_assets(out_path))
    log.info("packed %s: %d members, %.1f MB -> %s", exp_dir, len(manifest["members"]),
             Path(out_path).stat().st_size / 1e6, out_path)
    return manifest

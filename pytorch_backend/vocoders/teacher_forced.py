"""Teacher-forced (ground-truth-aligned) log-mels of a trained TTS model, for fine-tuning a
vocoder on what the acoustic model actually outputs (Shen et al. 2018).

The model's teacher-forced pass (``forward_batch``: real mels as decoder input / real
durations) gives ``mel_after`` frame-aligned with the real recording, so the vocoder can be
trained on (predicted mel, real audio) pairs with the usual random segments. Mels are
de-normalized to the dump scale and cut to each utterance's real frame count; written as
``OUT/<split>/feats.{ark,scp}`` (scp last) next to a copy of the split's ``utt2num_frames``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from pytorch_backend.data.sampler import BucketBatchSampler
from pytorch_backend.data.tts_dataset import collate
from pytorch_backend.io.ark import write_ark_scp
from pytorch_backend.tts import needs_prosody
from pytorch_backend.tts.loading import load_split, load_trained
from pytorch_backend.utils.fileio import write_text_atomic

log = logging.getLogger("emotts.vocoder")


@torch.no_grad()
def dump_teacher_forced(model_dir, data_root, tokens_dir, dump_dir, splits, out_dir, device: str = "cpu",
                        batch_frames: int = 6000, progress: bool = True) -> dict:
    """Write the teacher-forced mels of ``splits`` of the TTS model in ``model_dir`` under ``out_dir``."""
    model, meta = load_trained(model_dir, device)
    prosody = needs_prosody(meta["model"], Path(model_dir) / "best.pt")
    r = int(model.r)
    counts = {}
    for split in splits:
        dataset = load_split(data_root, tokens_dir, dump_dir, split, meta["tokens"], meta["speakers"],
                             meta["emotions"], with_feats=True, n_mels=meta["n_mels"], with_prosody=prosody)
        mats: dict[str, np.ndarray] = {}
        sampler = BucketBatchSampler(dataset.lengths, batch_frames, 64, shuffle=False)
        for indices in tqdm(sampler.batches(0), desc=f"teacher-forced {split}", unit="batch",
                            disable=not progress):
            items = [dataset[i] for i in indices]
            batch = collate(items, r)
            batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
            mel = dataset.denormalize(model.forward_batch(batch)["mel_after"].float()).cpu()
            for j, item in enumerate(items):
                n = int(item["mel"].shape[0])
                mats[item["utt"]] = np.ascontiguousarray(mel[j, :n].numpy(), dtype=np.float32)
        order = sorted(mats)
        out = Path(out_dir) / split
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out / "utt2num_frames", "".join(f"{u} {len(mats[u])}\n" for u in order))
        write_ark_scp(out, {u: mats[u] for u in order})
        counts[split] = len(order)
        log.info("wrote %s: %d teacher-forced utterances", out / "feats.scp", len(order))
    return counts

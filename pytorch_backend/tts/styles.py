"""Style vectors of latent models (gst, vae, emo_cvae) for synthesis: the mean style of each
emotion's TRAIN utterances, and the style of one reference recording."""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from pytorch_backend.data.sampler import BucketBatchSampler
from pytorch_backend.data.tts_dataset import TTSDataset, collate
from pytorch_backend.feats.audio import load_audio
from pytorch_backend.feats.logmel import LogMelExtractor


@torch.no_grad()
def emotion_mean_styles(model, train_set: TTSDataset, num_emotions: int, batch_frames: int = 6000,
                        device="cpu", progress: bool = True) -> tuple[torch.Tensor, list[int]]:
    """Mean style embedding per emotion id over the train utterances, and the counts."""
    model.eval()
    sums = None
    counts = [0] * num_emotions
    sampler = BucketBatchSampler(train_set.lengths, batch_frames, 64, shuffle=False)
    for indices in tqdm(sampler.batches(0), desc="styles", unit="batch", disable=not progress):
        batch = collate([train_set[i] for i in indices], 1)
        styles = model.style_embedding(batch["mels"].to(device), batch["mel_lens"].to(device)).cpu()
        if sums is None:
            sums = torch.zeros(num_emotions, styles.size(1))
        sums.index_add_(0, batch["emotions"], styles)
        for e in batch["emotions"].tolist():
            counts[e] += 1
    means = sums / torch.tensor(counts).clamp(min=1).unsqueeze(1).float()
    return means, counts


@torch.no_grad()
def reference_style(model, wav_path, feats_conf: dict, mean, std, device="cpu") -> torch.Tensor:
    """Style embedding (style_dim,) of one reference recording."""
    ext = LogMelExtractor.from_conf(feats_conf)
    wav = load_audio(str(wav_path), ext.fs, resample=bool(feats_conf.get("resample", True)), source=wav_path)
    mel = torch.from_numpy(np.asarray(ext(wav), dtype=np.float32))
    mel = (mel - mean) / std
    lens = torch.tensor([mel.shape[0]], device=device)
    return model.style_embedding(mel.unsqueeze(0).to(device), lens)[0].cpu()

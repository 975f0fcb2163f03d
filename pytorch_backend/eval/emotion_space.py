"""The emotion space of a trained model: one embedding per TRAIN utterance, projected to 2-D.

What is embedded is what the model's decoder is conditioned on for emotion:
- latent models (gst, vae, emo_cvae): the style/latent of the utterance's own mel
  (``style_embedding``: GST style, VAE/CVAE posterior mean);
- label models (tacotron2, emo_dnn, fastspeech2): the vector their label path produces for the
  utterance's label (``label_embedding``), identical for all utterances of one emotion, so
  the map shows where the emotions sit relative to each other.

Projections: PCA (always) and t-SNE (scikit-learn), written as PNGs coloured by label; the
numbers (PCA explained variance, silhouette score of the labels in the full space, per-emotion
centroid distances) go to ``emotion_space.json``, which the experiment summary reads.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch

from pytorch_backend.data.sampler import BucketBatchSampler
from pytorch_backend.data.tts_dataset import collate
from pytorch_backend.utils.fileio import write_text_atomic

log = logging.getLogger("emotts.emotion_space")


def embedding_kind(model) -> str | None:
    if model.uses_style():
        return "style"
    if model.uses_labels():
        return "label"
    return None


@torch.no_grad()
def utterance_embeddings(model, dataset, device="cpu", batch_frames: int = 6000) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) embeddings and (N,) emotion ids of every utterance of ``dataset`` (in its order)."""
    model.eval()
    kind = embedding_kind(model)
    if kind is None:
        raise ValueError("this model has no emotion embedding to map")
    n = len(dataset)
    emos = np.array([it["emotion"] for it in dataset.items], dtype=np.int64)
    if kind == "label":
        weights = torch.nn.functional.one_hot(torch.from_numpy(emos), model.num_emotions).float().to(device)
        return model.label_embedding(weights).float().cpu().numpy(), emos
    out = None
    sampler = BucketBatchSampler(dataset.lengths, batch_frames, 64, shuffle=False)
    for indices in sampler.batches(0):
        batch = collate([dataset[i] for i in indices], 1)
        emb = model.style_embedding(batch["mels"].to(device), batch["mel_lens"].to(device)).float().cpu().numpy()
        if out is None:
            out = np.zeros((n, emb.shape[1]), dtype=np.float32)
        out[indices] = emb
    return out, emos


def subsample(emos: np.ndarray, max_utts: int, seed: int = 0) -> np.ndarray:
    """Indices of at most ``max_utts`` utterances, the same share of every emotion."""
    if len(emos) <= max_utts:
        return np.arange(len(emos))
    rng = np.random.default_rng(seed)
    keep = rng.choice(len(emos), size=max_utts, replace=False)
    return np.sort(keep)


def project(emb: np.ndarray, method: str, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """(N, 2) projection by ``pca`` or ``tsne``."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if emb.shape[1] < 2:
        return np.concatenate([emb, np.zeros_like(emb)], axis=1)
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(emb)
    if method == "tsne":
        perp = float(min(perplexity, max(2.0, (len(emb) - 1) / 3.0)))
        return TSNE(n_components=2, perplexity=perp, init="pca", random_state=seed).fit_transform(emb)
    raise ValueError(f"unknown projection '{method}' (known: pca, tsne)")


def space_metrics(emb: np.ndarray, emos: np.ndarray, emotions: list[str]) -> dict:
    """Silhouette of the labels (full space), PCA explained variance, centroid distances."""
    from sklearn.decomposition import PCA
    from sklearn.metrics import silhouette_score

    present = sorted(set(emos.tolist()))
    sil = None
    if 1 < len(present) < len(emos):
        sil = float(silhouette_score(emb, emos)) if np.ptp(emb, axis=0).max() > 0 else None
    var = None
    if emb.shape[1] >= 2 and len(emb) >= 2:
        var = [float(v) for v in PCA(n_components=2).fit(emb).explained_variance_ratio_]
    centroids = {emotions[e]: emb[emos == e].mean(axis=0) for e in present}
    dists = {f"{a}-{b}": float(np.linalg.norm(centroids[a] - centroids[b]))
             for i, a in enumerate(centroids) for b in list(centroids)[i + 1:]}
    return {"silhouette": sil, "pca_explained_variance": var, "centroid_distances": dists,
            "utts_per_emotion": {emotions[e]: int((emos == e).sum()) for e in present}}


def map_emotion_space(model, dataset, emotions: list[str], out_dir, title: str, device="cpu",
                      max_utts: int = 1000, tsne: bool = True, perplexity: float = 30.0, seed: int = 0) -> dict:
    """Write ``emotion_space_{pca,tsne}.png`` and ``emotion_space.json`` into ``out_dir``."""
    from pytorch_backend.plots.emotion_space import plot_emotion_map

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kind = embedding_kind(model)
    if kind is None:
        record = {"kind": None, "note": "this model has no emotion embedding"}
        write_text_atomic(out / "emotion_space.json", json.dumps(record, indent=2) + "\n")
        return record
    emb, emos = utterance_embeddings(model, dataset, device)
    keep = subsample(emos, max_utts, seed)
    emb, emos = emb[keep], emos[keep]
    record = {"kind": kind, "num_utts": int(len(emb)), "dim": int(emb.shape[1]), **space_metrics(emb, emos, emotions)}
    methods = ["pca"] + (["tsne"] if tsne and len(emb) > 5 else [])
    for method in methods:
        xy = project(emb, method, seed, perplexity)
        plot_emotion_map(xy, emos, emotions, out / f"emotion_space_{method}.png",
                         title=f"{title}: {kind} embeddings, {method.upper()}")
    record["plots"] = [f"emotion_space_{m}.png" for m in methods]
    write_text_atomic(out / "emotion_space.json", json.dumps(record, indent=2) + "\n")
    log.info("%s emotion space of %d utterances: silhouette %s -> %s", kind, len(emb),
             "n/a" if record["silhouette"] is None else f"{record['silhouette']:.3f}", out)
    return record

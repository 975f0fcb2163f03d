"""Decoding a split with a trained model (what ``steps/decode.py`` does, importable).

Each utterance is synthesized with its own speaker and, by default, its own emotion (utt2emo);
the ``decode`` conf section (or the command line) may ask for another emotion, an intensity,
a mixture of two emotions, a reference wav or GST token weights: see
pytorch_backend/tts/controls.py for how each model receives them. Latent models (gst, vae,
emo_cvae) take a label through the mean style of that emotion's TRAIN utterances
(``style: emotion_mean``) or, for emo_cvae, its learned prior mean (``style: prior``).

Output (``out_dir``): ``feats.ark`` + ``feats.scp`` (raw log-mel, the dump's scale; the scp
holds absolute ark paths and is written last), ``utt2emo`` (the emotion each utterance is
meant to carry: what evaluation scores), ``decode.json``, ``plots/`` (attention and mel plots
of the first ``num_attention_plots`` utterances). Torch is seeded with ``decode.seed + index``
before each utterance, so decoding twice gives identical arks.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import kaldiio
import numpy as np
import torch
from tqdm import tqdm

from pytorch_backend.data.kaldi_map import read_kv
from pytorch_backend.data.sampler import BucketBatchSampler
from pytorch_backend.data.tts_dataset import TTSDataset, collate
from pytorch_backend.data.validate import safe_file_stem
from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.plots.attention import plot_attention
from pytorch_backend.plots.mel import plot_mels
from pytorch_backend.train.checkpoints import load_checkpoint
from pytorch_backend.tts import build_model
from pytorch_backend.tts.controls import Conditioner, check_supported, controls_from_conf, intended_label
from pytorch_backend.utils.fileio import write_text_atomic

log = logging.getLogger("emotts.decode")

def load_trained(model_dir, device="cpu", source="<conf>"):
    """(model in eval mode, metadata) from ``<model_dir>/best.pt``."""
    path = Path(model_dir) / "best.pt"
    if not path.is_file():
        raise DataError(path, "trained model not found (run steps/train_tts.py)")
    try:
        state = load_checkpoint(path, map_location=device)
        meta = state["meta"]
    except Exception as exc:
        raise DataError(path, f"cannot load the trained model: {exc}") from None
    model = build_model(meta["model"], meta["model_conf"], meta["num_tokens"], meta["num_speakers"],
                        meta["num_emotions"], meta["n_mels"], source)
    model.load_state_dict(state["model"])
    model.to(device).eval()
    return model, meta


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
    from pytorch_backend.feats.audio import load_audio
    from pytorch_backend.feats.logmel import LogMelExtractor

    ext = LogMelExtractor.from_conf(feats_conf)
    wav = load_audio(str(wav_path), ext.fs, resample=bool(feats_conf.get("resample", True)), source=wav_path)
    mel = torch.from_numpy(np.asarray(ext(wav), dtype=np.float32))
    mel = (mel - mean) / std
    lens = torch.tensor([mel.shape[0]], device=device)
    return model.style_embedding(mel.unsqueeze(0).to(device), lens)[0].cpu()


def write_ark_scp(out_dir: Path, mats: dict[str, np.ndarray]) -> None:
    """Write ``feats.ark`` + ``feats.scp`` so that a present scp always means a complete ark.

    The ark goes to a temporary name; then the old scp is removed, the ark renamed into place
    and the scp (absolute ark paths) written atomically.
    """
    ark = (out_dir / "feats.ark").resolve()
    tmp_ark = out_dir / f".feats.ark.{os.getpid()}.tmp"
    try:
        offsets = {}
        with open(tmp_ark, "wb") as fd:
            for utt, mat in mats.items():
                start = fd.tell()
                kaldiio.save_ark(fd, {utt: mat})
                offsets[utt] = start + len(utt.encode("utf-8")) + 1
            fd.flush()
            os.fsync(fd.fileno())
        (out_dir / "feats.scp").unlink(missing_ok=True)
        os.replace(tmp_ark, ark)
    finally:
        tmp_ark.unlink(missing_ok=True)
    write_text_atomic(out_dir / "feats.scp", "".join(f"{u} {ark}:{o}\n" for u, o in offsets.items()))


def real_lengths(dump_dir, split: str) -> dict[str, int]:
    """Frames per utterance of the real features of ``split`` (empty if not dumped)."""
    path = Path(dump_dir) / split / "utt2num_frames"
    return {u: int(n) for u, n in read_kv(path).items()} if path.is_file() else {}


def length_report(decoded: dict[str, int], real: dict[str, int], emotions_of: dict[str, str]) -> dict:
    """How decoded lengths compare with the real recordings' (a proxy for attention health)."""
    ratios = {u: decoded[u] / real[u] for u in decoded if u in real and real[u] > 0}
    if not ratios:
        return {}
    vals = np.array(list(ratios.values()))
    per_emo: dict[str, list[float]] = {}
    for u, r in ratios.items():
        per_emo.setdefault(emotions_of[u], []).append(r)
    return {"num_compared": len(vals), "within_20pct": float(np.mean(np.abs(vals - 1.0) <= 0.2)),
            "median_ratio": float(np.median(vals)), "mean_abs_log_ratio": float(np.mean(np.abs(np.log(vals)))),
            "per_emotion_median_ratio": {e: float(np.median(v)) for e, v in sorted(per_emo.items())}}


def decode_split(model, meta: dict, dataset: TTSDataset, out_dir, decode_conf: dict, condition,
                 record_extra: dict | None = None, hop_length: int = 256, fs: int = 22050,
                 real: dict[str, int] | None = None, device="cpu", progress: bool = True) -> dict:
    """Synthesize every utterance of ``dataset``; write ark/scp, utt2emo, plots and decode.json.

    ``condition`` is a pytorch_backend.tts.controls.Conditioner: own emotion id -> the model's
    ``emotion_weights``/``style`` inputs.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    controls = condition.controls
    log.info("decoding %d utterances into %s (controls: %s)", len(dataset), out, controls.record())
    seed = int(decode_conf.get("seed", 1))
    nplots = int(decode_conf.get("num_attention_plots", 0) or 0)
    threshold = float(decode_conf.get("threshold", 0.5))
    emotions = meta["emotions"]
    mats: dict[str, np.ndarray] = {}
    lengths: dict[str, int] = {}
    intended: dict[str, str] = {}
    stopped = 0
    t0 = time.time()
    for index in tqdm(range(len(dataset)), desc="decode", unit="utt", disable=not progress):
        item = dataset[index]
        torch.manual_seed(seed + index)
        res = model.inference(item["tokens"], speaker=item["speaker"], **condition(item["emotion"]),
                              threshold=threshold, maxlenratio=float(decode_conf.get("maxlenratio", 12.0)),
                              minlenratio=float(decode_conf.get("minlenratio", 0.0)))
        mel = dataset.denormalize(res["mel"].float().cpu()).numpy().astype(np.float32)
        utt = item["utt"]
        mats[utt] = mel
        lengths[utt] = mel.shape[0]
        intended[utt] = intended_label(item["emotion"], controls, emotions)
        if res.get("stop_probs") is None or res["stop_probs"][-1].item() > threshold:
            stopped += 1  # non-autoregressive models always end where their durations say
        if index < nplots:
            tag = f"{utt} ({intended[utt]})"
            stem = safe_file_stem(utt, "decoded utterance ids")
            plot_attention(res["alignment"].float().cpu().numpy(), out / "plots" / f"{stem}_attention.png",
                           title=f"{tag}: decode")
            panels = [("decoded", mel)]
            if dataset.feats_scp is not None:
                panels.append(("real", dataset.denormalize(item["mel"]).numpy()))
            plot_mels(panels, out / "plots" / f"{stem}_mel.png", title=tag)
    wall = time.time() - t0
    write_text_atomic(out / "utt2emo", "".join(f"{u} {intended[u]}\n" for u in mats))
    write_ark_scp(out, mats)
    frames = sum(lengths.values())
    emotions_of = {it["utt"]: emotions[it["emotion"]] for it in dataset.items}
    record = {"num_utts": len(mats), "wall_seconds": round(wall, 3),
              "audio_seconds": round(frames * hop_length / fs, 3),
              "rtf": round(wall / max(1e-9, frames * hop_length / fs), 4),
              "stopped_by_token": stopped, "controls": controls.record(), **(record_extra or {}),
              "length_vs_real": length_report(lengths, real or {}, emotions_of)}
    write_text_atomic(out / "decode.json", json.dumps(record, indent=2) + "\n")
    lengths_info = record["length_vs_real"]
    log.info("decoded %d utterances (%.1f s of audio) in %.1f s (RTF %.3f), %d stopped by the stop token%s -> %s",
             record["num_utts"], record["audio_seconds"], wall, record["rtf"], stopped,
             f", {100 * lengths_info['within_20pct']:.0f}% within 20% of the real length" if lengths_info else "",
             out / "feats.scp")
    return record


class UtteranceSubset:
    """Some utterances of a TTSDataset, in the given order (what decode_split reads of it)."""

    def __init__(self, dataset: TTSDataset, utts: list[str], source="<dataset>"):
        index = {u: i for i, u in enumerate(dataset.utts)}
        missing = [u for u in utts if u not in index]
        if missing:
            raise DataError(source, "utterance not in this split", utt=missing[0])
        self.dataset, self.indices = dataset, [index[u] for u in utts]
        self.items = [dataset.items[i] for i in self.indices]
        self.feats_scp = dataset.feats_scp

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict:
        return self.dataset[self.indices[i]]

    def denormalize(self, mel):
        return self.dataset.denormalize(mel)


def build_conditioner(model, meta: dict, controls, data_root, tokens_dir, dump_dir, feats_conf: dict,
                      mean_t, std_t, device="cpu", progress: bool = True) -> tuple[Conditioner, dict]:
    """The per-utterance inputs of ``controls`` for ``model`` (emotion means computed when needed)."""
    from pytorch_backend.train.run_tts import load_split

    emotions = meta["emotions"]
    means, fixed, record = None, None, {}
    if model.uses_style():
        if controls.reference_wav:
            fixed = reference_style(model, controls.reference_wav, feats_conf, mean_t, std_t, device)
        elif controls.gst_weights is not None:
            try:
                fixed = model.style_from_token_weights(controls.gst_weights).detach().cpu()
            except ValueError as exc:
                raise ConfigError("<decode conf>", str(exc), key="decode.gst_weights") from None
        needs_means = controls.style == "emotion_mean" and (fixed is None or controls.intensity != 1.0)
        if needs_means:
            train_set = load_split(data_root, tokens_dir, dump_dir, "train", meta["tokens"], meta["speakers"],
                                   emotions, n_mels=meta["n_mels"])
            means, counts = emotion_mean_styles(model, train_set, len(emotions), device=device, progress=progress)
            missing = [emotions[i] for i, c in enumerate(counts) if c == 0]
            if missing:
                log.warning("no train utterances of emotion(s) %s: their style is the zero vector", missing)
            record["train_utts_per_emotion"] = dict(zip(emotions, counts))
    return Conditioner(model, controls, emotions, means, fixed), record


def resolve_controls(model, meta: dict, dconf: dict, overrides: dict | None, source="<conf>"):
    """Controls of the decode conf with command-line ``overrides`` (non-None values) applied,
    checked against what the model supports."""
    merged = dict(dconf)
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    controls = controls_from_conf(merged, meta["emotions"], source)
    check_supported(model, meta["model"], controls, source)
    return controls


def decode(conf: dict, model_dir, data_root, split: str, tokens_dir, dump_dir, out_dir,
           reference_wav=None, device="cpu", source="<conf>", progress: bool = True,
           overrides: dict | None = None, utts: list[str] | None = None) -> dict:
    """Load ``best.pt`` from ``model_dir`` and decode ``split`` (or only ``utts`` of it) into ``out_dir``.

    ``overrides``: control values from the command line (emotion, intensity, mix, reference_wav,
    gst_weights, style, neutral) replacing those of the conf's decode section.
    """
    from pytorch_backend.feats.stats import load_stats
    from pytorch_backend.train.run_tts import load_split, tts_conf_of

    tts = tts_conf_of(conf, source)
    dconf = tts["decode"]
    feats_conf = conf.get("feats") or {}
    model, meta = load_trained(model_dir, device, source)
    if list(conf.get("emotions") or meta["emotions"]) != list(meta["emotions"]):
        raise ConfigError(source, f"emotions {conf.get('emotions')} differ from the trained model's "
                          f"{meta['emotions']}", key="emotions")
    overrides = dict(overrides or {})
    if reference_wav:
        overrides["reference_wav"] = str(reference_wav)
    controls = resolve_controls(model, meta, dconf, overrides, source)
    tokens, speakers, emotions = meta["tokens"], meta["speakers"], meta["emotions"]
    mean, std = load_stats(Path(dump_dir) / "stats.npz")
    mean_t, std_t = torch.from_numpy(mean), torch.from_numpy(std)
    has_feats = (Path(dump_dir) / split / "feats.scp").is_file()
    dataset = load_split(data_root, tokens_dir, dump_dir, split, tokens, speakers, emotions,
                         with_feats=has_feats, n_mels=meta["n_mels"])
    if not has_feats:
        dataset.mean, dataset.std = mean_t, std_t
    if utts is not None:
        dataset = UtteranceSubset(dataset, utts, Path(tokens_dir) / split / "text_tokens")
    condition, record = build_conditioner(model, meta, controls, data_root, tokens_dir, dump_dir, feats_conf,
                                          mean_t, std_t, device, progress)
    return decode_split(model, meta, dataset, out_dir, dconf, condition, record,
                        hop_length=int(feats_conf.get("hop_length", 256)), fs=int(feats_conf.get("fs", 22050)),
                        real=real_lengths(dump_dir, split), device=device, progress=progress)

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

This module is the decode loop; what it builds on lives beside it: loading.py (the TTS conf,
a split's dataset, the trained model), controls.py (the requested controls -> per-utterance
model inputs), styles.py (emotion-mean and reference styles), lengths.py (decoded vs real
lengths) and pytorch_backend/io/ark.py (the ark/scp writer).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from pytorch_backend.data.tts_dataset import TTSDataset
from pytorch_backend.data.validate import safe_file_stem
from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.feats.stats import load_stats
from pytorch_backend.io.ark import write_ark_scp
from pytorch_backend.plots.attention import plot_attention
from pytorch_backend.plots.mel import plot_mels
from pytorch_backend.tts.controls import Conditioner, build_conditioner, intended_label, resolve_controls
from pytorch_backend.tts.lengths import length_report, real_lengths
from pytorch_backend.tts.postfilter import apply_postfilter
from pytorch_backend.tts.loading import load_split, load_trained, tts_conf_of
from pytorch_backend.utils.fileio import write_text_atomic

log = logging.getLogger("emotts.decode")


def decode_split(model, meta: dict, dataset: TTSDataset, out_dir, decode_conf: dict, condition: Conditioner,
                 record_extra: dict | None = None, hop_length: int = 256, fs: int = 22050,
                 real: dict[str, int] | None = None, device="cpu", progress: bool = True,
                 log_floor: float = 1.0e-5) -> dict:
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
                              minlenratio=float(decode_conf.get("minlenratio", 0.0)),
                              attention_window=decode_conf.get("attention_window"))
        mel = dataset.denormalize(res["mel"].float().cpu()).numpy().astype(np.float32)
        mel = apply_postfilter(mel, decode_conf, log_floor)
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


def decode(conf: dict, model_dir, data_root, split: str, tokens_dir, dump_dir, out_dir,
           reference_wav=None, device="cpu", source="<conf>", progress: bool = True,
           overrides: dict | None = None, utts: list[str] | None = None) -> dict:
    """Load ``best.pt`` from ``model_dir`` and decode ``split`` (or only ``utts`` of it) into ``out_dir``.

    ``overrides``: control values from the command line (emotion, intensity, mix, reference_wav,
    gst_weights, style, neutral) replacing those of the conf's decode section.
    """
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
                        real=real_lengths(dump_dir, split), device=device, progress=progress,
                        log_floor=float(feats_conf.get("log_floor", 1.0e-5)))

"""The one synthesis path of a trained model: text + emotion controls -> waveform.

``Synthesizer.load(path)`` takes an experiment directory (``exp/<exp>``, through its asset
index) or a packed model (``pack.zip``); ``synthesize(requests)`` is what the command line, the
Python API (``synth``), the report and the demo server all call. A request is text and controls:

- ``speaker`` (a train speaker; default the first), ``emotion`` (a label, or ``auto``: the text
  emotion classifier's probabilities for each sentence), ``intensity`` (0..1 from the
  ``neutral`` label), ``mix`` (two emotions and weights), ``emotion_from_wav`` (the corpus's
  emotion classifier's probabilities for a recording), ``reference_wav`` / ``gst_weights`` /
  ``style`` (latent models), ``speed`` / ``pitch_scale`` / ``energy_scale`` (FastSpeech 2),
  ``seed``;
- inline tags in the text (pytorch_backend/synth/text.py) give segments their own label.

Every sentence becomes a soft label ``w = intensity * target + (1 - intensity) * onehot(neutral)``
and the model inputs decode uses for it (pytorch_backend/tts/controls.py): label models take
``w``, latent models ``w @ emotion-mean styles`` (or the CVAE prior, or the reference style).
Sentences of all requests are synthesized in length-sorted padded batches (the models'
``inference_batch``), sentence k of a request seeded with ``seed + k``, so the output does not
depend on the batch it was in; then vocoded together, silence-trimmed and joined with pauses.
"""

from __future__ import annotations

import io
import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml

from pytorch_backend.errors import ConfigError, DataError, EmottsError
from pytorch_backend.synth.assets import Assets, open_assets, sha256_of
from pytorch_backend.synth.errors import RequestError
from pytorch_backend.synth.text import PAUSES, sentences_of
from pytorch_backend.synth.textemo import TextEmotion
from pytorch_backend.tts.controls import Conditioner, Controls, check_supported, parse_mix, parse_weights
from pytorch_backend.tts.postfilter import apply_postfilter

log = logging.getLogger("emotts.synth")

STYLE_SOURCES = ("emotion_mean", "prior")
FIELD_OF_KEY = {"decode.emotion": "emotion", "decode.intensity": "intensity", "decode.mix": "mix",
                "decode.reference_wav": "reference_wav", "decode.gst_weights": "gst_weights",
                "decode.style": "style", "decode.neutral": "emotion"}
PUNCTUATION_FALLBACK = {"!": (".",), "?": (".",), ";": (",", "."), ":": (",", "."), ",": (), ".": (),
                        "。": (".",), "！": ("。", "."), "？": ("。", "."), "、": (",", "，"), "，": (",", "、")}
PROSODY_LIMITS = (0.25, 4.0)  # speed, pitch_scale and energy_scale must lie in this range


@dataclass
class Request:
    """One text to say and how (see the module docstring). ``reference_wav`` and
    ``emotion_from_wav`` take a file path, a float waveform at the model's rate, or a
    ``(waveform, sample_rate)`` pair."""

    text: str
    speaker: str | None = None
    emotion: str | None = None
    intensity: float = 1.0
    mix: dict | str | None = None
    reference_wav: object = None
    emotion_from_wav: object = None
    gst_weights: list | str | None = None
    style: str | None = None
    speed: float = 1.0
    pitch_scale: float = 1.0
    energy_scale: float = 1.0
    seed: int | None = None
    id: str | None = None
    source: str | None = None  # where the text came from (for messages): --text, a file
    line: int | None = None
    column: int = 1  # column of the text in that line


@dataclass
class SynthResult:
    """A synthesized request: the waveform, its rate, and per sentence what was done."""

    wav: np.ndarray
    sample_rate: int
    sentences: list[dict] = field(default_factory=list)
    mels: list[np.ndarray] = field(default_factory=list)  # raw log-mel of each sentence (dump scale)
    request: Request | None = None

    def record(self) -> dict:
        return {"id": self.request.id if self.request else None, "seconds": round(len(self.wav) / self.sample_rate, 3),
                "sentences": self.sentences}


@dataclass
class _Unit:
    req: int
    index: int
    text: str
    tokens: list[int]
    weights: torch.Tensor
    intended: str
    inputs: dict
    speaker: int
    seed: int
    prosody: dict
    pause: float
    unknown: list = field(default_factory=list)  # symbols said as <unk> (synthesize(unknown="unk"))


def _stats_of(data: bytes, where: str) -> dict:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            out = {k: np.asarray(npz[k]) for k in npz.files}
    except (OSError, ValueError) as exc:
        raise DataError(where, f"not a valid stats.npz: {exc}") from None
    if "mean" not in out or "std" not in out or out["mean"].shape != out["std"].shape:
        raise DataError(where, "needs equal-length 'mean' and 'std' vectors")
    return out


def _torch_load(data: bytes, where: str):
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, not a torch file, pickled objects
        raise DataError(where, f"cannot load (torch.load, weights_only=True): {exc}") from None


class Synthesizer:
    """A trained model ready to synthesize (see the module docstring)."""

    def __init__(self, assets: Assets, device="cpu", vocoder: str | None = None, max_tokens: int = 150):
        from pytorch_backend.text import build_tokenizer
        from pytorch_backend.text.token_list import TokenList
        from pytorch_backend.text import Frontend
        from pytorch_backend.tts import build_model

        self.assets = assets
        self.device = torch.device(device)
        self.max_tokens = int(max_tokens)
        where = assets.where
        try:
            self.config = yaml.safe_load(assets.read("config").decode("utf-8")) or {}
        except (UnicodeDecodeError, yaml.YAMLError) as exc:
            raise DataError(where("config"), f"invalid YAML: {exc}") from None
        model_bytes = assets.read("model")
        self.model_sha256 = sha256_of(model_bytes)
        state = _torch_load(model_bytes, where("model"))
        try:
            meta = state["meta"]
            self.model = build_model(meta["model"], meta["model_conf"], meta["num_tokens"], meta["num_speakers"],
                                     meta["num_emotions"], meta["n_mels"], where("model"))
            self.model.load_state_dict(state["model"])
        except (KeyError, TypeError, RuntimeError) as exc:
            raise DataError(where("model"), f"not a trained TTS model: {exc}") from None
        self.model.to(self.device).eval()
        self.meta = meta
        self.model_name = meta["model"]
        self.emotions: list[str] = list(meta["emotions"])
        self.speakers: list[str] = list(meta["speakers"])
        corpus = self.config.get("corpus") or {}
        self.language = corpus.get("language", "en")
        self.token_type = meta.get("token_type") or corpus.get("token_type") or "phn"
        self.feats_conf = dict(self.config.get("feats") or {})
        self.sample_rate = int(self.feats_conf.get("fs", 22050))
        decode = ((self.config.get("tts") or {}).get("decode")) or {}
        self.decode_conf = decode
        neutral = decode.get("neutral") or "neutral"
        self.neutral = neutral if neutral in self.emotions else self.emotions[0]

        tokens = [line for line in assets.read("token_list").decode("utf-8").split("\n") if line]
        if tokens != list(meta["tokens"]):
            raise DataError(where("token_list"), "differs from the token list the model was trained with")
        self.token_list = TokenList(tokens, source=where("token_list"))
        if self.token_type == "bpe":
            if not assets.has("bpe_model"):
                raise DataError(assets.source, "a bpe model needs its sentencepiece model (bpe.model)")
            from pytorch_backend.text.tokenizers import BpeTokenizer

            tokenizer = BpeTokenizer(self.language, model=where("bpe_model"), model_proto=assets.read("bpe_model"))
        else:
            tokenizer = build_tokenizer(self.token_type, self.language)
        self.frontend = Frontend(tokenizer, self.token_list)

        self.stats = _stats_of(assets.read("stats"), where("stats"))
        self.mean = torch.from_numpy(self.stats["mean"].astype(np.float32))
        self.std = torch.from_numpy(self.stats["std"].astype(np.float32))
        self.means = None
        if self.model.uses_style() and assets.has("styles"):
            styles = _torch_load(assets.read("styles"), where("styles"))
            if not isinstance(styles, dict) or styles.get("model_sha256") != self.model_sha256:
                raise DataError(where("styles"), "emotion-mean styles of another model (re-run the DAG target "
                                "of the experiment to recompute them)")
            if styles.get("means") is not None:
                self.means = styles["means"].float()
                self.style_counts = dict(zip(self.emotions, styles.get("counts", [])))
        self.text_emotion = None
        if assets.has("text_emotion"):
            data = assets.read("text_emotion")
            try:
                self.text_emotion = TextEmotion(json.loads(data.decode("utf-8")), where("text_emotion"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise DataError(where("text_emotion"), f"not JSON: {exc}") from None
            if self.text_emotion.emotions != self.emotions:
                raise DataError(where("text_emotion"), f"trained for emotions {self.text_emotion.emotions}, the "
                                f"model has {self.emotions}")
        self.ser = None
        if assets.has("ser"):
            from pytorch_backend.ser.infer import EmotionPredictor

            self.ser = EmotionPredictor.from_checkpoint(_torch_load(assets.read("ser"), where("ser")), where("ser"),
                                                        self.device)
        self._vocoders: dict = {}
        self.vocoder_name = vocoder or assets.default_vocoder
        if self.vocoder_name not in self.vocoder_names():
            raise RequestError("vocoder", f"unknown vocoder '{self.vocoder_name}' for this model (available: "
                               f"{', '.join(self.vocoder_names())})")
        self._prosody_controls = tuple(self.model.prosody_controls)
        self._token_cache: dict[str, list[str]] = {}

    def tokens_of(self, text: str) -> list[str]:
        """The frontend's tokens of a sentence (cached: sentence splitting counts them too)."""
        tokens = self._token_cache.get(text)
        if tokens is None:
            if len(self._token_cache) > 4096:
                self._token_cache.clear()
            tokens = self._token_cache[text] = self.frontend.tokens(text)
        return tokens

    def unknown_tokens(self, text: str) -> list[str]:
        """The symbols of ``text`` outside the token list (after the punctuation fallback), in
        order of first appearance; [] when the model can say all of it."""
        tokens = self.punctuation_fallback(self.tokens_of(text))
        return list(dict.fromkeys(t for t in tokens if t not in self.token_list))

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def load(cls, path, device="cpu", vocoder: str | None = None, max_tokens: int = 150) -> "Synthesizer":
        """From an experiment directory (``exp/<exp>``) or a packed model (``pack.zip``)."""
        if str(device) == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        return cls(open_assets(path), device, vocoder, max_tokens)

    def vocoder_names(self) -> list[str]:
        return ["griffin_lim"] + [n for n in self.assets.vocoder_files if n != "griffin_lim"]

    def vocoder(self, name: str | None = None):
        """The vocoder ``name`` (default: the model's), built once."""
        from pytorch_backend.vocoders import build_vocoder

        name = name or self.vocoder_name
        if name not in self.vocoder_names():
            raise RequestError("vocoder", f"unknown vocoder '{name}' (available: {', '.join(self.vocoder_names())})")
        if name in self._vocoders:
            return self._vocoders[name]
        confs = self.config.get("vocoders") or {}
        voc_conf = confs.get(name) or {"name": name, "conf": {}}
        registry, conf = voc_conf.get("name") or name, dict(voc_conf.get("conf") or {})
        source = f"{self.assets.source} (vocoder '{name}')"
        if name == "griffin_lim" or name not in self.assets.vocoder_files:
            vocoder = build_vocoder(registry, conf, self.feats_conf, source=source)
        else:
            vocoder = self._neural_vocoder(name, registry, conf)
        self._vocoders[name] = vocoder
        return vocoder

    def _neural_vocoder(self, name: str, registry: str, conf: dict):
        from pytorch_backend.vocoders import VOCODERS
        from pytorch_backend.vocoders.neural import feats_signature

        where = self.assets.vocoder_files[name]
        state = _torch_load(self.assets.read_vocoder(name), where)
        cls = VOCODERS.get(registry)
        if cls is None or not isinstance(state, dict) or state.get("vocoder") != registry or "model" not in state:
            raise DataError(where, f"not a trained '{registry}' vocoder model")
        want, got = feats_signature(self.feats_conf), state.get("feats") or {}
        diff = [k for k in want if k in got and not np.isclose(float(got[k]), float(want[k]))]
        if diff:
            raise DataError(where, "trained on other features: " + ", ".join(f"{k} {got[k]} (model {want[k]})"
                                                                                for k in diff))
        conf["device"] = str(self.device)
        gen = cls.build_generator(state["generator_conf"], self.feats_conf, source=where)
        gen.load_state_dict(state["model"])
        return cls.from_generator(gen, self.feats_conf, **conf)

    def info(self) -> dict:
        """What this model offers: emotions, speakers, controls, vocoders (e.g. for a UI)."""
        controls = list(self.model.controls)
        return {"model": self.model_name, "exp": self.assets.exp, "source": self.assets.source,
                "sample_rate": self.sample_rate, "emotions": self.emotions, "neutral": self.neutral,
                "speakers": self.speakers, "controls": controls,
                "emotion_auto": self.text_emotion is not None, "emotion_from_wav": self.ser is not None,
                "reference_wav": "reference" in controls, "gst_weights": "gst_weights" in controls,
                "prosody": list(self._prosody_controls), "vocoders": self.vocoder_names(), "vocoder": self.vocoder_name,
                "token_type": self.token_type, "language": self.language}

    # -- the Python API ------------------------------------------------------------------------
    def synth(self, text, *, batch_size: int = 16, vocoder: str | None = None, **controls):
        """``text`` (a string or a list of strings) -> ``(waveform, sample_rate)`` (or a list of
        them). ``controls``: the fields of :class:`Request` (speaker, emotion, intensity, mix,
        reference_wav, emotion_from_wav, gst_weights, style, speed, pitch_scale, energy_scale, seed)."""
        single = isinstance(text, str)
        texts = [text] if single else list(text)
        unknown = [k for k in controls if k not in Request.__dataclass_fields__ or k in ("text", "source", "line")]
        if unknown:
            raise TypeError(f"unknown synthesis control(s) {unknown}")
        results = self.synthesize([Request(t, **controls) for t in texts], batch_size=batch_size,
                                  vocoder=vocoder)
        out = [(r.wav, r.sample_rate) for r in results]
        return out[0] if single else out

    # -- the synthesis function -------------------------------------------------------------------
    def synthesize(self, requests: list[Request], batch_size: int = 16, vocoder: str | None = None,
                   progress: bool = False, unknown: str = "error") -> list[SynthResult]:
        """Synthesize ``requests``; every bad field is a RequestError naming it. ``unknown``:
        symbols outside the token list are an ``error`` (the default, what users get), or become
        ``unk`` (``<unk>``, as decoding an eval split does; each sentence records them)."""
        if unknown not in ("error", "unk"):
            raise ValueError(f"unknown= must be 'error' or 'unk', got {unknown!r}")
        voc = self.vocoder(vocoder)
        units: list[_Unit] = []
        for i, req in enumerate(requests):
            try:
                units += self._units(i, req, unknown)
            except RequestError as exc:
                if exc.source is None and req.line is not None:  # a field of a text-file line
                    raise exc.at(req.source, req.line) from None
                raise
        t0 = time.perf_counter()
        mels = self.acoustic(units, batch_size, progress)
        t1 = time.perf_counter()
        mels = [(trim_mel(m, float(self.feats_conf.get("trim_top_db", 40.0)), self._pad_frames()), st) for m, st in mels]
        wavs = voc([m for m, _ in mels])
        t2 = time.perf_counter()
        log.debug("%d sentences: acoustic model %.2f s, vocoder %.2f s", len(units), t1 - t0, t2 - t1)
        results = [SynthResult(np.zeros(0, dtype=np.float32), self.sample_rate, request=req) for req in requests]
        pieces: list[list] = [[] for _ in requests]
        for unit, (mel, stopped), wav in zip(units, mels, wavs):
            res = results[unit.req]
            res.mels.append(mel)
            res.sentences.append({"text": unit.text, "soft_label": {e: round(float(w), 4) for e, w in
                                                                     zip(self.emotions, unit.weights.tolist())},
                                  "intended": unit.intended, "speaker": self.speakers[unit.speaker],
                                  "seed": unit.seed, "frames": int(mel.shape[0]), "stopped": stopped,
                                  "pause": unit.pause, **{k: v for k, v in unit.prosody.items() if v},
                                  **({"unknown_tokens": unit.unknown} if unit.unknown else {})})
            pieces[unit.req].append((wav, unit.pause))
        for res, parts in zip(results, pieces):
            res.wav = join_with_pauses(parts, self.sample_rate)
        return results

    def _pad_frames(self) -> int:
        hop = int(self.feats_conf.get("hop_length", 256))
        return int(round(float(self.feats_conf.get("trim_pad_ms", 20.0)) * self.sample_rate / 1000.0 / hop))

    @torch.no_grad()
    def acoustic(self, units: list[_Unit], batch_size: int = 16, progress: bool = False) -> list[tuple]:
        """(raw log-mel (T, n_mels) float32, stopped by the stop token) of every unit, in padded
        length-sorted batches of ``batch_size``."""
        from tqdm import tqdm

        threshold = float(self.decode_conf.get("threshold", 0.5))
        maxlenratio = float(self.decode_conf.get("maxlenratio", 12.0))
        minlenratio = float(self.decode_conf.get("minlenratio", 0.0))
        order = sorted(range(len(units)), key=lambda i: len(units[i].tokens))
        out: list = [None] * len(units)
        chunks = [order[s:s + max(1, int(batch_size))] for s in range(0, len(order), max(1, int(batch_size)))]
        for chunk in tqdm(chunks, desc="synthesize", unit="batch", disable=not progress):
            us = [units[i] for i in chunk]
            w = [u.inputs["emotion_weights"] for u in us]
            s = [u.inputs["style"] for u in us]
            kwargs = {}
            if self._prosody_controls:
                kwargs = {k: [u.prosody.get(k, d) for u in us]
                          for k, d in (("duration_scale", 1.0), ("pitch_shift", 0.0), ("energy_shift", 0.0))}
            res = self.model.inference_batch(
                [torch.tensor(u.tokens, dtype=torch.long) for u in us], speakers=[u.speaker for u in us],
                emotion_weights=None if w[0] is None else torch.stack(w).to(self.device),
                styles=None if s[0] is None else torch.stack(s).to(self.device), threshold=threshold,
                maxlenratio=maxlenratio, minlenratio=minlenratio, seeds=[u.seed for u in us],
                attention_window=self.decode_conf.get("attention_window"), **kwargs)
            for i, r in zip(chunk, res):
                mel = (r["mel"].float().cpu() * self.std + self.mean).numpy().astype(np.float32)
                mel = apply_postfilter(mel, self.decode_conf, float(self.feats_conf.get("log_floor", 1.0e-5)))
                stopped = r.get("stop_probs") is None or bool(r["stop_probs"][-1].item() > threshold)
                out[i] = (mel, stopped)
        return out

    # -- requests -> units ------------------------------------------------------------------------
    def _audio(self, value, field_name: str) -> np.ndarray:
        """A recording given as a path, a waveform at the model's rate or (waveform, rate)."""
        from pytorch_backend.feats.audio import load_audio

        if isinstance(value, (str, Path)):
            try:
                return load_audio(str(value), self.sample_rate, resample=True, source=field_name)
            except DataError as exc:
                raise RequestError(field_name, exc.message) from None
        rate = self.sample_rate
        if isinstance(value, tuple) and len(value) == 2:
            value, rate = value
        wav = np.asarray(value, dtype=np.float32)
        if wav.ndim == 2:
            wav = wav.mean(axis=1) if wav.shape[1] <= 8 else wav.mean(axis=0)
        if wav.ndim != 1 or wav.size == 0 or not np.isfinite(wav).all():
            raise RequestError(field_name, f"expected a non-empty finite mono waveform, got shape {wav.shape}")
        if int(rate) != self.sample_rate:
            import soxr

            wav = soxr.resample(wav, int(rate), self.sample_rate, quality="HQ").astype(np.float32)
        return np.clip(wav, -1.0, 1.0)

    def _mel_of(self, wav: np.ndarray, field_name: str) -> torch.Tensor:
        from pytorch_backend.feats.logmel import LogMelExtractor

        try:
            mel = LogMelExtractor.from_conf(self.feats_conf)(wav)
        except ValueError as exc:
            raise RequestError(field_name, f"cannot compute features: {exc}") from None
        return (torch.from_numpy(np.asarray(mel, dtype=np.float32)) - self.mean) / self.std

    @torch.no_grad()
    def reference_style(self, value) -> torch.Tensor:
        """The style (D,) of a reference recording (latent models)."""
        mel = self._mel_of(self._audio(value, "reference_wav"), "reference_wav")
        lens = torch.tensor([mel.shape[0]], device=self.device)
        return self.model.style_embedding(mel.unsqueeze(0).to(self.device), lens)[0].cpu()

    @torch.no_grad()
    def emotion_of_wav(self, value) -> torch.Tensor:
        """The emotion classifier's probabilities over the model's emotions for a recording."""
        if self.ser is None:
            raise RequestError("emotion_from_wav", "this model has no emotion classifier (exp/<corpus>_ser)")
        mel = self._mel_of(self._audio(value, "emotion_from_wav"), "emotion_from_wav").numpy()
        logits = torch.from_numpy(self.ser.logits([mel]))[0]
        probs = torch.softmax(logits, dim=0)
        w = torch.zeros(len(self.emotions))
        for label, p in zip(self.ser.emotions, probs.tolist()):
            if label in self.emotions:
                w[self.emotions.index(label)] += p
        return w / w.sum().clamp(min=1e-12)

    def _onehot(self, label: str) -> torch.Tensor:
        w = torch.zeros(len(self.emotions))
        w[self.emotions.index(label)] = 1.0
        return w

    def _mix_vector(self, mix: dict) -> torch.Tensor:
        w = torch.zeros(len(self.emotions))
        for label, weight in mix.items():
            w[self.emotions.index(label)] += float(weight)
        return w

    def _check(self, req: Request) -> dict:
        """Validated request values (RequestError naming the field otherwise)."""
        emotions = self.emotions
        if not isinstance(req.text, str) or not req.text.strip():
            raise RequestError("text", "empty text", req.source, req.line)
        speaker = req.speaker if req.speaker is not None else self.speakers[0]
        if speaker not in self.speakers:
            raise RequestError("speaker", f"unknown speaker '{speaker}' (known: {', '.join(self.speakers)})")
        try:
            intensity = float(req.intensity)
        except (TypeError, ValueError):
            raise RequestError("intensity", f"'{req.intensity}' is not a number") from None
        if not 0.0 <= intensity <= 1.0:
            raise RequestError("intensity", f"must be in [0, 1], got {intensity:g}")
        mix = req.mix
        if isinstance(mix, str):
            try:
                mix = parse_mix(mix)
            except ValueError as exc:
                raise RequestError("mix", str(exc)) from None
        if mix is not None:
            if not isinstance(mix, dict) or len(mix) != 2:
                raise RequestError("mix", "a mixture of exactly two emotions: label=w,label=w")
            for label, weight in mix.items():
                if label not in emotions:
                    raise RequestError("mix", f"unknown emotion '{label}' (known: {', '.join(emotions)})")
                if not isinstance(weight, (int, float)) or not 0.0 <= float(weight) <= 1.0:
                    raise RequestError("mix", f"weight {weight!r} of '{label}' is not a number in [0, 1]")
            if abs(sum(float(v) for v in mix.values()) - 1.0) > 1e-6:
                raise RequestError("mix", f"weights must sum to 1, got {sum(float(v) for v in mix.values()):g}")
        emotion = req.emotion
        chosen = [name for name, on in (("emotion", emotion is not None), ("mix", mix is not None),
                                        ("emotion_from_wav", req.emotion_from_wav is not None)) if on]
        if len(chosen) > 1:
            raise RequestError(chosen[1], f"{' and '.join(chosen)} exclude each other")
        if emotion == "auto":
            if self.text_emotion is None:
                raise RequestError("emotion", "'auto' needs the text emotion classifier, which this model lacks "
                                   "(exp/<corpus>_textemo)")
        elif emotion is not None and emotion not in emotions:
            raise RequestError("emotion", f"unknown emotion '{emotion}' (known: {', '.join(emotions)}, auto)")
        gst = req.gst_weights
        if isinstance(gst, str):
            try:
                gst = parse_weights(gst)
            except ValueError as exc:
                raise RequestError("gst_weights", f"not a list of numbers: {exc}") from None
        if req.reference_wav is not None and gst is not None:
            raise RequestError("gst_weights", "reference_wav and gst_weights exclude each other")
        style = req.style or self.decode_conf.get("style") or "emotion_mean"
        if style == "reference":
            style = "emotion_mean"
        if style not in STYLE_SOURCES:
            raise RequestError("style", f"unknown style source '{style}' (known: {', '.join(STYLE_SOURCES)})")
        prosody = {}
        for name in ("speed", "pitch_scale", "energy_scale"):
            try:
                value = float(getattr(req, name))
            except (TypeError, ValueError):
                raise RequestError(name, f"'{getattr(req, name)}' is not a number") from None
            if value != 1.0 and name not in self._prosody_controls:
                raise RequestError(name, f"model '{self.model_name}' has no {name} control (it has: "
                                   f"{', '.join(self._prosody_controls) or 'none'}; fastspeech2 has speed, "
                                   "pitch_scale and energy_scale, the Tacotron 2 family with alignment: "
                                   "durations speed)")
            lo, hi = PROSODY_LIMITS
            if not (lo <= value <= hi) or not math.isfinite(value):
                raise RequestError(name, f"must be in [{lo:g}, {hi:g}], got {value:g}")
            prosody[name] = value
        try:
            seed = int(req.seed if req.seed is not None else self.decode_conf.get("seed", 1))
        except (TypeError, ValueError):
            raise RequestError("seed", f"'{req.seed}' is not an integer") from None
        return {"speaker": self.speakers.index(speaker), "intensity": intensity, "mix": mix, "emotion": emotion,
                "gst_weights": gst, "style": style, "prosody": prosody, "seed": seed}

    def _supported(self, v: dict, req: Request, sentences) -> None:
        """The controls a request uses must be ones the model has (as decode checks them)."""
        tags_label = any(s.segment.emotion is not None for s in sentences)
        tags_mix = any(s.segment.mix is not None for s in sentences)
        tags_intensity = any(s.segment.intensity not in (None, 1.0) for s in sentences)
        requested = [name for name, on in (
            ("label", v["emotion"] not in (None, "auto") or tags_label),
            ("intensity", v["intensity"] != 1.0 or tags_intensity),
            ("mix", v["mix"] is not None or tags_mix or v["emotion"] == "auto" or req.emotion_from_wav is not None),
            ("reference", req.reference_wav is not None), ("gst_weights", v["gst_weights"] is not None),
            ("prior", v["style"] == "prior")) if on]
        controls = Controls(intensity=v["intensity"], neutral=self.neutral, style=v["style"], requested=requested,
                            reference_wav="<reference>" if req.reference_wav is not None else None,
                            gst_weights=v["gst_weights"])
        try:
            check_supported(self.model, self.model_name, controls, "<request>")
        except ConfigError as exc:
            raise RequestError(FIELD_OF_KEY.get(exc.key, exc.key or "controls"), exc.message) from None
        if self.model.uses_style() and v["style"] == "emotion_mean" and self.means is None:
            needs_means = req.reference_wav is None and v["gst_weights"] is None
            if needs_means or v["intensity"] != 1.0 or tags_label or tags_mix:
                raise RequestError("emotion", "this model's assets have no emotion-mean styles (styles.pt)")

    def punctuation_fallback(self, tokens: list[str]) -> list[str]:
        """Prosodic marks the model never saw become the nearest one it knows (``! ?`` -> ``.``,
        ``; :`` -> ``,`` or ``.``), or are left out when it knows none: a corpus whose transcripts
        only end in '.' still says "We won!". Letters and phonemes are never replaced."""
        out = []
        for tok in tokens:
            if tok in self.token_list or tok not in PUNCTUATION_FALLBACK:
                out.append(tok)
                continue
            known = next((alt for alt in PUNCTUATION_FALLBACK[tok] if alt in self.token_list), None)
            if known is not None:
                out.append(known)
        return out

    def _tokens(self, text: str, req: Request, column: int, unknown: str = "error") -> list[int] | None:
        """Token ids (+ <eos>) of one sentence; None when it has nothing to say; symbols outside
        the token list are a RequestError naming them and where they are (``unknown="unk"``:
        ``<unk>`` ids instead)."""
        tokens = self.punctuation_fallback(self.tokens_of(text))
        words = [t for t in tokens if any(ch.isalnum() for ch in t)]
        if not words:
            return None
        if unknown == "unk":
            return self.token_list.encode(tokens, add_eos=True)
        unknown = self.unknown_tokens(text)
        if unknown:
            col = column
            if self.token_type == "char":
                lowered = text.lower()
                hits = [lowered.find(t.lower()) for t in unknown if lowered.find(t.lower()) >= 0]
                col = column + min(hits) if hits else column
            raise RequestError("text", f"symbols outside the model's token list: {', '.join(repr(t) for t in unknown)} "
                               f"(in {text!r}; {self.token_type} tokens of language '{self.language}')",
                               req.source, req.line, (req.column - 1) + col)
        return self.token_list.encode(tokens, add_eos=True)

    def _units(self, index: int, req: Request, unknown: str = "error") -> list[_Unit]:
        v = self._check(req)
        try:
            sentences = sentences_of(req.text, self.emotions, count=lambda t: len(self.tokens_of(t)),
                                     max_tokens=self.max_tokens)
        except RequestError as exc:
            raise exc.at(req.source, req.line, req.column - 1) from None
        self._supported(v, req, sentences)
        fixed = None
        if self.model.uses_style():
            if req.reference_wav is not None:
                fixed = self.reference_style(req.reference_wav)
            elif v["gst_weights"] is not None:
                try:
                    fixed = self.model.style_from_token_weights(v["gst_weights"]).detach().cpu()
                except ValueError as exc:
                    raise RequestError("gst_weights", str(exc)) from None
        base = None
        if v["mix"] is not None:
            base = self._mix_vector(v["mix"])
        elif req.emotion_from_wav is not None:
            base = self.emotion_of_wav(req.emotion_from_wav)
        elif v["emotion"] not in (None, "auto"):
            base = self._onehot(v["emotion"])
        prosody = {}
        if self._prosody_controls:
            pitch_std = float(self.stats.get("pitch_std", 0.0) or 0.0)
            energy_std = float(self.stats.get("energy_std", 0.0) or 0.0)
            if v["prosody"]["pitch_scale"] != 1.0 and pitch_std <= 0:
                raise RequestError("pitch_scale", "the model's statistics have no pitch_std")
            if v["prosody"]["energy_scale"] != 1.0 and energy_std <= 0:
                raise RequestError("energy_scale", "the model's statistics have no energy_std")
            prosody = {"duration_scale": 1.0 / v["prosody"]["speed"],
                       "pitch_shift": math.log(v["prosody"]["pitch_scale"]) / pitch_std if pitch_std else 0.0,
                       "energy_shift": math.log(v["prosody"]["energy_scale"]) / energy_std if energy_std else 0.0}
        neutral = self._onehot(self.neutral)
        units = []
        kept = 0
        for k, sent in enumerate(sentences):
            tokens = self._tokens(sent.text, req, sent.column, unknown)
            if tokens is None:
                if units:
                    units[-1].pause = max(units[-1].pause, sent.pause)
                continue
            seg = sent.segment
            intensity = v["intensity"] if seg.intensity is None else seg.intensity
            if seg.tagged:
                target = self._mix_vector(seg.mix) if seg.mix is not None else self._onehot(seg.emotion)
                cond_fixed = None
            else:
                if base is not None:
                    target = base
                elif v["emotion"] == "auto":
                    target = torch.tensor(self.text_emotion.predict(sent.text), dtype=torch.float32)
                else:
                    target = neutral
                cond_fixed = fixed
            w = intensity * target + (1.0 - intensity) * neutral
            controls = Controls(intensity=intensity, neutral=self.neutral, style=v["style"])
            inputs = Conditioner(self.model, controls, self.emotions, self.means, cond_fixed).for_weights(w)
            if inputs["style"] is not None:
                inputs["style"] = torch.as_tensor(inputs["style"]).detach().float().cpu()
            if cond_fixed is not None:  # the style of a recording or of token weights
                intended = self.neutral if intensity == 0.0 else ("reference" if req.reference_wav is not None
                                                                   else "gst_weights")
            else:  # as decode says it: the (heavier) target emotion, neutral at intensity 0
                intended = self.neutral if intensity == 0.0 else self.emotions[int(torch.argmax(target))]
            units.append(_Unit(index, kept, sent.text, tokens, w, intended, inputs, v["speaker"], v["seed"] + kept,
                               prosody, sent.pause, self.unknown_tokens(sent.text) if unknown == "unk" else []))
            kept += 1
        if not units:
            raise RequestError("text", "nothing to synthesize: no words left after text normalization",
                               req.source, req.line, req.column)
        units[-1].pause = 0.0
        return units


def trim_mel(mel: np.ndarray, top_db: float = 40.0, pad: int = 1) -> np.ndarray:
    """Leading/trailing frames of a raw log-mel more than ``top_db`` below its loudest frame cut
    off (``pad`` frames of margin kept), so the pauses between sentences are the ones chosen."""
    if len(mel) < 3:
        return mel
    level = np.log(np.exp(mel.astype(np.float64)).sum(axis=1))  # log of the frame's mel energy
    loud = np.nonzero(level >= level.max() - top_db * np.log(10.0) / 20.0)[0]
    start, end = max(0, int(loud[0]) - pad), min(len(mel), int(loud[-1]) + 1 + pad)
    return mel[start:end]


def join_with_pauses(parts: list[tuple[np.ndarray, float]], fs: int) -> np.ndarray:
    """Concatenate waveforms, each followed by its pause (seconds of silence), with 5 ms fades
    at the joins so that no click is heard."""
    fade = max(1, int(0.005 * fs))
    out = []
    for wav, pause in parts:
        wav = np.asarray(wav, dtype=np.float32).copy()
        if len(parts) > 1 and len(wav) > 2 * fade:
            ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
            wav[:fade] *= ramp
            wav[-fade:] *= ramp[::-1]
        out.append(wav)
        if pause > 0:
            out.append(np.zeros(int(round(pause * fs)), dtype=np.float32))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


def load(path, device="cpu", vocoder: str | None = None) -> Synthesizer:
    """``Synthesizer.load``."""
    return Synthesizer.load(path, device, vocoder)


__all__ = ["Request", "SynthResult", "Synthesizer", "RequestError", "EmottsError", "PAUSES", "load",
           "join_with_pauses"]

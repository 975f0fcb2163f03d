"""Emotion controls at inference: what a decode asks for and how each model receives it.

The request (``decode`` section of a TTS conf, or the decode command line):
- ``emotion``: one label for every utterance (null: each utterance's own label, utt2emo);
- ``intensity`` in [0, 1]: interpolation from ``neutral`` (0) to the emotion (1);
- ``mix``: ``{label_a: w, label_b: 1 - w}``, a mixture of two emotions instead of one label;
- ``reference_wav``: take the style/latent of one recording (GST, VAE, CVAE);
- ``gst_weights``: manual style-token weights (GST);
- ``style``: where a latent model's style comes from for labels: ``emotion_mean`` (the mean
  style of the label's training utterances) or ``prior`` (CVAE: the label's learned prior mean).

Every utterance gets a soft label ``w`` (num_emotions,):
``w = intensity * target + (1 - intensity) * onehot(neutral)`` with ``target`` the one-hot of
the label or the mixture weights. A label-embedding model receives ``w`` itself (its emotion
vector is ``w @ table``); a latent model receives ``w @ means`` (emotion means or CVAE prior
means), or, with a reference wav / token weights, ``(1 - intensity) * mean(neutral) +
intensity * that style``. A request a model cannot honour is a ConfigError naming the key.

:func:`resolve_controls` turns a decode conf (+ command-line overrides) into checked controls;
:func:`build_conditioner` makes the :class:`Conditioner` that gives each utterance its inputs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import torch

from pytorch_backend.errors import ConfigError
from pytorch_backend.tts.loading import load_split
from pytorch_backend.tts.styles import emotion_mean_styles, reference_style

log = logging.getLogger("emotts.decode")

STYLE_SOURCES = ("emotion_mean", "prior")


@dataclass
class Controls:
    emotion: str | None = None
    intensity: float = 1.0
    neutral: str = "neutral"
    mix: dict[str, float] | None = None
    reference_wav: str | None = None
    gst_weights: list | None = None
    style: str = "emotion_mean"
    requested: list[str] = field(default_factory=list)  # what was asked beyond the defaults

    def record(self) -> dict:
        """What decode.json says about the controls used."""
        return {"emotion": self.emotion or "utt2emo", "intensity": self.intensity, "neutral": self.neutral,
                "mix": self.mix, "reference_wav": self.reference_wav, "gst_weights": self.gst_weights,
                "style": self.style}


def parse_mix(text: str) -> dict[str, float]:
    """``happy=0.7,sad=0.3`` -> {"happy": 0.7, "sad": 0.3} (the command-line form)."""
    out = {}
    for part in text.split(","):
        label, sep, weight = part.partition("=")
        if not sep:
            raise ValueError(f"--mix expects label=weight,label=weight, got '{text}'")
        out[label.strip()] = float(weight)
    return out


def parse_weights(text: str) -> list:
    """``0.1,0.9,0`` -> [0.1, 0.9, 0.0]; ``;`` separates heads: ``1,0;0,1`` -> [[1, 0], [0, 1]]."""
    rows = [[float(x) for x in row.split(",") if x.strip()] for row in text.split(";")]
    return rows[0] if len(rows) == 1 else rows


def controls_from_conf(dconf: dict, emotions: list[str], source="<conf>") -> Controls:
    """Validated controls of a decode conf section (values, not yet the model's support)."""
    c = Controls(emotion=dconf.get("emotion"), intensity=float(dconf.get("intensity", 1.0)),
                 neutral=dconf.get("neutral") or "neutral", mix=dconf.get("mix") or None,
                 reference_wav=dconf.get("reference_wav"), gst_weights=dconf.get("gst_weights"),
                 style=dconf.get("style") or "emotion_mean")
    if c.style == "reference":  # the older spelling: the reference wav says it
        c.style = "emotion_mean"
        if not c.reference_wav:
            raise ConfigError(source, "style 'reference' needs decode.reference_wav or --reference-wav",
                              key="decode.reference_wav")
    if c.style not in STYLE_SOURCES:
        raise ConfigError(source, f"unknown style source '{c.style}' (known: {', '.join(STYLE_SOURCES)})",
                          key="decode.style")
    if c.emotion is not None and c.emotion not in emotions:
        raise ConfigError(source, f"unknown emotion '{c.emotion}' (known: {', '.join(emotions)})",
                          key="decode.emotion")
    if not 0.0 <= c.intensity <= 1.0:
        raise ConfigError(source, f"intensity must be in [0, 1], got {c.intensity}", key="decode.intensity")
    if c.intensity != 1.0 and c.neutral not in emotions:
        raise ConfigError(source, f"intensity interpolates from '{c.neutral}', which is not an emotion of "
                          f"this corpus (known: {', '.join(emotions)}); set decode.neutral", key="decode.neutral")
    if c.mix is not None:
        if c.emotion is not None:
            raise ConfigError(source, "decode.emotion and decode.mix exclude each other", key="decode.mix")
        if not isinstance(c.mix, dict) or len(c.mix) != 2:
            raise ConfigError(source, "mix must map exactly two emotions to weights", key="decode.mix")
        for label, weight in c.mix.items():
            if label not in emotions:
                raise ConfigError(source, f"unknown emotion '{label}' (known: {', '.join(emotions)})",
                                  key=f"decode.mix.{label}")
            if not isinstance(weight, (int, float)) or weight < 0:
                raise ConfigError(source, f"weight {weight!r} is not a number >= 0", key=f"decode.mix.{label}")
        if abs(sum(c.mix.values()) - 1.0) > 1e-6:
            raise ConfigError(source, f"mix weights must sum to 1, got {sum(c.mix.values())}", key="decode.mix")
    if c.reference_wav and c.gst_weights is not None:
        raise ConfigError(source, "decode.reference_wav and decode.gst_weights exclude each other",
                          key="decode.gst_weights")
    c.requested = [name for name, on in (("label", c.emotion is not None), ("intensity", c.intensity != 1.0),
                                         ("mix", c.mix is not None), ("reference", bool(c.reference_wav)),
                                         ("gst_weights", c.gst_weights is not None),
                                         ("prior", c.style == "prior")) if on]
    return c


# what each request needs among a model's ``controls``
NEEDS = {
    "label": ("label", "emotion_mean", "prior"),
    "intensity": ("soft_label", "emotion_mean", "prior"),
    "mix": ("soft_label", "emotion_mean", "prior"),
    "reference": ("reference",),
    "gst_weights": ("gst_weights",),
    "prior": ("prior",),
}


def check_supported(model, model_name: str, controls: Controls, source="<conf>") -> None:
    """ConfigError naming the key when ``model`` cannot honour a requested control."""
    have = set(model.controls)
    keys = {"label": "decode.emotion", "intensity": "decode.intensity", "mix": "decode.mix",
            "reference": "decode.reference_wav", "gst_weights": "decode.gst_weights", "prior": "decode.style"}
    for name in controls.requested:
        if not have.intersection(NEEDS[name]):
            supported = [n for n, needs in NEEDS.items() if have.intersection(needs)]
            raise ConfigError(source, f"model '{model_name}' does not support the '{name}' control "
                              f"(it supports: {', '.join(supported) or 'none'})", key=keys[name])
    if controls.intensity != 1.0 and (controls.reference_wav or controls.gst_weights is not None) \
            and "emotion_mean" not in have:
        raise ConfigError(source, f"model '{model_name}' cannot scale a reference style: it has no "
                          "neutral style to interpolate from", key="decode.intensity")


def soft_label(target: int, controls: Controls, emotions: list[str]) -> torch.Tensor:
    """The soft label (num_emotions,) of an utterance whose own label id is ``target``."""
    w = torch.zeros(len(emotions))
    if controls.mix is not None:
        for label, weight in controls.mix.items():
            w[emotions.index(label)] += float(weight)
    else:
        label = emotions.index(controls.emotion) if controls.emotion is not None else target
        w[label] = 1.0
    if controls.intensity != 1.0:
        neutral = torch.zeros(len(emotions))
        neutral[emotions.index(controls.neutral)] = 1.0
        w = controls.intensity * w + (1.0 - controls.intensity) * neutral
    return w


def intended_label(own: int, controls: Controls, emotions: list[str]) -> str:
    """The emotion an utterance is meant to carry (what evaluation scores it against): the
    requested or own label, the heavier emotion of a mixture, neutral at intensity 0."""
    if controls.intensity == 0.0:
        return controls.neutral
    if controls.mix is not None:
        return max(controls.mix.items(), key=lambda kv: kv[1])[0]
    return controls.emotion if controls.emotion is not None else emotions[own]


class Conditioner:
    """Per-utterance model inputs (``emotion_weights``, ``style``) for a set of controls.

    ``means`` (num_emotions, D): emotion-mean styles of a latent model (when it uses them);
    ``fixed_style`` (D,): the style of a reference wav or of manual GST token weights.
    """

    def __init__(self, model, controls: Controls, emotions: list[str], means=None, fixed_style=None):
        self.model, self.controls, self.emotions = model, controls, emotions
        self.means, self.fixed_style = means, fixed_style

    def __call__(self, own: int) -> dict:
        return self.for_weights(soft_label(own, self.controls, self.emotions))

    def for_weights(self, w: torch.Tensor) -> dict:
        """The model inputs of a soft label ``w`` (num_emotions,) under these controls (a
        reference or token-weight style, when there is one, is used instead of ``w``)."""
        c = self.controls
        out = {"emotion_weights": w if self.model.uses_labels() else None, "style": None}
        if not self.model.uses_style():
            return out
        if self.fixed_style is not None:
            style = self.fixed_style
            if c.intensity != 1.0:
                neutral = self.means[self.emotions.index(c.neutral)]
                style = (1.0 - c.intensity) * neutral + c.intensity * style
        elif c.style == "prior":
            style = self.model.prior_latent(w)
        else:
            style = w @ self.means
        out["style"] = style
        return out


def resolve_controls(model, meta: dict, dconf: dict, overrides: dict | None, source="<conf>") -> Controls:
    """Controls of the decode conf with command-line ``overrides`` (non-None values) applied,
    checked against what the model supports."""
    merged = dict(dconf)
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    controls = controls_from_conf(merged, meta["emotions"], source)
    check_supported(model, meta["model"], controls, source)
    return controls


def build_conditioner(model, meta: dict, controls: Controls, data_root, tokens_dir, dump_dir, feats_conf: dict,
                      mean_t, std_t, device="cpu", progress: bool = True) -> tuple[Conditioner, dict]:
    """The per-utterance inputs of ``controls`` for ``model`` (emotion means computed when needed)
    and what decode.json records about them."""
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

"""Tacotron 2 (Shen et al. 2018) with optional speaker and emotion-label embeddings.

tokens -> Encoder -> (+ speaker / emotion [/ style] conditioning) -> memory
memory -> location-sensitive attention decoder (r frames per step) -> mel + stop
mel -> residual Postnet -> refined mel

``alignment: durations`` replaces the attention by learned token durations (Non-Attentive
Tacotron, Shen et al. 2020; pytorch_backend/tts/duration_decoder.py and learned_durations.py):
every decoder step reads the encoder state its frames belong to, the length is the sum of the
predicted durations (no stop token, no guided-attention loss), and the loss gains the duration,
alignment (forward-sum) and binarization terms. Styles, emotion labels and latents condition
the memory exactly as with attention, and so the durations too.

Conditioning vectors are combined with every encoder state, by concatenation
(``combine: concat``) or by adding a linear projection (``combine: add``); a subclass may also
condition the decoder itself (``_decoder_condition``, see emo_dnn).

Emotion labels may be soft: ``emotion_weights`` (B, num_emotions), a probability vector per
utterance, gives the emotion vector ``weights @ embedding table``; a hard label is its one-hot.
That is what makes intensity (interpolation from neutral) and mixtures of emotions expressible.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.data.targets import stop_targets
from pytorch_backend.tts.base import TTSModel
from pytorch_backend.tts.decoder import Decoder
from pytorch_backend.tts.duration_decoder import DurationDecoder, group_contexts
from pytorch_backend.tts.layers.encoder import Encoder
from pytorch_backend.tts.layers.masks import length_mask, pad_tokens
from pytorch_backend.tts.layers.prenet import Postnet
from pytorch_backend.tts.layers.variance import durations_to_path
from pytorch_backend.tts.learned_durations import LearnedDurations
from pytorch_backend.tts.losses import guided_attention_loss, masked_mel_loss, stop_loss

COMBINE_MODES = ("concat", "add")
ALIGNMENTS = ("attention", "durations")
LABEL_CONTROLS = ("label", "soft_label")  # what the emotion-label embedding makes possible


class ConditionCombiner(nn.Module):
    """Combines per-utterance vectors (speaker, emotion, style...) with the encoder states,
    each by its own mode: ``concat`` appends it to every state, ``add`` adds a projection."""

    def __init__(self, enc_dim: int):
        super().__init__()
        self.enc_dim = enc_dim
        self.out_dim = enc_dim
        self.modes: dict[str, str] = {}
        self.projections = nn.ModuleDict()

    def add_input(self, name: str, dim: int, mode: str) -> None:
        if mode not in COMBINE_MODES:
            raise ValueError(f"combine mode of {name} must be one of {COMBINE_MODES}, got '{mode}'")
        self.modes[name] = mode
        if mode == "add":
            self.projections[name] = nn.Linear(dim, self.enc_dim)
        else:
            self.out_dim += dim

    def forward(self, enc: torch.Tensor, vectors: dict) -> torch.Tensor:
        concat = []
        for name, vec in vectors.items():
            if self.modes[name] == "add":
                enc = enc + self.projections[name](vec).unsqueeze(1)
            else:
                concat.append(vec.unsqueeze(1).expand(-1, enc.size(1), -1))
        return torch.cat([enc] + concat, dim=-1) if concat else enc


class Tacotron2(TTSModel):
    """Tacotron 2. ``num_*`` and ``n_mels`` come from the data; the rest from ``model_conf``."""

    CONTROLS = LABEL_CONTROLS

    def __init__(self, num_tokens: int, num_speakers: int = 1, num_emotions: int = 1, n_mels: int = 80,
                 *, embed_dim: int = 256, enc_conv_layers: int = 3, enc_conv_channels: int = 256,
                 enc_conv_kernel: int = 5, enc_lstm_dim: int = 256, enc_dropout: float = 0.5,
                 use_speaker: bool = True, speaker_dim: int = 64, use_emotion: bool = True,
                 emotion_dim: int = 64, combine: str = "concat", reduction_factor: int = 3,
                 prenet_dims=(256, 256), prenet_dropout: float = 0.5, attn_rnn_dim: int = 512,
                 decoder_rnn_dim: int = 512, attn_dim: int = 128, loc_channels: int = 32,
                 loc_kernel: int = 31, rnn_dropout: float = 0.1, context_feedback: bool = True,
                 postnet_layers: int = 5,
                 postnet_channels: int = 256, postnet_kernel: int = 5, postnet_dropout: float = 0.5,
                 mel_loss: str = "l1+l2", stop_pos_weight: float = 5.0,
                 guided_attn_weight: float = 1.0, guided_attn_sigma: float = 0.2,
                 guided_attn_halflife: float | None = None, sampled_feedback: float = 0.0,
                 sampled_feedback_start: int = 0, sampled_feedback_ramp: int = 0,
                 alignment: str = "attention", duration_model: dict | None = None):
        super().__init__()
        if alignment not in ALIGNMENTS:
            raise ValueError(f"alignment must be one of {ALIGNMENTS}, got '{alignment}'")
        if duration_model and alignment != "durations":
            raise ValueError("duration_model is given but alignment is 'attention': set alignment: durations")
        self.alignment = alignment
        if not 0.0 <= sampled_feedback <= 1.0:
            raise ValueError(f"sampled_feedback must be a probability in [0, 1], got {sampled_feedback}")
        if sampled_feedback_start < 0 or sampled_feedback_ramp < 0:
            raise ValueError("sampled_feedback_start and sampled_feedback_ramp must be >= 0, got "
                             f"{sampled_feedback_start} and {sampled_feedback_ramp}")
        self.sampled_feedback = float(sampled_feedback)
        self.sampled_feedback_start = int(sampled_feedback_start)
        self.sampled_feedback_ramp = int(sampled_feedback_ramp)
        if reduction_factor < 1:
            raise ValueError(f"reduction_factor must be >= 1, got {reduction_factor}")
        if mel_loss not in ("l1", "l1+l2"):
            raise ValueError(f"mel_loss must be l1 or l1+l2, got '{mel_loss}'")
        self.n_mels = n_mels
        self.num_emotions = num_emotions
        self.r = reduction_factor
        self.mel_loss_kind = mel_loss
        self.stop_pos_weight = stop_pos_weight
        self.guided_attn_weight = guided_attn_weight
        self.guided_attn_sigma = guided_attn_sigma
        self.guided_attn_halflife = guided_attn_halflife
        self.encoder = Encoder(num_tokens, embed_dim, enc_conv_layers, enc_conv_channels,
                               enc_conv_kernel, enc_lstm_dim, enc_dropout)
        self.conditioner = ConditionCombiner(self.encoder.out_dim)
        self.speaker_embed = None
        self.emotion_embed = None
        if use_speaker:
            self.speaker_embed = nn.Embedding(num_speakers, speaker_dim)
            self.conditioner.add_input("speaker", speaker_dim, combine)
        if use_emotion:
            self.emotion_embed = nn.Embedding(num_emotions, emotion_dim)
            self.conditioner.add_input("emotion", emotion_dim, combine)
        self.decoder_cond_dim, self.decoder_cond_mode = 0, "concat"
        self._add_extra_conditions()
        if alignment == "attention":
            self.decoder = Decoder(n_mels, self.conditioner.out_dim, reduction_factor, prenet_dims,
                                   prenet_dropout, attn_rnn_dim, decoder_rnn_dim, attn_dim,
                                   loc_channels, loc_kernel, rnn_dropout, context_feedback,
                                   cond_dim=self.decoder_cond_dim, cond_mode=self.decoder_cond_mode)
            self.durations = None
        else:  # the attention sizes (attn_dim, loc_*, context_feedback) have no use here
            self.decoder = DurationDecoder(n_mels, self.conditioner.out_dim, reduction_factor, prenet_dims,
                                           prenet_dropout, attn_rnn_dim, decoder_rnn_dim, rnn_dropout,
                                           cond_dim=self.decoder_cond_dim, cond_mode=self.decoder_cond_mode)
            self.durations = LearnedDurations(n_mels, embed_dim, self.conditioner.out_dim, **(duration_model or {}))
        self.postnet = Postnet(n_mels, postnet_layers, postnet_channels, postnet_kernel, postnet_dropout)

    # -- what this model can be told at inference (see pytorch_backend/tts/controls.py) ----
    @property
    def controls(self) -> tuple[str, ...]:
        """``label`` (a hard emotion label) and ``soft_label`` (intensity, mixtures) when the
        emotion embedding is used; subclasses add ``emotion_mean``, ``reference``, ..."""
        return LABEL_CONTROLS if self.emotion_embed is not None else ()

    @property
    def prosody_controls(self) -> tuple[str, ...]:
        """``speed`` (the durations scaled) with ``alignment: durations``; none with attention."""
        return ("speed",) if self.durations is not None else ()

    def label_embedding(self, emotion_weights):
        """The emotion vector (B, D) the label path gives soft labels (B, num_emotions)."""
        if self.emotion_embed is None:
            raise ValueError("this model has no emotion-label embedding")
        return emotion_weights @ self.emotion_embed.weight

    # -- hooks for subclasses (GST, VAE, emotion DNN) -------------------------------------
    def _add_extra_conditions(self) -> None:
        """Register further conditioning inputs with ``self.conditioner`` (or set
        ``decoder_cond_dim``/``decoder_cond_mode`` to condition the decoder)."""

    def _extra_vectors(self, mels, mel_lens, style, emotion_weights) -> dict:
        """Conditioning vectors beyond speaker/emotion for a batch."""
        return {}

    def _decoder_condition(self, emotion_weights):
        """A per-utterance vector (B, decoder_cond_dim) for the decoder, or None."""
        return None

    # -- shared pieces -------------------------------------------------------------------
    def emotion_weights_of(self, batch_size, device, emotions=None, emotion_weights=None):
        """(B, num_emotions) soft labels from given weights or from hard emotion ids (one-hot)."""
        if emotion_weights is not None:
            w = torch.as_tensor(emotion_weights, dtype=torch.float32, device=device)
            return w.view(batch_size, -1)
        if emotions is None:
            return None
        ids = torch.as_tensor(emotions, device=device).view(batch_size)
        return F.one_hot(ids, self.num_emotions).float()

    def _vectors(self, batch_size, device, speakers, emotion_weights) -> dict:
        vecs = {}
        if self.speaker_embed is not None:
            if speakers is None:
                raise ValueError("this model uses a speaker embedding: pass speaker ids")
            vecs["speaker"] = self.speaker_embed(torch.as_tensor(speakers, device=device).view(batch_size))
        if self.emotion_embed is not None:
            if emotion_weights is None:
                raise ValueError("this model uses an emotion embedding: pass emotion ids or weights")
            vecs["emotion"] = emotion_weights @ self.emotion_embed.weight
        return vecs

    def encode(self, tokens, token_lens, speakers=None, emotions=None, mels=None, mel_lens=None,
               style=None, emotion_weights=None) -> torch.Tensor:
        """Encoder states combined with all conditioning vectors: the decoder's memory."""
        enc = self.encoder(tokens, token_lens)
        weights = self.emotion_weights_of(tokens.size(0), tokens.device, emotions, emotion_weights)
        vecs = self._vectors(tokens.size(0), tokens.device, speakers, weights)
        vecs.update(self._extra_vectors(mels, mel_lens, style, weights))
        return self.conditioner(enc, vecs)

    def _teacher_extras(self, mels, mel_lens) -> dict:
        """Reference-derived tensors of a training batch: ``style`` (the conditioning vector)
        and whatever the loss needs (e.g. ``mu``/``logvar``); empty for label-only models."""
        return {}

    def _extra_losses(self, out: dict, batch: dict) -> dict:
        """Further loss terms ``{name: (weight, value)}`` of a subclass."""
        return {}

    def forward_batch(self, batch: dict) -> dict:
        """Teacher-forced pass on a collated batch (what the trainer calls)."""
        return self(batch["tokens"], batch["token_lens"], batch["mels"], batch["mel_lens"],
                    batch["speakers"], batch["emotions"])

    def forward(self, tokens, token_lens, mels, mel_lens, speakers=None, emotions=None) -> dict:
        """Teacher-forced pass on a padded batch (mels (B, T, n_mels), T a multiple of r)."""
        extras = self._teacher_extras(mels, mel_lens)
        memory = self.encode(tokens, token_lens, speakers, emotions, mels, mel_lens, style=extras.get("style"))
        mask = length_mask(token_lens, tokens.size(1))
        cond = self._decoder_condition(self.emotion_weights_of(tokens.size(0), tokens.device, emotions))
        if self.durations is None:
            out = {}
            feedback = self._sampled_feedback(memory, mask, mels, cond)
            mel_before, out["stop_logits"], out["alignments"] = self.decoder(memory, mask, mels, cond, feedback)
        else:  # the hard alignment lays the memory out over the frames; the soft one is plotted
            out = self.durations.align(self.encoder.embed(tokens), token_lens, memory, mels, mel_lens)
            contexts = group_contexts(memory, out["alignments_hard"], self.r, mels.size(1))
            mel_before = self.decoder(contexts, mels, cond, self._sampled_feedback(contexts, None, mels, cond))
        out_mask = length_mask(mel_lens, mels.size(1))
        out["mel_before"] = mel_before
        out["mel_after"] = mel_before + self.postnet(mel_before, out_mask)
        out.update(extras)
        return out

    def feedback_sampling_prob(self, step: int) -> float:
        """Probability that a decoder step reads the model's own previous frame in training:
        0 before ``sampled_feedback_start``, then a linear ramp over ``sampled_feedback_ramp``
        steps up to ``sampled_feedback``."""
        if self.sampled_feedback <= 0 or step < self.sampled_feedback_start:
            return 0.0
        if not self.sampled_feedback_ramp:
            return self.sampled_feedback
        return self.sampled_feedback * min(1.0, (step - self.sampled_feedback_start + 1) / self.sampled_feedback_ramp)

    def _sampled_feedback(self, memory, mask, mels, cond):
        """Decoder inputs mixing real and predicted frames (parallel scheduled sampling,
        Duckworth et al. 2019), or None for plain teacher forcing.

        A first teacher-forced pass without gradient predicts every frame; each decoder step
        then reads, with probability :meth:`feedback_sampling_prob`, that prediction of the
        previous group's last frame instead of the real one, as it will at inference. The
        second pass (the one trained) sees its own errors, against the exposure bias of
        teacher forcing; it costs one forward of the decoder without gradient.
        """
        p = self.feedback_sampling_prob(self.train_step) if self.training else 0.0
        if p <= 0:
            return None
        with torch.no_grad():  # memory: the encoder states, or the step contexts of alignment: durations
            predicted = self._teacher_forced_frames(memory.detach(), mask, mels, None if cond is None else cond.detach())
        real = self.decoder.teacher_inputs(mels)
        own = self.decoder.teacher_inputs(predicted.to(mels.dtype))
        pick = torch.rand(real.shape[:2], device=real.device) < p
        return torch.where(pick.unsqueeze(-1), own, real)

    def _teacher_forced_frames(self, memory, mask, mels, cond):
        if self.durations is None:
            return self.decoder(memory, mask, mels, cond)[0]
        return self.decoder(memory, mels, cond)

    def guided_attn_scale(self, step: int) -> float:
        if not self.guided_attn_halflife:
            return self.guided_attn_weight
        return self.guided_attn_weight * 0.5 ** (step / self.guided_attn_halflife)

    def compute_loss(self, out: dict, batch: dict, step: int = 0) -> dict:
        """Loss terms and their weighted sum ``loss`` for a teacher-forced output."""
        mels, mel_lens = batch["mels"], batch["mel_lens"]
        mel = (masked_mel_loss(out["mel_before"].float(), mels, mel_lens, self.mel_loss_kind)
               + masked_mel_loss(out["mel_after"].float(), mels, mel_lens, self.mel_loss_kind))
        terms = {"loss": mel, "mel": mel}
        if self.durations is None:
            target, mask = stop_targets(mel_lens, out["stop_logits"].size(1), self.r)
            terms["stop"] = stop_loss(out["stop_logits"].float(), target, mask, self.stop_pos_weight)
            groups = (mel_lens + self.r - 1) // self.r
            terms["attn"] = guided_attention_loss(out["alignments"], groups, batch["token_lens"],
                                                  self.guided_attn_sigma)
            terms["loss"] = mel + terms["stop"] + self.guided_attn_scale(step) * terms["attn"]
            extra = {}
        else:
            extra = self.durations.losses(out, batch["token_lens"], mel_lens, step)
        extra.update(self._extra_losses(out, batch))
        for name, (weight, value) in extra.items():
            terms["loss"] = terms["loss"] + weight * value
            terms[name] = value
        return terms

    @torch.no_grad()
    def inference(self, tokens, speaker=None, emotion=None, style=None, threshold: float = 0.5,
                  maxlenratio: float = 12.0, minlenratio: float = 0.0, emotion_weights=None,
                  attention_window=None, duration_scale: float = 1.0) -> dict:
        """Synthesize one utterance from a 1-D token id tensor.

        ``emotion`` is an emotion id, ``emotion_weights`` a soft label (num_emotions,) used
        instead of it; ``style`` the style/latent vector of models that have one;
        ``attention_window`` (back, forward) the attention constraint (None: off).
        Returns ``mel`` (T, n_mels) normalized, ``stop_probs`` (T/r,), ``alignment`` (T/r, N).
        With ``alignment: durations``: the length is the predicted durations' sum, times
        ``duration_scale`` (> 1 slower), at most ``maxlenratio`` frames per token;
        ``threshold``, ``minlenratio`` and ``attention_window`` have no meaning; ``stop_probs`` is
        None, ``alignment`` the hard path (T, N), and ``durations`` (N,) are returned too.
        """
        tokens = torch.as_tensor(tokens).view(1, -1)
        device = next(self.parameters()).device
        tokens = tokens.to(device)
        lens = torch.tensor([tokens.size(1)], device=device)
        spk = None if speaker is None else torch.as_tensor(speaker).view(1)
        emo = None if emotion is None else torch.as_tensor(emotion).view(1)
        if style is not None:
            style = torch.as_tensor(style, dtype=torch.float32, device=device).view(1, -1)
        weights = self.emotion_weights_of(1, device, emo, emotion_weights)
        memory = self.encode(tokens, lens, spk, style=style, emotion_weights=weights)
        if self.durations is not None:
            _no_attention_window(attention_window)
            return self._decode_by_durations(memory, lens, self._decoder_condition(weights), maxlenratio,
                                             duration_scale)[0]
        max_steps = max(1, math.ceil(maxlenratio * tokens.size(1) / self.r))
        min_steps = int(minlenratio * tokens.size(1) / self.r)
        mel, probs, align = self.decoder.inference(memory, threshold, max_steps, min_steps,
                                                   self._decoder_condition(weights), _window(attention_window))
        mel = mel + self.postnet(mel.unsqueeze(0)).squeeze(0)
        return {"mel": mel, "stop_probs": probs, "alignment": align}

    @torch.no_grad()
    def inference_batch(self, tokens: list, speakers=None, emotion_weights=None, styles=None,
                        threshold: float = 0.5, maxlenratio: float = 12.0, minlenratio: float = 0.0,
                        seeds=None, attention_window=None, duration_scale=1.0, **unused) -> list[dict]:
        """Synthesize a batch of utterances (1-D token id tensors of any lengths) at once.

        ``speakers`` (B,) ids, ``emotion_weights`` (B, num_emotions) soft labels, ``styles``
        (B, style_dim) for models with a style; ``seeds``: one int per utterance seeding its
        prenet dropout. Each utterance stops on its own (per-utterance ``maxlenratio`` /
        ``minlenratio`` limits as in :meth:`inference`), and on CPU comes out as
        ``torch.manual_seed(seeds[b])`` followed by :meth:`inference` would make it (up to
        float rounding of batched matrix products). Returns one dict per utterance like
        :meth:`inference`.
        """
        device = next(self.parameters()).device
        b = len(tokens)
        padded, lens, n = pad_tokens(tokens, device)
        spk = None if speakers is None else torch.as_tensor(speakers, device=device).view(b)
        if styles is not None:
            styles = torch.as_tensor(styles, dtype=torch.float32, device=device).view(b, -1)
        weights = self.emotion_weights_of(b, device, None, emotion_weights)
        memory = self.encode(padded, lens, spk, style=styles, emotion_weights=weights)
        gens = None if seeds is None else [torch.Generator().manual_seed(int(s)) for s in seeds]
        if self.durations is not None:
            _no_attention_window(attention_window)
            return self._decode_by_durations(memory, lens, self._decoder_condition(weights), maxlenratio,
                                             duration_scale, gens)
        mask = length_mask(lens, padded.size(1))
        max_steps = [max(1, math.ceil(maxlenratio * k / self.r)) for k in n]
        min_steps = [int(minlenratio * k / self.r) for k in n]
        decoded = self.decoder.inference_batch(memory, mask, threshold, max_steps, min_steps,
                                               self._decoder_condition(weights), gens, lengths=n,
                                               window=_window(attention_window))
        frames = [m.size(0) for m, _, _ in decoded]
        mels = memory.new_zeros(b, max(frames), self.n_mels)
        for i, (m, _, _) in enumerate(decoded):
            mels[i, :frames[i]] = m
        mels = mels + self.postnet(mels, length_mask(torch.tensor(frames, device=device), mels.size(1)))
        return [{"mel": mels[i, :frames[i]], "stop_probs": probs, "alignment": align}
                for i, (_, probs, align) in enumerate(decoded)]

    def _decode_by_durations(self, memory, lens, cond, maxlenratio, duration_scale, generators=None) -> list[dict]:
        """``alignment: durations`` synthesis of encoded utterances (memory (B, N, D), token
        lengths (B,)): predicted durations, the decoder run free over their frames, the postnet."""
        scale = torch.as_tensor(duration_scale, dtype=memory.dtype, device=memory.device).reshape(-1, 1)
        if bool((scale <= 0).any()):
            raise ValueError(f"duration_scale must be > 0, got {duration_scale}")
        durations = self.durations.predict(memory, lens, scale, maxlenratio)
        path = durations_to_path(durations)
        frames = durations.sum(1)
        mels = self.decoder.inference(group_contexts(memory, path, self.r), cond, generators)[:, :path.size(1)]
        mels = mels + self.postnet(mels, length_mask(frames, mels.size(1)))
        return [{"mel": mels[i, :t], "stop_probs": None, "alignment": path[i, :t, :n],
                 "durations": durations[i, :n]}
                for i, (t, n) in enumerate(zip(frames.tolist(), lens.tolist()))]


def _window(attention_window):
    """The decode conf's ``attention_window`` ([back, forward] or None) as a tuple of ints."""
    if attention_window is None:
        return None
    if len(attention_window) != 2:
        raise ValueError(f"attention_window must be [back, forward], got {attention_window!r}")
    return int(attention_window[0]), int(attention_window[1])


def _no_attention_window(attention_window):
    if attention_window is not None:
        raise ValueError("decode.attention_window constrains an attention; this model has alignment: durations "
                         "(set attention_window: null)")

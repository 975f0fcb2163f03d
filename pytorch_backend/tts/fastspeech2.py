"""FastSpeech 2 (Ren et al. 2021) with speaker and emotion embeddings and an alignment learned
inside the model (no external aligner, no teacher model).

    tokens -> embedding -> FFT encoder -> + speaker/emotion vector -> token states h
    h -> duration predictor (log(1 + frames))
    h -> pitch predictor (token mean of normalized log-F0)  -> + pitch embedding  -> h'
    h -> energy predictor (token mean of normalized log energy) -> + energy embedding -> h'
    h' -> length regulator (expand by durations) -> + speaker/emotion vector -> FFT decoder
       -> linear -> mel (-> optional residual postnet)

Durations: an :class:`~pytorch_backend.tts.layers.alignment.AlignmentEncoder` attends from the
target mel frames to the token embeddings (soft attention, trained with the forward-sum / CTC
loss under a beta-binomial diagonal prior); monotonic alignment search turns it into a hard
path whose per-token frame counts are (a) the durations the length regulator expands by in
training, (b) the targets of the duration predictor and (c) the spans over which the frame
pitch/energy are averaged into token targets. A binarization loss pulls the soft attention
towards the hard path after ``bin_loss_start`` steps. At inference the predicted durations,
pitch and energy are used instead.

Pitch and energy are modelled per token (``variance_level: token``, as in FastPitch) or per
frame (``variance_level: frame``, as in the FastSpeech 2 paper): then the predictors run on the
expanded frame states, their embeddings are added to the frames, and with ``predict_voicing``
the pitch predictor also gives a voiced/unvoiced logit per frame (trained with BCE, its 0/1
decision embedded like pitch), so the decoder is told the contour inside a token and where
voicing starts and stops instead of averaging them away.

Emotion: the emotion vector is ``weights @ emotion_embedding.weight`` for a probability vector
``weights`` over the emotions (a label is its one-hot), so intensity (neutral -> emotion) and
mixtures of two emotions are expressed by soft labels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_backend.tts.base import TTSModel
from pytorch_backend.tts.layers.alignment import (AlignmentEncoder, beta_binomial_log_prior, binarization_loss,
                                                  binarization_scale,
                                                  forward_sum_loss, monotonic_alignment_search)
from pytorch_backend.tts.layers.masks import length_mask, pad_tokens
from pytorch_backend.tts.layers.prenet import Postnet
from pytorch_backend.tts.layers.transformer import FFTStack
from pytorch_backend.tts.layers.variance import (ValueEmbedding, VariancePredictor, durations_to_path, expand,
                                                 predicted_durations, token_average)

VARIANCE_LEVELS = ("token", "frame")


class FastSpeech2(TTSModel):
    """FastSpeech 2 with learned alignment. ``num_*``/``n_mels`` come from the data, the rest
    from ``model_conf`` (conf/tts/fastspeech2.yaml)."""

    r = 1  # one mel frame per output step (the trainer pads mels to a multiple of r)
    NEEDS_PROSODY = True  # the dataset must load pitch/energy (pitch.scp, energy.scp)
    CONTROLS = ("label", "soft_label")

    def __init__(self, num_tokens: int, num_speakers: int = 1, num_emotions: int = 1, n_mels: int = 80,
                 *, dim: int = 128, heads: int = 2, enc_layers: int = 2, dec_layers: int = 2,
                 ffn_hidden: int = 256, ffn_kernels=(9, 1), dropout: float = 0.1, dec_dropout: float = 0.0,
                 use_speaker: bool = True, use_emotion: bool = True, cond_dim: int = 64,
                 predictor_channels: int = 128, predictor_kernel: int = 3, predictor_dropout: float = 0.2,
                 value_kernel: int = 3, align_channels: int = 80, align_temperature: float = 5.0e-4,
                 prior_scaling: float = 1.0, postnet_layers: int = 0, postnet_channels: int = 128,
                 postnet_kernel: int = 5, mel_loss: str = "l1", duration_weight: float = 1.0,
                 pitch_weight: float = 1.0, energy_weight: float = 1.0, ctc_weight: float = 1.0,
                 bin_weight: float = 1.0, bin_loss_start: int = 300, bin_loss_warmup: int = 200,
                 max_frames_per_token: int = 60, variance_level: str = "token", predict_voicing: bool = False,
                 voicing_weight: float = 1.0):
        super().__init__()
        if mel_loss not in ("l1", "l1+l2"):
            raise ValueError(f"mel_loss must be l1 or l1+l2, got '{mel_loss}'")
        if variance_level not in VARIANCE_LEVELS:
            raise ValueError(f"variance_level must be one of {VARIANCE_LEVELS}, got '{variance_level}'")
        if predict_voicing and variance_level != "frame":
            raise ValueError("predict_voicing needs variance_level: frame (voicing is a frame property)")
        self.variance_level = variance_level
        self.predict_voicing = bool(predict_voicing)
        self.n_mels = n_mels
        self.num_emotions = num_emotions
        self.mel_loss_kind = mel_loss
        self.weights = {"dur": duration_weight, "pitch": pitch_weight, "energy": energy_weight,
                        "ctc": ctc_weight, "voicing": voicing_weight}
        self.bin_weight = bin_weight
        self.bin_loss_start = int(bin_loss_start)
        self.bin_loss_warmup = int(bin_loss_warmup)
        self.max_frames_per_token = int(max_frames_per_token)
        self.embed = nn.Embedding(num_tokens, dim, padding_idx=0)
        self.encoder = FFTStack(dim, enc_layers, heads, ffn_hidden, ffn_kernels, dropout)
        self.speaker_embed = nn.Embedding(num_speakers, cond_dim) if use_speaker else None
        self.emotion_embed = nn.Embedding(num_emotions, cond_dim) if use_emotion else None
        n_cond = int(use_speaker) + int(use_emotion)
        self.cond_enc = nn.Linear(n_cond * cond_dim, dim) if n_cond else None
        self.cond_dec = nn.Linear(n_cond * cond_dim, dim) if n_cond else None
        self.duration_predictor = VariancePredictor(dim, predictor_channels, predictor_kernel, predictor_dropout)
        self.pitch_predictor = VariancePredictor(dim, predictor_channels, predictor_kernel, predictor_dropout,
                                                 outputs=2 if self.predict_voicing else 1)
        self.energy_predictor = VariancePredictor(dim, predictor_channels, predictor_kernel, predictor_dropout)
        self.pitch_embed = ValueEmbedding(dim, value_kernel)
        self.energy_embed = ValueEmbedding(dim, value_kernel)
        self.voicing_embed = ValueEmbedding(dim, value_kernel) if self.predict_voicing else None
        self.aligner = AlignmentEncoder(n_mels, dim, align_channels, align_temperature)
        self.prior_scaling = float(prior_scaling)
        self.decoder = FFTStack(dim, dec_layers, heads, ffn_hidden, ffn_kernels, dec_dropout)
        self.mel_out = nn.Linear(dim, n_mels)
        self.postnet = (Postnet(n_mels, postnet_layers, postnet_channels, postnet_kernel, 0.0)
                        if postnet_layers else None)

    # -- what this model can be told at inference (see pytorch_backend/tts/controls.py) ------
    @property
    def controls(self) -> tuple[str, ...]:
        """``label`` and ``soft_label`` (intensity, mixtures) when the emotion embedding is used."""
        return self.CONTROLS if self.emotion_embed is not None else ()

    @property
    def prosody_controls(self) -> tuple[str, ...]:
        """Speed (durations), pitch and energy: all three are predicted and can be moved."""
        return ("speed", "pitch_scale", "energy_scale")

    def label_embedding(self, emotion_weights):
        """The emotion vector (B, D) of soft labels (B, num_emotions): the emotion-space map's input."""
        return self.emotion_vector(emotion_weights=emotion_weights, batch_size=emotion_weights.size(0),
                                   device=emotion_weights.device)

    # -- conditioning ------------------------------------------------------------------------
    def emotion_vector(self, emotions=None, emotion_weights=None, batch_size: int = 1, device=None):
        """(B, cond_dim) emotion vectors from ids (B,) or soft labels (B, num_emotions)."""
        if emotion_weights is None:
            if emotions is None:
                raise ValueError("this model uses an emotion embedding: pass emotion ids or emotion_weights")
            emotion_weights = F.one_hot(torch.as_tensor(emotions, device=device).view(batch_size).long(),
                                        self.num_emotions).float()
        w = torch.as_tensor(emotion_weights, dtype=torch.float32, device=device).view(batch_size, -1)
        if w.size(1) != self.num_emotions:
            raise ValueError(f"emotion_weights has {w.size(1)} entries, the model has {self.num_emotions} emotions")
        if bool((w < 0).any()):
            raise ValueError("emotion_weights must be non-negative (a probability vector)")
        return w @ self.emotion_embed.weight

    def _conditions(self, batch_size, device, speakers=None, emotions=None, emotion_weights=None):
        vecs = []
        if self.speaker_embed is not None:
            if speakers is None:
                raise ValueError("this model uses a speaker embedding: pass speaker ids")
            vecs.append(self.speaker_embed(torch.as_tensor(speakers, device=device).view(batch_size).long()))
        if self.emotion_embed is not None:
            vecs.append(self.emotion_vector(emotions, emotion_weights, batch_size, device))
        return torch.cat(vecs, dim=-1) if vecs else None

    def _encode(self, tokens, token_lens, cond):
        mask = length_mask(token_lens, tokens.size(1))
        emb = self.embed(tokens)
        h = self.encoder(emb, mask)
        if cond is not None:
            h = (h + self.cond_enc(cond).unsqueeze(1)) * mask.unsqueeze(-1).to(h.dtype)
        return emb, h, mask

    def _decode(self, frames, mel_lens, cond):
        """Frame states (B, T, dim) -> ``mel_before``/``mel_after`` (B, T, n_mels), zero at padding."""
        mask = length_mask(mel_lens, frames.size(1))
        if cond is not None:
            frames = frames + self.cond_dec(cond).unsqueeze(1)
        frames = frames * mask.unsqueeze(-1).to(frames.dtype)
        mel = self.mel_out(self.decoder(frames, mask)) * mask.unsqueeze(-1).to(frames.dtype)
        out = {"mel_before": mel}
        if self.postnet is not None:
            out["mel_after"] = (mel + self.postnet(mel, mask)) * mask.unsqueeze(-1).to(mel.dtype)
        else:
            out["mel_after"] = mel
        return out

    def _predict_frame_values(self, frames, fmask):
        """Frame-level pitch (B, T) and, with ``predict_voicing``, the voiced logit (B, T) (else None)."""
        pred = self.pitch_predictor(frames, fmask)
        return tuple(pred.unbind(-1)) if self.predict_voicing else (pred, None)

    def _embed_frame_values(self, frames, fmask, pitch, energy, voiced):
        frames = frames + self.pitch_embed(pitch, fmask) + self.energy_embed(energy, fmask)
        if self.voicing_embed is not None:
            frames = frames + self.voicing_embed(voiced.to(frames.dtype), fmask)
        return frames

    # -- training ----------------------------------------------------------------------------
    def forward_batch(self, batch: dict) -> dict:
        """Teacher-forced pass on a collated batch (tokens, token_lens, mels, mel_lens, speakers,
        emotions, pitch, energy)."""
        if "pitch" not in batch or "energy" not in batch:
            raise ValueError("fastspeech2 trains on pitch and energy: load the dataset with_prosody=True")
        return self(batch["tokens"], batch["token_lens"], batch["mels"], batch["mel_lens"],
                    batch["pitch"], batch["energy"], batch.get("speakers"), batch.get("emotions"),
                    batch.get("voiced"))

    def forward(self, tokens, token_lens, mels, mel_lens, pitch, energy, speakers=None, emotions=None,
                voiced=None) -> dict:
        b = tokens.size(0)
        cond = self._conditions(b, tokens.device, speakers, emotions)
        emb, h, tmask = self._encode(tokens, token_lens, cond)
        mmask = length_mask(mel_lens, mels.size(1))
        prior = beta_binomial_log_prior(token_lens, mel_lens, tokens.size(1), mels.size(1), self.prior_scaling)
        logp, soft = self.aligner(emb, tmask, mels, mmask, prior)
        hard = monotonic_alignment_search(logp, token_lens, mel_lens)
        durations = hard.sum(1)  # (B, N), >= 1 on real tokens, sums to mel_lens
        pitch_tok = token_average(pitch, hard)
        energy_tok = token_average(energy, hard)
        log_dur_pred = self.duration_predictor(h, tmask)
        voiced_logit = voiced_target = None
        if self.variance_level == "token":
            pitch_target, energy_target = token_average(pitch, hard), token_average(energy, hard)
            pitch_pred = self.pitch_predictor(h, tmask)
            energy_pred = self.energy_predictor(h, tmask)
            h = h + self.pitch_embed(pitch_target, tmask) + self.energy_embed(energy_target, tmask)
            frames = expand(h, hard)
        else:  # frame level: predicted from the expanded states, the true frame values embedded
            if self.predict_voicing and voiced is None:
                raise ValueError("predict_voicing trains on the voiced flags: the batch has no 'voiced'")
            frames = expand(h, hard)
            pitch_target, energy_target = pitch, energy
            pitch_pred, voiced_logit = self._predict_frame_values(frames, mmask)
            energy_pred = self.energy_predictor(frames, mmask)
            voiced_target = None if voiced is None else voiced.to(frames.dtype) * mmask.to(frames.dtype)
            frames = self._embed_frame_values(frames, mmask, pitch, energy, voiced_target)
        out = self._decode(frames, mel_lens, cond)
        out.update(alignments=soft, alignments_hard=hard, attn_logprob=logp, durations=durations,
                   log_dur_pred=log_dur_pred, pitch_pred=pitch_pred, pitch_target=pitch_target,
                   energy_pred=energy_pred, energy_target=energy_target)
        if voiced_logit is not None:
            out.update(voiced_logit=voiced_logit, voiced_target=voiced_target)
        return out

    def bin_scale(self, step: int) -> float:
        """Weight of the binarization loss: 0 before ``bin_loss_start``, then a linear ramp."""
        return binarization_scale(step, self.bin_loss_start, self.bin_loss_warmup, self.bin_weight)

    def compute_loss(self, out: dict, batch: dict, step: int = 0) -> dict:
        """Masked loss terms and their weighted sum ``loss``: mel (L1 [+L2]), dur (MSE of
        log(1 + frames)), pitch/energy (MSE per token or per frame, as ``variance_level``), ctc
        (forward-sum), bin (binarization), voicing (frame BCE, with ``predict_voicing``)."""
        mels, mel_lens, token_lens = batch["mels"], batch["mel_lens"], batch["token_lens"]
        mmask = length_mask(mel_lens, mels.size(1)).unsqueeze(-1).float()
        denom = mmask.sum() * mels.size(-1)

        def mel_term(pred):
            diff = (pred.float() - mels) * mmask
            loss = diff.abs().sum() / denom
            if self.mel_loss_kind == "l1+l2":
                loss = loss + diff.pow(2).sum() / denom
            return loss

        mel = mel_term(out["mel_after"])
        if self.postnet is not None:
            mel = mel + mel_term(out["mel_before"])
        tmask = length_mask(token_lens, batch["tokens"].size(1)).float()
        vmask = tmask if self.variance_level == "token" else mmask.squeeze(-1)  # where pitch/energy live

        def masked_mse(pred, target, mask):
            return ((pred.float() - target.float()).pow(2) * mask).sum() / mask.sum()

        dur = masked_mse(out["log_dur_pred"], torch.log1p(out["durations"]), tmask)
        pitch = masked_mse(out["pitch_pred"], out["pitch_target"], vmask)
        energy = masked_mse(out["energy_pred"], out["energy_target"], vmask)
        ctc = forward_sum_loss(out["attn_logprob"].float(), token_lens, mel_lens)
        binl = binarization_loss(out["alignments_hard"], out["alignments"].float(), mel_lens)
        w = self.weights
        total = (mel + w["dur"] * dur + w["pitch"] * pitch + w["energy"] * energy + w["ctc"] * ctc
                 + self.bin_scale(step) * binl)
        terms = {"mel": mel, "dur": dur, "pitch": pitch, "energy": energy, "ctc": ctc, "bin": binl}
        if "voiced_logit" in out:
            bce = F.binary_cross_entropy_with_logits(out["voiced_logit"].float(), out["voiced_target"].float(),
                                                     reduction="none")
            terms["voicing"] = (bce * vmask).sum() / vmask.sum()
            total = total + w["voicing"] * terms["voicing"]
        return {"loss": total, **terms}

    # -- inference ---------------------------------------------------------------------------
    @torch.no_grad()
    def inference(self, tokens, speaker=None, emotion=None, emotion_weights=None, style=None, threshold=None,
                  maxlenratio=None, minlenratio=None, duration_scale: float = 1.0, pitch_shift: float = 0.0,
                  energy_scale: float = 1.0, energy_shift: float = 0.0, **unused) -> dict:
        """Synthesize one utterance from a 1-D token id tensor.

        ``emotion`` (an id) or ``emotion_weights`` (a probability vector over the emotions; wins
        when both are given) choose the emotion. ``duration_scale`` multiplies the predicted
        durations (> 1: slower); ``pitch_shift`` is added to the predicted normalized log-F0 (units
        of the train log-F0 standard deviation); ``energy_scale`` multiplies the predicted normalized
        energy, and ``energy_shift`` is added to it afterwards (train energy std units).
        ``maxlenratio`` caps the total length at that many frames per token (durations
        shrink proportionally); ``threshold``/``minlenratio`` have no meaning here. Returns ``mel`` (T, n_mels) normalized, ``stop_probs`` None,
        ``alignment`` (T, N) hard, ``durations`` (N,), the ``pitch``/``energy`` (N,) per token or (T,)
        per frame (``variance_level``) and, with ``predict_voicing``, the 0/1 ``voiced`` (T,).
        """
        if style is not None:
            raise ValueError("fastspeech2 has no reference encoder: a style vector (reference wav or "
                             "emotion mean style) is not supported; use an emotion label or soft label")
        if duration_scale <= 0:
            raise ValueError(f"duration_scale must be > 0, got {duration_scale}")
        device = next(self.parameters()).device
        tokens = torch.as_tensor(tokens).view(1, -1).to(device)
        lens = torch.tensor([tokens.size(1)], device=device)
        emo = None if emotion is None else torch.as_tensor(emotion).view(1)
        cond = self._conditions(1, device, None if speaker is None else torch.as_tensor(speaker).view(1),
                                emo, emotion_weights)
        _, h, tmask = self._encode(tokens, lens, cond)
        durations = predicted_durations(self.duration_predictor(h, tmask), lens, float(duration_scale),
                                        self.max_frames_per_token, maxlenratio)
        path = durations_to_path(durations)
        mel_lens = durations.sum(1)
        frames, pitch, energy, voiced = self._adapt(h, tmask, path, mel_lens, float(pitch_shift),
                                                    float(energy_scale), float(energy_shift))
        out = self._decode(frames, mel_lens, cond)
        result = {"mel": out["mel_after"][0], "stop_probs": None, "alignment": path[0],
                  "durations": durations[0], "pitch": pitch[0], "energy": energy[0]}
        if voiced is not None:
            result["voiced"] = voiced[0]
        return result

    def _adapt(self, h, tmask, path, mel_lens, pitch_shift, energy_scale, energy_shift):
        """The inference variance adaptor: predicted pitch and energy (shifted/scaled: a number or
        (B, 1)), and voicing, embedded; returns the frame states (B, T, dim) for the decoder and
        the pitch, energy (B, N) per token or (B, T) per frame, and the 0/1 voicing (B, T) or None."""
        if self.variance_level == "token":
            m = tmask.to(h.dtype)
            pitch = (self.pitch_predictor(h, tmask) + pitch_shift) * m
            energy = (self.energy_predictor(h, tmask) * energy_scale + energy_shift) * m
            h = h + self.pitch_embed(pitch, tmask) + self.energy_embed(energy, tmask)
            return expand(h, path), pitch, energy, None
        frames = expand(h, path)
        fmask = length_mask(mel_lens, frames.size(1))
        m = fmask.to(frames.dtype)
        pitch, logit = self._predict_frame_values(frames, fmask)
        pitch = (pitch + pitch_shift) * m
        energy = (self.energy_predictor(frames, fmask) * energy_scale + energy_shift) * m
        voiced = None if logit is None else (logit > 0).to(frames.dtype) * m
        return self._embed_frame_values(frames, fmask, pitch, energy, voiced), pitch, energy, voiced

    @torch.no_grad()
    def inference_batch(self, tokens: list, speakers=None, emotion_weights=None, styles=None, maxlenratio=None,
                        duration_scale=1.0, pitch_shift=0.0, energy_scale=1.0, energy_shift=0.0,
                        **unused) -> list[dict]:
        """Synthesize a padded batch of utterances (1-D token id tensors) in one pass.

        ``speakers`` (B,), ``emotion_weights`` (B, num_emotions); the prosody controls are one
        number for all or one per utterance. Each utterance gets the durations, pitch, energy and
        frames :meth:`inference` gives it alone (padding never reaches real positions). Returns
        one dict per utterance like :meth:`inference`.
        """
        if styles is not None:
            raise ValueError("fastspeech2 has no reference encoder: a style vector is not supported")
        device = next(self.parameters()).device
        b = len(tokens)

        def per_utt(value, name):
            v = torch.as_tensor(value, dtype=torch.float32, device=device).reshape(-1)
            v = v.expand(b) if v.numel() == 1 else v
            if v.numel() != b:
                raise ValueError(f"{name}: one value or one per utterance ({b}), got {v.numel()}")
            return v.unsqueeze(1)

        dur_scale = per_utt(duration_scale, "duration_scale")
        if bool((dur_scale <= 0).any()):
            raise ValueError("duration_scale must be > 0")
        padded, lens, n_tokens = pad_tokens(tokens, device)
        cond = self._conditions(b, device, None if speakers is None else torch.as_tensor(speakers).view(b),
                                None, emotion_weights)
        _, h, tmask = self._encode(padded, lens, cond)
        durations = predicted_durations(self.duration_predictor(h, tmask), lens, dur_scale,
                                        self.max_frames_per_token, maxlenratio)
        path = durations_to_path(durations)
        mel_lens = durations.sum(1)
        frames, pitch, energy, voiced = self._adapt(
            h, tmask, path, mel_lens, per_utt(pitch_shift, "pitch_shift"), per_utt(energy_scale, "energy_scale"),
            per_utt(energy_shift, "energy_shift"))
        out = self._decode(frames, mel_lens, cond)
        results = []
        for i, (n, t) in enumerate(zip(n_tokens, mel_lens.tolist())):
            span = n if self.variance_level == "token" else t
            res = {"mel": out["mel_after"][i, :t], "stop_probs": None, "alignment": path[i, :t, :n],
                   "durations": durations[i, :n], "pitch": pitch[i, :span], "energy": energy[i, :span]}
            if voiced is not None:
                res["voiced"] = voiced[i, :t]
            results.append(res)
        return results

"""FastSpeech 2 with learned alignment: MAS, the alignment losses, padding invariance, training
on the tiny corpus, and inference controls (labels, soft labels, durations, errors)."""

from __future__ import annotations

import copy
import itertools
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from prosody_fixtures import TINY_FS2, add_prosody, tiny_fs2_conf
from scipy.stats import betabinom
from tts_fixtures import EMOTIONS, N_MELS, make_corpus

from pytorch_backend.config import TTS_SCHEMA, load_checked
from pytorch_backend.errors import ConfigError
from pytorch_backend.tts import MODELS, build_model
from pytorch_backend.tts.fastspeech2 import FastSpeech2
from pytorch_backend.tts.layers.alignment import (beta_binomial_log_prior, binarization_loss, forward_sum_loss,
                                                  monotonic_alignment_search)
from pytorch_backend.tts.layers.variance import durations_to_path, token_average

torch.set_num_threads(1)

NUM_TOKENS, NUM_SPK, NUM_EMO = 12, 2, 3


def tiny(**over) -> FastSpeech2:
    conf = dict(TINY_FS2, **over)
    torch.manual_seed(0)
    return build_model("fastspeech2", conf, NUM_TOKENS, NUM_SPK, NUM_EMO, N_MELS, source="conf/tts/fs2.yaml")


def padded_batch(seed=0):
    """Two utterances of different lengths (the first the longer), padded."""
    g = torch.Generator().manual_seed(seed)
    token_lens, mel_lens = torch.tensor([7, 4]), torch.tensor([19, 9])
    tokens = torch.zeros(2, 7, dtype=torch.long)
    mels = torch.zeros(2, 19, N_MELS)
    pitch, energy = torch.zeros(2, 19), torch.zeros(2, 19)
    for i in range(2):
        n, t = int(token_lens[i]), int(mel_lens[i])
        tokens[i, :n] = torch.randint(1, NUM_TOKENS, (n,), generator=g)
        mels[i, :t] = torch.randn(t, N_MELS, generator=g)
        pitch[i, :t] = torch.randn(t, generator=g)
        energy[i, :t] = torch.randn(t, generator=g)
    return {"tokens": tokens, "token_lens": token_lens, "mels": mels, "mel_lens": mel_lens, "pitch": pitch,
            "energy": energy, "speakers": torch.tensor([0, 1]), "emotions": torch.tensor([2, 0])}


def single(batch, i):
    n, t = int(batch["token_lens"][i]), int(batch["mel_lens"][i])
    out = {k: v[i:i + 1] for k, v in batch.items()}
    out.update(tokens=out["tokens"][:, :n], mels=out["mels"][:, :t], pitch=out["pitch"][:, :t],
               energy=out["energy"][:, :t])
    return out


# -- monotonic alignment search ---------------------------------------------------------------
def test_mas_on_a_hand_checked_matrix():
    # 6 frames, 3 tokens. Frame-wise argmax would go 0 0 2 1 1 2 (not monotonic); the best
    # monotonic path is 0 0 1 1 1 2: frames 2..4 on token 1 cost log .3 + log .8 + log .8.
    p = torch.tensor([[.9, .05, .05],
                      [.8, .1, .1],
                      [.1, .3, .6],
                      [.1, .8, .1],
                      [.1, .8, .1],
                      [.1, .1, .8]])
    path = monotonic_alignment_search(p.log().unsqueeze(0), torch.tensor([3]), torch.tensor([6]))[0]
    assert path.argmax(1).tolist() == [0, 0, 1, 1, 1, 2]
    assert path.sum(1).tolist() == [1.0] * 6
    assert path.sum(0).tolist() == [2.0, 3.0, 1.0]


def _brute_force_best(logp: np.ndarray) -> float:
    t, n = logp.shape
    best = -math.inf
    for cuts in itertools.combinations(range(1, t), n - 1):  # where each new token starts
        bounds = (0, *cuts, t)
        best = max(best, sum(logp[bounds[j]:bounds[j + 1], j].sum() for j in range(n)))
    return best


def test_mas_is_optimal_monotonic_and_batch_independent():
    g = torch.Generator().manual_seed(1)
    token_lens, mel_lens = torch.tensor([4, 3, 2]), torch.tensor([8, 5, 7])
    logp = torch.randn(3, 8, 4, generator=g).log_softmax(-1)
    path = monotonic_alignment_search(logp, token_lens, mel_lens)
    for i in range(3):
        n, t = int(token_lens[i]), int(mel_lens[i])
        p = path[i]
        assert p[t:].sum() == 0 and p[:, n:].sum() == 0  # nothing in the padding
        real = p[:t, :n]
        assert (real.sum(1) == 1).all()  # one token per frame
        tok = real.argmax(1)
        assert tok[0] == 0 and tok[-1] == n - 1
        assert ((tok[1:] - tok[:-1]) >= 0).all() and ((tok[1:] - tok[:-1]) <= 1).all()  # monotonic, no skips
        d = real.sum(0)
        assert (d >= 1).all() and int(d.sum()) == t
        score = float((logp[i, :t, :n] * real).sum())
        assert score == pytest.approx(_brute_force_best(logp[i, :t, :n].numpy()), abs=1e-4)
        alone = monotonic_alignment_search(logp[i:i + 1, :t, :n], token_lens[i:i + 1], mel_lens[i:i + 1])
        assert torch.equal(alone[0], real)


def test_mas_refuses_fewer_frames_than_tokens():
    with pytest.raises(ValueError, match="2 frames for 3 tokens"):
        monotonic_alignment_search(torch.zeros(1, 2, 3), torch.tensor([3]), torch.tensor([2]))


def test_durations_path_and_token_average():
    d = torch.tensor([[2, 1, 3], [1, 2, 0]])
    path = durations_to_path(d)
    assert path.shape == (2, 6, 3)
    assert path[0].argmax(1).tolist() == [0, 0, 1, 2, 2, 2]
    assert path[1, :3].argmax(1).tolist() == [0, 1, 1] and path[1, 3:].sum() == 0
    values = torch.arange(6, dtype=torch.float32).repeat(2, 1)
    assert token_average(values, path).tolist() == [[0.5, 2.0, 4.0], [0.0, 1.5, 0.0]]


def test_beta_binomial_prior_matches_scipy():
    logp = beta_binomial_log_prior(torch.tensor([4, 2]), torch.tensor([5, 3]), 4, 5)
    for t in range(5):
        expected = betabinom(3, t + 1, 5 - t).pmf(np.arange(4))
        np.testing.assert_allclose(logp[0, t].exp().numpy(), expected, rtol=1e-4)
    assert torch.equal(logp[1, 3:], torch.zeros(2, 4)) and torch.equal(logp[1, :, 2:], torch.zeros(5, 2))


def test_forward_sum_loss_prefers_diagonal_and_ignores_padding():
    t, n = 8, 4
    diag = torch.full((1, t, n), -6.0)
    for i in range(t):
        diag[0, i, i * n // t] = 0.0
    anti = diag.flip(2)
    lens_t, lens_n = torch.tensor([n]), torch.tensor([t])
    assert forward_sum_loss(diag, lens_t, lens_n) < forward_sum_loss(anti, lens_t, lens_n) - 1.0
    padded = torch.cat([torch.cat([diag, torch.full((1, t, 2), 5.0)], 2), torch.full((1, 3, n + 2), 5.0)], 1)
    assert forward_sum_loss(padded, lens_t, lens_n) == pytest.approx(float(forward_sum_loss(diag, lens_t, lens_n)),
                                                                     abs=1e-4)


def test_binarization_loss_zero_when_soft_equals_hard():
    hard = durations_to_path(torch.tensor([[2, 1]]))
    assert float(binarization_loss(hard, hard, torch.tensor([3]))) == pytest.approx(0.0, abs=1e-6)
    assert float(binarization_loss(hard, torch.full_like(hard, 0.5), torch.tensor([3]))) == pytest.approx(math.log(2))


# -- the model --------------------------------------------------------------------------------
def test_registry_conf_and_interface():
    assert MODELS["fastspeech2"] is FastSpeech2
    assert FastSpeech2.CONTROLS == ("label", "soft_label") and FastSpeech2.r == 1 and FastSpeech2.NEEDS_PROSODY
    conf = load_checked("conf/tts/fastspeech2.yaml", TTS_SCHEMA)
    model = build_model(conf["model"], conf["model_conf"], 60, 5, 5, 80, source="conf/tts/fastspeech2.yaml")
    assert 0.5e6 < sum(p.numel() for p in model.parameters()) < 3e6
    with pytest.raises(ConfigError) as err:
        build_model("fastspeech2", {"dim": 16, "reduction_factor": 3}, 10, 1, 1, 80, source="conf/tts/fs2.yaml")
    assert err.value.key == "model_conf.reduction_factor"
    with pytest.raises(ConfigError, match="divisible"):
        build_model("fastspeech2", {"dim": 15, "heads": 2}, 10, 1, 1, 80, source="conf/tts/fs2.yaml")


def test_forward_shapes_padding_invariance_and_masked_loss():
    model = tiny().eval()
    batch = padded_batch()
    with torch.no_grad():
        out = model.forward_batch(batch)
        assert out["mel_after"].shape == (2, 19, N_MELS)
        assert out["alignments"].shape == (2, 19, 7)
        d = out["durations"]
        assert d.sum(1).tolist() == [19.0, 9.0] and (d[1, :4] >= 1).all() and d[1, 4:].sum() == 0
        assert out["mel_after"][1, 9:].abs().sum() == 0  # padding frames stay zero
        for i in range(2):  # the shorter one alone gives the same outputs as in the padded batch
            alone = model.forward_batch(single(batch, i))
            t, n = int(batch["mel_lens"][i]), int(batch["token_lens"][i])
            torch.testing.assert_close(alone["mel_after"][0], out["mel_after"][i, :t], atol=1e-5, rtol=1e-4)
            torch.testing.assert_close(alone["alignments"][0], out["alignments"][i, :t, :n], atol=1e-5, rtol=1e-4)
            torch.testing.assert_close(alone["pitch_pred"][0], out["pitch_pred"][i, :n], atol=1e-5, rtol=1e-4)
            assert torch.equal(alone["durations"][0], out["durations"][i, :n])
        terms = model.compute_loss(out, batch, step=100)
        assert {"loss", "mel", "dur", "pitch", "energy", "ctc", "bin"} <= set(terms)
        assert all(torch.isfinite(v) for v in terms.values())
        # garbage in the padding changes nothing
        dirty = copy.deepcopy(batch)
        dirty["mels"][1, 9:] = 50.0
        dirty["pitch"][1, 9:] = -30.0
        dirty["energy"][1, 9:] = 30.0
        dirty["tokens"][1, 4:] = 3
        dirty_terms = model.compute_loss(model.forward_batch(dirty), dirty, step=100)
    for k in terms:
        assert float(dirty_terms[k]) == pytest.approx(float(terms[k]), rel=1e-4, abs=1e-5), k


def test_binarization_loss_switches_on_after_start():
    model = tiny(bin_loss_start=10, bin_loss_warmup=4, bin_weight=2.0)
    assert [model.bin_scale(s) for s in (0, 9, 10, 11, 13, 100)] == [0.0, 0.0, 0.5, 1.0, 2.0, 2.0]
    batch = padded_batch()
    out = model.forward_batch(batch)
    early, late = model.compute_loss(out, batch, step=0), model.compute_loss(out, batch, step=100)
    assert float(late["loss"] - early["loss"]) == pytest.approx(2.0 * float(late["bin"]), rel=1e-4)


def test_inference_labels_soft_labels_durations_and_errors():
    model = tiny().eval()
    tokens = torch.tensor([3, 4, 5, 6, 11])
    out = model.inference(tokens, speaker=1, emotion=2)
    assert out["stop_probs"] is None
    mel, align, dur = out["mel"], out["alignment"], out["durations"]
    assert mel.shape == (int(dur.sum()), N_MELS) and align.shape == (mel.shape[0], 5) and (dur >= 1).all()
    assert torch.equal(align.sum(0).long(), dur)
    onehot = model.inference(tokens, speaker=1, emotion_weights=torch.tensor([0.0, 0.0, 1.0]))
    torch.testing.assert_close(onehot["mel"], mel)
    # a soft label gives the interpolated emotion vector
    w = torch.tensor([0.5, 0.0, 0.5])
    vec = model.emotion_vector(emotion_weights=w)
    torch.testing.assert_close(vec[0], 0.5 * (model.emotion_embed.weight[0] + model.emotion_embed.weight[2]))
    mixed = model.inference(tokens, speaker=1, emotion_weights=w)
    assert not torch.equal(mixed["pitch"], out["pitch"])
    slow = model.inference(tokens, speaker=1, emotion=2, duration_scale=3.0)
    assert slow["mel"].shape[0] > 2 * mel.shape[0] - 5
    assert torch.equal(slow["durations"], torch.clamp(torch.round(
        torch.expm1(model.duration_predictor(*_encoded(model, tokens, 1, 2))) * 3.0), min=1).long()[0])
    shifted = model.inference(tokens, speaker=1, emotion=2, pitch_shift=1.0)
    torch.testing.assert_close(shifted["pitch"], out["pitch"] + 1.0)
    capped = model.inference(tokens, speaker=1, emotion=2, duration_scale=50.0, maxlenratio=4.0)
    assert capped["mel"].shape[0] <= 20
    with pytest.raises(ValueError, match="fastspeech2 has no reference encoder"):
        model.inference(tokens, speaker=1, emotion=2, style=torch.zeros(8))
    with pytest.raises(ValueError, match="3 emotions"):
        model.inference(tokens, speaker=1, emotion_weights=torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="emotion"):
        model.inference(tokens, speaker=1)
    assert model.controls == ("label", "soft_label") and model.uses_labels() and not model.uses_style()


def _encoded(model, tokens, speaker, emotion):
    cond = model._conditions(1, "cpu", torch.tensor([speaker]), torch.tensor([emotion]))
    _, h, mask = model._encode(tokens.view(1, -1), torch.tensor([tokens.numel()]), cond)
    return h, mask


def test_trains_on_the_tiny_corpus_and_synthesizes(tmp_path):
    from pytorch_backend.tts.training import train_tts

    paths = add_prosody(make_corpus(tmp_path))
    conf = tiny_fs2_conf(max_steps=100, eval_interval=50, save_interval=50, log_interval=10)
    summary = train_tts(conf, paths["data_root"], paths["tokens"], paths["dump"], tmp_path / "exp",
                        threads=1, source="tiny")
    hist = summary["last_train"]
    record = json.loads((tmp_path / "exp" / "train.json").read_text())
    assert record["steps"] == 100 and (tmp_path / "exp" / "train.done").is_file()
    assert (tmp_path / "exp" / "attention" / "step_50.png").is_file()
    first = record and _first_train_row(tmp_path / "exp")
    assert hist["loss"] < 0.7 * first["loss"] and hist["mel"] < first["mel"] and hist["ctc"] < first["ctc"]
    # the learned durations follow the emotion's speaking rate (sad 4, happy 2 frames/token)
    from pytorch_backend.tts.loading import load_trained

    model, meta = load_trained(tmp_path / "exp")
    tokens = torch.tensor([2, 3, 4, 5, 6, 7, len(meta["tokens"]) - 1])
    lens = {e: model.inference(tokens, speaker=0, emotion=i)["mel"].shape[0] for i, e in enumerate(EMOTIONS)}
    assert lens["sad"] > lens["happy"]


def _first_train_row(exp_dir):
    state = torch.load(sorted((exp_dir / "checkpoints").glob("step_*.pt"))[-1], weights_only=False)
    return state["history"]["train"][0]


def test_fft_attention_matches_multihead_attention_on_real_positions():
    """The fused attention of FFTBlock computes what nn.MultiheadAttention (whose weights it
    keeps, so checkpoints load unchanged) computes with a key padding mask."""
    from pytorch_backend.tts.layers.transformer import FFTBlock

    torch.manual_seed(0)
    block = FFTBlock(32, 4, 64, (3, 1), dropout=0.0).eval()
    mask = torch.ones(3, 20, dtype=torch.bool)
    mask[1, 12:] = False
    mask[2, 3:] = False
    x = torch.randn(3, 20, 32) * mask.unsqueeze(-1)
    ours = block.self_attention(x, mask)
    ref, _ = block.attn(x, x, x, key_padding_mask=~mask, need_weights=False)
    torch.testing.assert_close(ours[mask], ref[mask], atol=1e-5, rtol=1e-5)
    assert set(block.state_dict()) >= {"attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight"}


# -- frame-level variance (variance_level: frame, predict_voicing) ------------------------------
def frame_batch(seed=0):
    batch = padded_batch(seed)
    g = torch.Generator().manual_seed(seed + 1)
    batch["voiced"] = (torch.rand(batch["pitch"].shape, generator=g) > 0.3) & (
        torch.arange(19).view(1, -1) < batch["mel_lens"].view(-1, 1))
    return batch


def test_frame_level_variance_shapes_padding_invariance_and_voicing_loss():
    model = tiny(variance_level="frame", predict_voicing=True).eval()
    batch = frame_batch()
    with torch.no_grad():
        out = model.forward_batch(batch)
        assert out["pitch_pred"].shape == out["energy_pred"].shape == out["voiced_logit"].shape == (2, 19)
        torch.testing.assert_close(out["pitch_target"], batch["pitch"])  # frame targets: the frame values
        assert out["mel_after"][1, 9:].abs().sum() == 0 and out["pitch_pred"][1, 9:].abs().sum() == 0
        for i in range(2):
            one = single(batch, i)
            one["voiced"] = one["voiced"][:, :int(batch["mel_lens"][i])]
            alone = model.forward_batch(one)
            t = int(batch["mel_lens"][i])
            torch.testing.assert_close(alone["mel_after"][0], out["mel_after"][i, :t], atol=1e-5, rtol=1e-4)
            torch.testing.assert_close(alone["voiced_logit"][0], out["voiced_logit"][i, :t], atol=1e-5, rtol=1e-4)
        terms = model.compute_loss(out, batch, step=100)
        # the voicing term is the masked BCE of the logits, and it is part of the total
        expected = F.binary_cross_entropy_with_logits(
            torch.cat([out["voiced_logit"][0], out["voiced_logit"][1, :9]]),
            torch.cat([batch["voiced"][0], batch["voiced"][1, :9]]).float())
        assert float(terms["voicing"]) == pytest.approx(float(expected), rel=1e-5)
        heavier = tiny(variance_level="frame", predict_voicing=True, voicing_weight=3.0).eval()
        heavier.load_state_dict(model.state_dict())
        diff = heavier.compute_loss(heavier.forward_batch(batch), batch, step=100)["loss"] - terms["loss"]
        assert float(diff) == pytest.approx(2.0 * float(terms["voicing"]), rel=1e-4)
        dirty = copy.deepcopy(batch)  # garbage in the padding changes nothing
        dirty["pitch"][1, 9:], dirty["energy"][1, 9:], dirty["voiced"][1, 9:] = -30.0, 30.0, True
        dirty_terms = model.compute_loss(model.forward_batch(dirty), dirty, step=100)
        # the decoder is told the voicing: flipping it changes the mel
        flipped = copy.deepcopy(batch)
        flipped["voiced"][0, :19] = ~flipped["voiced"][0, :19]
        assert not torch.allclose(model.forward_batch(flipped)["mel_after"][0], out["mel_after"][0])
    for k in terms:
        assert float(dirty_terms[k]) == pytest.approx(float(terms[k]), rel=1e-4, abs=1e-5), k


def test_frame_level_variance_is_optional_in_voicing_and_refuses_bad_settings():
    model = tiny(variance_level="frame").eval()  # frame pitch/energy without a voicing output
    batch = padded_batch()
    with torch.no_grad():
        out = model.forward_batch(batch)
    assert "voiced_logit" not in out and out["pitch_pred"].shape == (2, 19)
    assert "voicing" not in model.compute_loss(out, batch)
    with pytest.raises(ConfigError, match="variance_level must be one of"):
        tiny(variance_level="phrase")
    with pytest.raises(ConfigError, match="predict_voicing needs variance_level: frame"):
        tiny(predict_voicing=True)
    with pytest.raises(ValueError, match="no 'voiced'"):
        tiny(variance_level="frame", predict_voicing=True).forward_batch(padded_batch())


def test_frame_level_inference_controls_and_batch_equal_one_at_a_time():
    model = tiny(variance_level="frame", predict_voicing=True).eval()
    tokens = [torch.tensor([3, 4, 5, 6, 11]), torch.tensor([7, 8, 2])]
    one = model.inference(tokens[0], speaker=1, emotion=2)
    t = one["mel"].shape[0]
    assert one["pitch"].shape == one["energy"].shape == one["voiced"].shape == (t,)
    assert set(one["voiced"].unique().tolist()) <= {0.0, 1.0}
    shifted = model.inference(tokens[0], speaker=1, emotion=2, pitch_shift=1.0)
    torch.testing.assert_close(shifted["pitch"], one["pitch"] + 1.0)
    assert not torch.allclose(shifted["mel"], one["mel"])  # the decoder follows the frame pitch
    louder = model.inference(tokens[0], speaker=1, emotion=2, energy_scale=2.0, energy_shift=0.5)
    torch.testing.assert_close(louder["energy"], 2.0 * one["energy"] + 0.5)
    weights = torch.eye(NUM_EMO)[[2, 0]]
    batch = model.inference_batch(tokens, speakers=[1, 0], emotion_weights=weights, pitch_shift=[0.0, 0.5])
    for i, res in enumerate(batch):
        alone = model.inference(tokens[i], speaker=[1, 0][i], emotion=[2, 0][i], pitch_shift=[0.0, 0.5][i])
        assert res["pitch"].shape == res["voiced"].shape == (res["mel"].shape[0],)
        for key in ("mel", "pitch", "energy", "voiced"):
            torch.testing.assert_close(res[key], alone[key], atol=1e-5, rtol=1e-4)


def test_frame_level_variance_learns_the_voicing_of_the_tiny_corpus(tmp_path):
    """The tiny corpus's 'h' tokens are unvoiced (F0 0) and every other token is voiced: after a
    short training the frame voicing output says so at inference."""
    from pytorch_backend.tts.loading import load_trained
    from pytorch_backend.tts.training import train_tts

    paths = add_prosody(make_corpus(tmp_path))
    conf = tiny_fs2_conf(max_steps=100, eval_interval=50, save_interval=50, log_interval=10)
    conf["tts"]["model_conf"].update(variance_level="frame", predict_voicing=True)
    summary = train_tts(conf, paths["data_root"], paths["tokens"], paths["dump"], tmp_path / "exp",
                        threads=1, source="tiny")
    first = _first_train_row(tmp_path / "exp")
    assert summary["last_train"]["voicing"] < 0.5 * first["voicing"]
    model, meta = load_trained(tmp_path / "exp")
    h, eos = meta["tokens"].index("h"), len(meta["tokens"]) - 1

    def voiced_share(ids):
        return float(model.inference(torch.tensor(ids), speaker=0, emotion=2)["voiced"].mean())

    assert voiced_share([2, 3, 4, 5, 6, 7, eos]) >= 0.9
    assert voiced_share([h] * 6) <= 0.1
    assert 0.5 <= voiced_share([2, h, 3, 4, h, 5, eos]) <= 0.95

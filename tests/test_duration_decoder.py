"""The attention-free Tacotron 2 family (``alignment: durations``): step contexts laid out by
durations, the decoder's teacher-forced pass against its free-running one, the losses, training,
inference lengths and controls, batched decoding, bad settings, and the meta device."""

import copy

import pytest
import torch

from pytorch_backend.errors import ConfigError
from pytorch_backend.tts import build_model
from pytorch_backend.tts.duration_decoder import group_contexts
from pytorch_backend.tts.layers.variance import durations_to_path
from tts_fixtures import N_MELS, TINY_MODEL_CONF

torch.set_num_threads(1)

NUM_TOKENS, NUM_SPK, NUM_EMO = 12, 2, 3
FAMILY = ["tacotron2", "gst", "vae", "emo_dnn", "emo_cvae"]
TINY_DURATIONS = {"align_channels": 8, "predictor_channels": 8, "bin_loss_start": 0, "bin_loss_warmup": 0}


def tiny(name="gst", **over):
    conf = dict(copy.deepcopy(TINY_MODEL_CONF[name]), alignment="durations",
                duration_model=dict(TINY_DURATIONS))
    conf.update(over)
    torch.manual_seed(0)
    return build_model(name, conf, NUM_TOKENS, NUM_SPK, NUM_EMO, N_MELS, source="conf/tts/x.yaml")


def padded_batch(r=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    token_lens, mel_lens = torch.tensor([7, 4]), torch.tensor([17, 9])
    tokens = torch.zeros(2, 7, dtype=torch.long)
    for i, n in enumerate(token_lens.tolist()):
        tokens[i, :n] = torch.randint(1, NUM_TOKENS, (n,), generator=g)
    mels = torch.zeros(2, -(-17 // r) * r, N_MELS)
    for i, n in enumerate(mel_lens.tolist()):
        mels[i, :n] = torch.randn(n, N_MELS, generator=g)
    return {"tokens": tokens, "token_lens": token_lens, "mels": mels, "mel_lens": mel_lens,
            "speakers": torch.tensor([0, 1]), "emotions": torch.tensor([2, 0])}


def condition(model, i=0):
    """Keyword arguments of inference for utterance ``i``: a style for style models, a label else."""
    if model.uses_style():
        torch.manual_seed(10 + i)
        return {"style": torch.randn(model.style_dim)}
    return {"emotion": i % NUM_EMO}


def test_group_contexts_average_states_and_give_positions_inside_tokens():
    memory = torch.tensor([[[1.0, 0.0], [0.0, 2.0]]])  # two tokens, D = 2
    path = durations_to_path(torch.tensor([[3, 2]]))  # frames 0-2 on token 0, 3-4 on token 1
    ctx = group_contexts(memory, path, r=2)  # groups (0, 1) (2, 3) (4, pad)
    assert ctx.shape == (1, 3, 2 + 2)
    torch.testing.assert_close(ctx[0, :, :2], torch.tensor([[1.0, 0.0], [0.5, 1.0], [0.0, 1.0]]))
    # (frame - token start + 0.5) / duration; 0 for the padded frame
    torch.testing.assert_close(ctx[0, :, 2:], torch.tensor([[0.5 / 3, 1.5 / 3], [2.5 / 3, 0.25], [0.75, 0.0]]))
    assert group_contexts(memory, path, r=2, frames=8).shape == (1, 4, 4)
    with pytest.raises(ValueError, match="shorter than the alignment"):
        group_contexts(memory, path, r=2, frames=4)


def test_teacher_forced_decoder_reproduces_free_running_decoding():
    """Fed its own predictions, the fused teacher-forced pass gives the step-by-step output."""
    model = tiny("tacotron2", prenet_dropout=0.0).eval()
    tokens = torch.tensor([[3, 5, 7, 2, 9]])
    memory = model.encode(tokens, torch.tensor([5]), torch.tensor([1]), torch.tensor([2]))
    contexts = group_contexts(memory, durations_to_path(torch.tensor([[2, 3, 1, 4, 2]])), model.r)
    free = model.decoder.inference(contexts)
    assert free.shape == (1, 12, N_MELS)
    with torch.no_grad():
        forced = model.decoder(contexts, free)
    torch.testing.assert_close(forced, free, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="decoder contexts"):
        model.decoder(contexts[:, :5], free)


@pytest.mark.parametrize("name", FAMILY)
def test_forward_has_duration_losses_and_ignores_padding(name):
    model = tiny(name).train()
    b = padded_batch()
    torch.manual_seed(1)
    out = model.forward_batch(b)
    assert out["mel_before"].shape == b["mels"].shape == out["mel_after"].shape
    assert "stop_logits" not in out
    assert out["alignments"].shape == out["alignments_hard"].shape == (2, b["mels"].size(1), 7)
    assert out["durations"].sum(1).tolist() == b["mel_lens"].tolist()  # the hard path covers every frame
    assert out["durations"][1, 4:].sum() == 0 and bool((out["durations"][1, :4] >= 1).all())
    terms = model.compute_loss(out, b, step=5)
    assert {"mel", "dur", "ctc", "bin"} <= set(terms) and not {"stop", "attn"} & set(terms)
    garbage = dict(b, mels=b["mels"].clone())
    garbage["mels"][1, 9:] = 100.0
    garbage["mels"][0, 17:] = -50.0
    torch.manual_seed(1)
    terms2 = model.compute_loss(model.forward_batch(garbage), garbage, step=5)
    for key in ("loss", "mel", "dur", "ctc", "bin"):
        torch.testing.assert_close(terms[key], terms2[key], atol=1e-5, rtol=1e-5, msg=key)


@pytest.mark.parametrize("name", FAMILY)
def test_model_trains_on_tiny_batch(name):
    model = tiny(name, sampled_feedback=0.5).train()
    b = padded_batch()
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for step in range(25):
        model.set_train_step(step)  # scheduled sampling is on from step 0
        terms = model.compute_loss(model.forward_batch(b), b, step=step)
        opt.zero_grad()
        terms["loss"].backward()
        opt.step()
        losses.append(float(terms["mel"].detach()))
    assert losses[-1] < 0.7 * losses[0], losses


def test_inference_length_is_the_durations_and_follows_the_controls():
    model = tiny("gst").eval()
    with torch.no_grad():  # a predictor that says 3 frames for every token
        model.durations.predictor.out.weight.zero_()
        model.durations.predictor.out.bias.fill_(float(torch.log1p(torch.tensor(3.0))))
    tokens = torch.tensor([1, 4, 6, 8, 3])
    cond = condition(model)
    torch.manual_seed(0)
    res = model.inference(tokens, speaker=0, **cond)
    assert res["stop_probs"] is None and res["durations"].tolist() == [3] * 5
    assert res["mel"].shape == (15, N_MELS) and res["alignment"].shape == (15, 5)
    torch.manual_seed(0)
    assert model.inference(tokens, speaker=0, duration_scale=3.0, **cond)["mel"].shape[0] == 45
    # 50 x 3 frames, clamped to max_frames_per_token (60), then capped at 2 frames per token
    torch.manual_seed(0)
    capped = model.inference(tokens, speaker=0, duration_scale=50.0, maxlenratio=2.0, **cond)
    assert capped["durations"].tolist() == [2] * 5 and capped["mel"].shape[0] == 10
    with pytest.raises(ValueError, match="duration_scale"):
        model.inference(tokens, speaker=0, duration_scale=0.0, **cond)
    with pytest.raises(ValueError, match="attention_window.*alignment: durations"):
        model.inference(tokens, speaker=0, attention_window=[1, 3], **cond)
    with pytest.raises(ValueError, match="attention_window"):
        model.inference_batch([tokens], [0], styles=cond["style"].view(1, -1), attention_window=[1, 3])


@pytest.mark.parametrize("name", FAMILY)
def test_batch_equals_one_at_a_time(name):
    model = tiny(name).eval()
    g = torch.Generator().manual_seed(3)
    tokens = [torch.randint(1, NUM_TOKENS, (n,), generator=g) for n in (7, 3, 9)]
    weights = torch.softmax(torch.randn(3, NUM_EMO, generator=g), -1) if model.uses_labels() else None
    styles = torch.randn(3, model.style_dim, generator=g) if model.uses_style() else None
    seeds = [50, 51, 52]
    batch = model.inference_batch(tokens, [0, 1, 0], weights, styles, maxlenratio=5.0, seeds=seeds)
    for i, res in enumerate(batch):
        torch.manual_seed(seeds[i])
        one = model.inference(tokens[i], speaker=[0, 1, 0][i], emotion_weights=None if weights is None else weights[i],
                              style=None if styles is None else styles[i], maxlenratio=5.0)
        assert res["mel"].shape == one["mel"].shape and res["alignment"].shape == one["alignment"].shape
        torch.testing.assert_close(res["mel"], one["mel"], atol=1e-5, rtol=1e-4)
        assert torch.equal(res["durations"], one["durations"])


def test_unknown_alignment_and_misplaced_duration_model_are_config_errors():
    with pytest.raises(ConfigError, match=r"conf/tts/x\.yaml.*alignment"):
        tiny("gst", alignment="monotonic")
    conf = dict(copy.deepcopy(TINY_MODEL_CONF["gst"]), alignment="attention", duration_model={"align_channels": 8})
    with pytest.raises(ConfigError, match=r"conf/tts/x\.yaml.*alignment: durations"):
        build_model("gst", conf, NUM_TOKENS, NUM_SPK, NUM_EMO, N_MELS, source="conf/tts/x.yaml")
    with pytest.raises(ConfigError, match=r"conf/tts/x\.yaml"):
        tiny("gst", duration_model={"no_such_key": 1})


def test_loss_terms_and_sampled_feedback_live_on_the_models_device(monkeypatch):
    """The meta device stands in for CUDA: every loss term and the scheduled-sampling input are
    on the model's device (torch has no meta kernel for CTC: a stand-in on its input's device)."""
    from pytorch_backend.tts import learned_durations

    monkeypatch.setattr(learned_durations, "forward_sum_loss", lambda scores, *_: scores.float().sum() * 0)
    meta = torch.device("meta")
    model = tiny("gst", sampled_feedback=0.5).train()
    b = padded_batch()
    out = model.forward_batch(b)
    model.to(meta)
    moved = {k: v.to(meta) if torch.is_tensor(v) else v for k, v in out.items()}
    terms = model.compute_loss(moved, {k: v.to(meta) for k, v in b.items()}, step=7)
    assert {k for k, v in terms.items() if v.device != meta} == set()
    contexts = torch.zeros(2, b["mels"].size(1) // model.r, model.decoder.context_dim, device=meta)
    model.set_train_step(1000)
    fed = model._sampled_feedback(contexts, None, b["mels"].to(meta), None)
    assert fed is not None and fed.device == meta and fed.shape == (2, b["mels"].size(1) // model.r, N_MELS)

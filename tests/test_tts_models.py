"""TTS models (the Tacotron 2 family with the attention decoder; ``alignment: durations`` is
tests/test_duration_decoder.py): registry errors, padding invariance, losses, training, inference."""

import copy

import pytest
import torch

from pytorch_backend.errors import ConfigError
from pytorch_backend.tts import MODELS, build_model
from pytorch_backend.tts.losses import guided_attention_loss, masked_mel_loss
from tts_fixtures import N_MELS, TINY_MODEL_CONF

torch.set_num_threads(1)

NUM_TOKENS, NUM_SPK, NUM_EMO = 12, 2, 3


ATTENTION = {"alignment": "attention", "duration_model": None}


def tiny(name="gst", **over):
    conf = copy.deepcopy(TINY_MODEL_CONF[name])
    conf.update(ATTENTION)
    conf.update(over)
    torch.manual_seed(0)
    return build_model(name, conf, NUM_TOKENS, NUM_SPK, NUM_EMO, N_MELS, source="conf/tts/x.yaml")


def padded_batch(r=2, seed=0):
    """Two items of different lengths, padded; mels consistent with the lengths."""
    g = torch.Generator().manual_seed(seed)
    token_lens = torch.tensor([7, 4])
    tokens = torch.zeros(2, 7, dtype=torch.long)
    for i, n in enumerate(token_lens.tolist()):
        tokens[i, :n] = torch.randint(1, NUM_TOKENS, (n,), generator=g)
    mel_lens = torch.tensor([17, 9])
    t = -(-17 // r) * r
    mels = torch.zeros(2, t, N_MELS)
    for i, n in enumerate(mel_lens.tolist()):
        mels[i, :n] = torch.randn(n, N_MELS, generator=g)
    return {"tokens": tokens, "token_lens": token_lens, "mels": mels, "mel_lens": mel_lens,
            "speakers": torch.tensor([0, 1]), "emotions": torch.tensor([2, 0])}


def test_registry_names_the_backends():
    assert {"tacotron2", "gst", "vae", "emo_dnn", "emo_cvae"} <= set(MODELS)


def test_unknown_model_name_is_config_error_naming_file_and_key():
    with pytest.raises(ConfigError) as err:
        build_model("fastspeech9", {}, 10, 1, 1, 80, source="conf/tts/fs.yaml")
    msg = str(err.value)
    assert "conf/tts/fs.yaml" in msg and "'model'" in msg and "fastspeech9" in msg
    assert "gst" in msg and "tacotron2" in msg


def test_unknown_model_conf_key_is_config_error_naming_file_and_key():
    with pytest.raises(ConfigError) as err:
        build_model("gst", {"embed_dim": 16, "warp_factor": 9}, 10, 1, 1, 80, source="conf/tts/gst.yaml")
    assert err.value.key == "model_conf.warp_factor"
    assert "conf/tts/gst.yaml" in str(err.value)
    # a GST-only key is unknown to plain Tacotron 2
    with pytest.raises(ConfigError) as err:
        build_model("tacotron2", {"gst_tokens": 4}, 10, 1, 1, 80, source="conf/tts/tacotron2.yaml")
    assert err.value.key == "model_conf.gst_tokens"


def test_invalid_model_conf_value_is_config_error():
    with pytest.raises(ConfigError) as err:
        build_model("gst", {"style_dim": 10, "gst_heads": 4}, 10, 1, 1, 80, source="conf/tts/gst.yaml")
    assert "divisible" in str(err.value) and "conf/tts/gst.yaml" in str(err.value)
    with pytest.raises(ConfigError):
        build_model("tacotron2", {"combine": "multiply"}, 10, 1, 1, 80, source="c.yaml")


def test_encoder_output_of_padded_item_equals_unpadded():
    model = tiny("tacotron2").eval()
    b = padded_batch()
    with torch.no_grad():
        both = model.encoder(b["tokens"], b["token_lens"])
        alone = model.encoder(b["tokens"][1:, :4], b["token_lens"][1:])
    assert torch.allclose(both[1, :4], alone[0], atol=1e-6)
    assert both.shape == (2, 7, model.encoder.out_dim)


def test_reference_encoder_ignores_padding():
    model = tiny("gst").eval()
    b = padded_batch()
    with torch.no_grad():
        both = model.style_embedding(b["mels"], b["mel_lens"])
        alone = model.style_embedding(b["mels"][1:, :9], b["mel_lens"][1:])
    assert both.shape == (2, TINY_MODEL_CONF["gst"]["style_dim"])
    assert torch.allclose(both[1], alone[0], atol=1e-6)


TACOTRON_FAMILY = ["tacotron2", "gst", "vae", "emo_dnn", "emo_cvae"]


@pytest.mark.parametrize("name", TACOTRON_FAMILY)
def test_forward_shapes_and_loss_ignores_padding(name):
    model = tiny(name).train()
    b = padded_batch()
    torch.manual_seed(1)
    out = model(b["tokens"], b["token_lens"], b["mels"], b["mel_lens"], b["speakers"], b["emotions"])
    assert out["mel_before"].shape == b["mels"].shape == out["mel_after"].shape
    assert out["stop_logits"].shape == (2, b["mels"].shape[1] // 2)
    assert out["alignments"].shape == (2, b["mels"].shape[1] // 2, 7)
    # attention never goes to padded tokens
    assert float(out["alignments"][1, :, 4:].detach().abs().max()) == 0.0
    loss = model.compute_loss(out, b)
    # garbage in the padded frames changes nothing
    garbage = dict(b, mels=b["mels"].clone())
    garbage["mels"][1, 9:] = 100.0
    garbage["mels"][0, 17:] = -50.0
    torch.manual_seed(1)
    out2 = model(garbage["tokens"], garbage["token_lens"], garbage["mels"], garbage["mel_lens"],
                 garbage["speakers"], garbage["emotions"])
    loss2 = model.compute_loss(out2, garbage)
    for key in ("loss", "mel", "stop", "attn"):
        assert torch.allclose(loss[key], loss2[key], atol=1e-5), key


def test_masked_mel_loss_counts_only_real_frames():
    pred = torch.zeros(2, 4, 3)
    target = torch.ones(2, 4, 3)
    target[0, 2:] = 7.0  # padding of item 0 (length 2): ignored
    lens = torch.tensor([2, 4])
    assert masked_mel_loss(pred, target, lens, "l1").item() == pytest.approx(1.0)
    assert masked_mel_loss(pred, target, lens, "l1+l2").item() == pytest.approx(2.0)
    with pytest.raises(ValueError):
        masked_mel_loss(pred, target, lens, "l3")


def test_guided_attention_loss_small_on_diagonal_large_on_antidiagonal():
    t, n = 40, 20
    diag = torch.zeros(1, t, n)
    anti = torch.zeros(1, t, n)
    for i in range(t):
        j = min(n - 1, int(i * n / t))
        diag[0, i, j] = 1.0
        anti[0, i, n - 1 - j] = 1.0
    lens_t, lens_n = torch.tensor([t]), torch.tensor([n])
    low = guided_attention_loss(diag, lens_t, lens_n, sigma=0.2).item()
    high = guided_attention_loss(anti, lens_t, lens_n, sigma=0.2).item()
    assert low < 0.05
    assert high > 0.6  # it crosses the diagonal in the middle
    uniform = torch.full((1, t, n), 1.0 / n)
    assert 0.3 < guided_attention_loss(uniform, lens_t, lens_n, sigma=0.2).item() < 0.8
    # mass in padded cells does not count: the anti-diagonal padded into a bigger batch,
    # with garbage in the padding, gives the same loss
    padded = torch.full((2, t + 5, n + 3), 0.5)
    padded[:, :t, :n] = anti[0]
    both = guided_attention_loss(padded, torch.tensor([t, t]), torch.tensor([n, n]), sigma=0.2).item()
    assert both == pytest.approx(high, rel=1e-5)


def test_guided_attention_weight_decays_with_halflife():
    model = tiny("tacotron2", guided_attn_weight=4.0, guided_attn_halflife=100)
    assert model.guided_attn_scale(0) == pytest.approx(4.0)
    assert model.guided_attn_scale(100) == pytest.approx(2.0)
    assert tiny("tacotron2", guided_attn_weight=4.0).guided_attn_scale(10_000) == 4.0


@pytest.mark.parametrize("feedback", [True, False])
def test_parallel_teacher_forcing_matches_step_by_step_decoding(feedback):
    """The decoder LSTM runs over the whole sequence in training and step by step at
    inference: fed its own predictions, training mode must reproduce inference exactly."""
    model = tiny("tacotron2", prenet_dropout=0.0, context_feedback=feedback).eval()
    tokens = torch.tensor([[3, 5, 7, 2, 9]])
    memory = model.encode(tokens, torch.tensor([5]), torch.tensor([1]), torch.tensor([2]))
    mel, probs, align = model.decoder.inference(memory, threshold=2.0, max_steps=6)
    assert mel.shape == (12, N_MELS) and probs.shape == (6,) and align.shape == (6, 5)
    mask = torch.ones(1, 5, dtype=torch.bool)
    with torch.no_grad():
        tf_mel, tf_stop, tf_align = model.decoder(memory, mask, mel.unsqueeze(0))
    assert torch.allclose(tf_mel[0], mel, atol=1e-5)
    assert torch.allclose(torch.sigmoid(tf_stop[0]), probs, atol=1e-5)
    assert torch.allclose(tf_align[0], align, atol=1e-5)


@pytest.mark.parametrize("name,combine", [("tacotron2", "concat"), ("tacotron2", "add"),
                                          ("gst", "concat"), ("gst", "add")])
def test_combine_modes_train_and_infer(name, combine):
    over = {"combine": combine}
    if name == "gst":
        over["style_combine"] = "add" if combine == "concat" else "concat"
    model = tiny(name, **over)
    b = padded_batch()
    out = model(b["tokens"], b["token_lens"], b["mels"], b["mel_lens"], b["speakers"], b["emotions"])
    model.compute_loss(out, b)["loss"].backward()
    model.eval()
    style = model.style_embedding(b["mels"][:1], b["mel_lens"][:1])[0] if name == "gst" else None
    res = model.inference(b["tokens"][0], speaker=0, emotion=1, style=style, maxlenratio=2.0)
    assert res["mel"].shape[1] == N_MELS and res["mel"].shape[0] % 2 == 0


def test_inference_respects_max_length_and_threshold():
    model = tiny("tacotron2").eval()
    tokens = torch.tensor([1, 4, 6, 8])
    torch.manual_seed(0)
    never = model.inference(tokens, speaker=0, emotion=0, threshold=1.0, maxlenratio=3.0)
    assert never["mel"].shape[0] == 6 * 2  # ceil(3 * 4 / r) steps of r = 2 frames
    torch.manual_seed(0)
    first = model.inference(tokens, speaker=0, emotion=0, threshold=0.0, maxlenratio=3.0)
    assert first["mel"].shape[0] == 2
    torch.manual_seed(0)
    floor = model.inference(tokens, speaker=0, emotion=0, threshold=0.0, maxlenratio=3.0, minlenratio=2.0)
    assert floor["mel"].shape[0] == 4 * 2


def test_gst_needs_a_style_or_reference():
    model = tiny("gst").eval()
    with pytest.raises(ValueError, match="style"):
        model.inference(torch.tensor([1, 2, 3]), speaker=0)


@pytest.mark.parametrize("name", TACOTRON_FAMILY)
def test_model_trains_on_tiny_batch(name):
    from tts_fixtures import EMOTIONS, FRAMES_PER_TOKEN, PHONES, SPEAKERS, fake_mel

    import numpy as np

    rng = np.random.default_rng(0)
    items = []
    for i in range(6):
        toks = list(rng.choice(PHONES, size=5))
        spk, emo = SPEAKERS[i % 2], EMOTIONS[i % 3]
        mel = torch.from_numpy(fake_mel(toks, spk, emo, rng)) + 4.0
        items.append({"utt": f"u{i}", "tokens": torch.tensor([PHONES.index(t) + 2 for t in toks] + [11]),
                      "speaker": i % 2, "emotion": i % 3, "mel": mel})
    assert max(FRAMES_PER_TOKEN.values()) * 5 <= 20
    from pytorch_backend.data.tts_dataset import collate

    batch = collate(items, 2)
    model = tiny(name)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for _ in range(20):
        out = model(batch["tokens"], batch["token_lens"], batch["mels"], batch["mel_lens"],
                    batch["speakers"], batch["emotions"])
        loss = model.compute_loss(out, batch)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses


def test_gst_style_emotion_classifier_adds_a_loss_term():
    plain = tiny("gst", style_emotion_weight=0.0)
    b = padded_batch()
    out = plain(b["tokens"], b["token_lens"], b["mels"], b["mel_lens"], b["speakers"], b["emotions"])
    assert "emo" not in plain.compute_loss(out, b) and out["style"].shape == (2, 8)
    model = tiny("gst", style_emotion_weight=2.0)
    torch.manual_seed(0)
    out = model(b["tokens"], b["token_lens"], b["mels"], b["mel_lens"], b["speakers"], b["emotions"])
    terms = model.compute_loss(out, b)
    assert terms["emo"].item() > 0
    expected = terms["mel"] + terms["stop"] + model.guided_attn_scale(0) * terms["attn"] + 2.0 * terms["emo"]
    assert torch.allclose(terms["loss"], expected)
    terms["loss"].backward()
    assert model.ref_encoder.convs[0].weight.grad.abs().sum() > 0


def test_feedback_sampling_schedule_starts_ramps_and_holds():
    model = tiny("tacotron2", sampled_feedback=0.5, sampled_feedback_start=10, sampled_feedback_ramp=4)
    probs = [model.feedback_sampling_prob(s) for s in (0, 9, 10, 11, 12, 13, 500)]
    assert probs == pytest.approx([0.0, 0.0, 0.125, 0.25, 0.375, 0.5, 0.5])
    assert tiny("tacotron2", sampled_feedback=0.3).feedback_sampling_prob(0) == pytest.approx(0.3)
    assert tiny("tacotron2").feedback_sampling_prob(10_000) == 0.0  # off by default


@pytest.mark.parametrize("over", [{"sampled_feedback": 1.5}, {"sampled_feedback": -0.1},
                                  {"sampled_feedback_start": -1}, {"sampled_feedback_ramp": -5}])
def test_bad_feedback_sampling_settings_are_refused(over):
    with pytest.raises(ConfigError, match=r"conf/tts/x\.yaml.*model_conf.*sampled_feedback"):
        tiny("tacotron2", **over)


def _memory_and_mask(model, batch):
    memory = model.encode(batch["tokens"], batch["token_lens"], batch["speakers"], batch["emotions"],
                          batch["mels"], batch["mel_lens"])
    mask = batch["tokens"] != 0
    return memory, mask


def test_sampled_feedback_reads_the_models_own_previous_frames():
    """p = 1: every step reads the first pass's prediction of the previous group's last frame;
    p = 0 or eval mode: plain teacher forcing (None); in between, each step reads one or the other."""
    batch = padded_batch(r=2)
    model = tiny("tacotron2", prenet_dropout=0.0, rnn_dropout=0.0, sampled_feedback=1.0).train()
    memory, mask = _memory_and_mask(model, batch)
    with torch.no_grad():
        predicted, _, _ = model.decoder(memory, mask, batch["mels"])
    own = model.decoder.teacher_inputs(predicted)
    real = model.decoder.teacher_inputs(batch["mels"])
    fed = model._sampled_feedback(memory, mask, batch["mels"], None)
    assert fed.shape == real.shape == (2, batch["mels"].size(1) // 2, N_MELS)
    assert not fed.requires_grad
    assert torch.allclose(fed, own, atol=1e-6) and not torch.allclose(fed, real)
    assert torch.equal(fed[:, 0], torch.zeros_like(fed[:, 0]))  # the first step reads the zero frame
    model.sampled_feedback = 0.0
    assert model._sampled_feedback(memory, mask, batch["mels"], None) is None
    model.sampled_feedback = 1.0
    model.eval()
    assert model._sampled_feedback(memory, mask, batch["mels"], None) is None
    model.train()
    model.sampled_feedback = 0.5
    torch.manual_seed(3)
    mixed = model._sampled_feedback(memory, mask, batch["mels"], None)
    from_own = torch.isclose(mixed, own, atol=1e-6).all(-1)[:, 1:]
    from_real = torch.isclose(mixed, real, atol=1e-6).all(-1)[:, 1:]
    assert bool((from_own | from_real).all()) and bool(from_own.any()) and bool(from_real.any())


def test_trainer_step_reaches_the_feedback_schedule():
    """loss_terms tells the model the step before its forward, so the schedule follows training;
    the sampled pass trains (finite loss, gradients) like the teacher-forced one."""
    from pytorch_backend.train.distributed import loss_terms

    model = tiny("gst", sampled_feedback=1.0, sampled_feedback_start=5).train()
    batch = padded_batch(r=model.r)
    torch.manual_seed(0)
    with torch.no_grad():
        before = loss_terms(model, batch, step=2)
    assert model.train_step == 2
    torch.manual_seed(0)
    after = loss_terms(model, batch, step=5)
    assert model.train_step == 5
    assert before["mel"].item() != pytest.approx(after["mel"].item())  # step 5 reads its own frames
    after["loss"].backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_decoder_refuses_feedback_of_the_wrong_shape():
    model = tiny("tacotron2")
    batch = padded_batch(r=model.r)
    memory, mask = _memory_and_mask(model, batch)
    with pytest.raises(ValueError, match="feedback must have shape"):
        model.decoder(memory, mask, batch["mels"], feedback=torch.zeros(2, 3, N_MELS))

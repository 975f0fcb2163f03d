"""Batched inference (``inference_batch``) of every backend: each utterance of a padded batch,
stopping on its own, matches decoding it alone (same frames within float rounding, given the
same per-utterance seed); and the device handling of the batched path (meta device)."""

import copy
import itertools
import math

import pytest
import torch

from prosody_fixtures import TINY_FS2
from pytorch_backend.tts import build_model
from tts_fixtures import N_MELS, TINY_MODEL_CONF

torch.set_num_threads(1)
NUM_TOKENS, NUM_SPK, NUM_EMO = 12, 2, 3
LENGTHS = (7, 3, 11, 5, 9)


def tiny(name: str, **over):
    conf = copy.deepcopy(TINY_FS2 if name == "fastspeech2" else TINY_MODEL_CONF[name])
    conf.update(over)
    torch.manual_seed(0)
    return build_model(name, conf, NUM_TOKENS, NUM_SPK, NUM_EMO, N_MELS, source="conf/tts/x.yaml").eval()


def inputs(model, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    tokens = [torch.randint(1, NUM_TOKENS, (n,), generator=g) for n in LENGTHS]
    speakers = [i % NUM_SPK for i in range(len(LENGTHS))]
    weights = torch.softmax(torch.randn(len(LENGTHS), NUM_EMO, generator=g), -1) if model.uses_labels() else None
    styles = torch.randn(len(LENGTHS), model.style_dim, generator=g) if model.uses_style() else None
    return tokens, speakers, weights, styles


@pytest.mark.parametrize("name", ["tacotron2", "gst", "vae", "emo_dnn", "emo_cvae"])
@pytest.mark.parametrize("context_feedback", [True, False])
def test_tacotron_family_batch_equals_one_at_a_time(name, context_feedback):
    model = tiny(name, context_feedback=context_feedback, alignment="attention", duration_model=None)
    seeds = [100 + i for i in range(len(LENGTHS))]
    limits = [math.ceil(5.0 * n / model.r) * model.r for n in LENGTHS]  # maxlenratio 5
    # a sharper stop layer, biased so that in this batch some utterances stop by the stop token
    # before their length limit and others run to it
    weight = model.decoder.stop_proj.weight.detach().clone()
    for data_seed, bias in itertools.product((1, 2, 3, 4), (-1.0, -0.5, 0.0, 0.5, 1.0, -1.5, 1.5, -3.0)):
        with torch.no_grad():
            model.decoder.stop_proj.weight.copy_(weight * 20.0)
            model.decoder.stop_proj.bias.fill_(bias)
        tokens, speakers, weights, styles = inputs(model, data_seed)
        batch = model.inference_batch(tokens, speakers, weights, styles, threshold=0.5, maxlenratio=5.0, seeds=seeds)
        got = [r["mel"].shape[0] for r in batch]
        if any(n < lim for n, lim in zip(got, limits)) and any(n == lim for n, lim in zip(got, limits)):
            break
    else:
        pytest.fail("no batch with both stop-token and length-limit stops")
    for i, res in enumerate(batch):
        torch.manual_seed(seeds[i])  # what decoding one utterance does
        one = model.inference(tokens[i], speaker=speakers[i], emotion_weights=None if weights is None else weights[i],
                              style=None if styles is None else styles[i], threshold=0.5, maxlenratio=5.0)
        assert res["mel"].shape == one["mel"].shape, f"utterance {i} stopped elsewhere"
        assert torch.allclose(res["mel"], one["mel"], atol=1e-5, rtol=1e-4)
        assert torch.allclose(res["stop_probs"], one["stop_probs"], atol=1e-5)
        assert res["alignment"].shape == one["alignment"].shape == (len(res["stop_probs"]), len(tokens[i]))
    # the same utterance in another batch, with its own seed, comes out the same
    again = model.inference_batch(tokens[2:3] + tokens[:1], speakers[2:3] + speakers[:1],
                                  None if weights is None else weights[[2, 0]],
                                  None if styles is None else styles[[2, 0]], threshold=0.5, maxlenratio=5.0,
                                  seeds=[seeds[2], seeds[0]])
    assert torch.allclose(again[0]["mel"], batch[2]["mel"], atol=1e-5)
    assert torch.allclose(again[1]["mel"], batch[0]["mel"], atol=1e-5)


def test_prenet_masks_from_per_row_generators_equal_global_dropout():
    model = tiny("tacotron2")
    prenet = model.decoder.prenet
    x = torch.randn(3, N_MELS)
    gens = [torch.Generator().manual_seed(s) for s in (5, 6, 7)]
    with torch.no_grad():
        batched = prenet(x, gens)
        for i, s in enumerate((5, 6, 7)):
            torch.manual_seed(s)
            alone = prenet(x[i:i + 1])
            assert torch.equal(batched[i:i + 1] == 0, alone == 0)  # the same units dropped
            assert torch.allclose(batched[i:i + 1], alone, atol=1e-6)  # (batched matmuls round differently)


def test_fastspeech2_batch_equals_one_at_a_time_with_prosody_controls():
    model = tiny("fastspeech2")
    tokens, speakers, weights, _ = inputs(model)
    scale, shift, escale, eshift = [1.0, 0.5, 2.0, 1.3, 0.8], [0, 0.5, -1, 0, 0.2], [1, 1.2, 0.8, 1, 1], \
        [0, 0.1, 0, -0.3, 0]
    batch = model.inference_batch(tokens, speakers, weights, maxlenratio=3.0, duration_scale=scale,
                                  pitch_shift=shift, energy_scale=escale, energy_shift=eshift)
    for i, res in enumerate(batch):
        one = model.inference(tokens[i], speaker=speakers[i], emotion_weights=weights[i], maxlenratio=3.0,
                              duration_scale=scale[i], pitch_shift=shift[i], energy_scale=escale[i],
                              energy_shift=eshift[i])
        assert torch.equal(res["durations"], one["durations"])
        assert res["mel"].shape == one["mel"].shape and torch.allclose(res["mel"], one["mel"], atol=1e-5)
        assert torch.allclose(res["pitch"], one["pitch"], atol=1e-6) and res["stop_probs"] is None
    with pytest.raises(ValueError, match="duration_scale"):
        model.inference_batch(tokens, speakers, weights, duration_scale=[1.0, 0.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="one per utterance"):
        model.inference_batch(tokens, speakers, weights, pitch_shift=[0.0, 1.0])


def test_energy_shift_moves_the_energy_contour():
    model = tiny("fastspeech2")
    tokens, speakers, weights, _ = inputs(model)
    base = model.inference(tokens[0], speaker=0, emotion_weights=weights[0])
    up = model.inference(tokens[0], speaker=0, emotion_weights=weights[0], energy_shift=0.5)
    assert torch.allclose(up["energy"], base["energy"] + 0.5, atol=1e-6)


@pytest.mark.parametrize("name", ["gst", "emo_dnn", "fastspeech2"])
def test_batched_inputs_follow_the_model_device(name):
    """The batched path builds its padded tokens, lengths, conditions and prenet dropout masks on
    the model's device (the meta device stands in for a GPU: shapes propagate, no values exist;
    the packed-sequence encoder and the stop decisions need real values, so the test stops there)."""
    from pytorch_backend.tts.layers.masks import pad_tokens

    real = tiny(name)
    tokens, speakers, weights, styles = inputs(real)
    model = tiny(name).to("meta")
    meta = torch.device("meta")
    padded, lens, n = pad_tokens(tokens, meta)
    assert padded.device == meta and lens.device == meta and n == list(LENGTHS)
    assert tuple(padded.shape) == (len(LENGTHS), max(LENGTHS))
    if name == "fastspeech2":
        # (the emotion-vector check of _conditions reads values: build the condition directly)
        cond = torch.cat([model.speaker_embed(torch.tensor(speakers, device=meta)),
                          weights.to(meta) @ model.emotion_embed.weight], dim=-1)
        _, h, mask = model._encode(padded, lens, cond)
        assert cond.device == meta and h.device == meta and mask.device == meta
        return
    w = model.emotion_weights_of(len(tokens), meta, None, weights)
    vecs = model._vectors(len(tokens), meta, torch.tensor(speakers), w)
    assert all(v.device == meta for v in vecs.values())
    masks = model.decoder.prenet.row_masks(torch.zeros(len(tokens), 16, device=meta),
                                           [torch.Generator().manual_seed(s) for s in range(len(tokens))])
    assert masks.device == meta and tuple(masks.shape) == (len(tokens), 16)
    frames = model.decoder.prenet(torch.zeros(len(tokens), N_MELS, device=meta),
                                  [torch.Generator().manual_seed(s) for s in range(len(tokens))])
    assert frames.device == meta

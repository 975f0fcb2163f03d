"""WaveNet: incremental generation equals the full forward pass; both output distributions train."""

from __future__ import annotations

import pytest
import torch
from vocoder_fixtures import check_trains_and_generates, make_corpus

from pytorch_backend.vocoders.wavenet import WaveNetGenerator, mol_nll, mulaw_decode, mulaw_encode


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def test_trains_and_generates_frames_times_hop(corpus, tmp_path):
    check_trains_and_generates("wavenet", corpus, tmp_path / "voc")


@pytest.mark.parametrize("output", ["categorical", "mol"])
def test_incremental_generation_equals_full_forward(output):
    torch.manual_seed(0)
    gen = WaveNetGenerator(layers=6, stacks=2, residual_channels=8, gate_channels=16, skip_channels=8,
                           kernel_size=3, output=output, mixtures=3, upsample_scales=[4, 4]).eval()
    for p in gen.parameters():  # avoid a near-zero head: differences must show
        p.data.normal_(0.0, 0.3)
    mel = torch.randn(2, 80, 3)
    wav = 0.5 * torch.tanh(torch.randn(2, 3 * 16))
    with torch.no_grad():
        cond = gen.upsample(mel)
        inputs = torch.nn.functional.pad(gen.dequantize_input(wav)[:, :-1], (1, 0))
        full = gen(inputs, cond)
        _, step_outs = gen.incremental(mel, teacher=wav)
    assert step_outs.shape == full.shape
    torch.testing.assert_close(step_outs, full, rtol=1e-4, atol=1e-4)
    assert full.abs().max() > 0.1


def test_free_running_generation_has_the_right_length_and_range():
    gen = WaveNetGenerator(layers=2, stacks=1, residual_channels=4, gate_channels=8, skip_channels=4,
                           output="mol", mixtures=2, upsample_scales=[4, 4]).eval()
    wav = gen.infer(torch.randn(1, 80, 2))
    assert wav.shape == (1, 32) and wav.abs().max() <= 1.0


def test_mulaw_round_trip_and_mixture_likelihood():
    x = torch.linspace(-1, 1, 101)
    assert (mulaw_decode(mulaw_encode(x, 256), 256) - x).abs().max() < 0.05
    target = torch.full((1, 50), 0.3)
    params = torch.zeros(1, 3, 50)  # one logistic: logit, mean, log scale
    params[:, 2] = -4.0
    near, far = params.clone(), params.clone()
    near[:, 1], far[:, 1] = 0.3, -0.5
    assert float(mol_nll(near, target)) < float(mol_nll(far, target))

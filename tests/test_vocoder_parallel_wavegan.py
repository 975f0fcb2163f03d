"""Parallel WaveGAN: noise-driven non-causal WaveNet generator and its discriminator."""

from __future__ import annotations

import pytest
import torch
from vocoder_fixtures import HOP, check_trains_and_generates, make_corpus

from pytorch_backend.vocoders.parallel_wavegan import ParallelWaveGANDiscriminator, ParallelWaveGANGenerator


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def test_trains_and_generates_frames_times_hop(corpus, tmp_path):
    check_trains_and_generates("parallel_wavegan", corpus, tmp_path / "voc")


def test_output_depends_on_noise_and_mel():
    gen = ParallelWaveGANGenerator(layers=4, stacks=2, residual_channels=8, gate_channels=16, skip_channels=8)
    mel = torch.randn(1, 80, 3)
    noise = torch.randn(1, 1, 3 * HOP)
    with torch.no_grad():
        a = gen(mel, noise)
        b = gen(mel, noise)
        c = gen(mel, torch.randn(1, 1, 3 * HOP))
        d = gen(mel + 1.0, noise)
    assert a.shape == (1, 1, 3 * HOP)
    assert torch.equal(a, b) and not torch.allclose(a, c) and not torch.allclose(a, d)


def test_discriminator_scores_every_sample():
    outs, feats = ParallelWaveGANDiscriminator(layers=4, channels=8)(torch.randn(2, 1, 500))
    assert outs[0].shape == (2, 500) and len(feats[0]) == 3

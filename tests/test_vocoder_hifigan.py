"""HiFi-GAN: generator variants, discriminators, training + synthesis through the registry."""

from __future__ import annotations

import pytest
import torch
from vocoder_fixtures import FEATS, HOP, check_trains_and_generates, make_corpus

from pytorch_backend.vocoders.hifigan import HiFiGAN, HiFiGANGenerator, MultiDiscriminator


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def test_trains_and_generates_frames_times_hop(corpus, tmp_path):
    check_trains_and_generates("hifigan", corpus, tmp_path / "voc")


@pytest.mark.parametrize("resblock,kernels,dilations", [
    ("1", [3, 7], [[1, 3, 5], [1, 3, 5]]),  # V1/V2 style
    ("2", [3, 5], [[1, 2], [2, 6]]),  # V3 style
])
def test_generator_variants_upsample_by_the_hop(resblock, kernels, dilations):
    gen = HiFiGANGenerator(upsample_initial_channel=16, upsample_rates=[8, 8, 2, 2],
                           upsample_kernel_sizes=[16, 16, 4, 4], resblock=resblock,
                           resblock_kernel_sizes=kernels, resblock_dilation_sizes=dilations)
    assert gen.hop == HOP
    with torch.no_grad():
        out = gen(torch.randn(2, 80, 6))
    assert out.shape == (2, 1, 6 * HOP) and out.abs().max() <= 1.0


def test_discriminators_score_every_period_and_scale():
    disc = MultiDiscriminator(periods=[2, 3, 5], period_channels=[4, 8], scales=2, scale_channels=4,
                              scale_max_channels=16, scale_downsample=[4, 4])
    outs, feats = disc(torch.randn(2, 1, 1001))  # a length no period divides
    assert len(outs) == len(feats) == 5
    assert all(o.shape[0] == 2 and torch.isfinite(o).all() for o in outs)


def test_hop_mismatch_is_a_clear_error():
    from pytorch_backend.vocoders.base import VocoderArgError

    with pytest.raises(VocoderArgError, match="upsamples by 128"):
        HiFiGAN.build_generator({"upsample_rates": [8, 8, 2], "upsample_kernel_sizes": [16, 16, 4],
                                 "upsample_initial_channel": 16}, FEATS)

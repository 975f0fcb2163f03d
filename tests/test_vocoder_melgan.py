"""MelGAN, multi-band MelGAN and the PQMF filter bank."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from feats_fixtures import vowel
from vocoder_fixtures import HOP, check_trains_and_generates, make_corpus

from pytorch_backend.vocoders.melgan import MultiBandMelGANGenerator
from pytorch_backend.vocoders.pqmf import PQMF


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.mark.parametrize("name", ["melgan", "multiband_melgan"])
def test_trains_and_generates_frames_times_hop(name, corpus, tmp_path):
    check_trains_and_generates(name, corpus, tmp_path / name)


def test_pqmf_analysis_synthesis_reconstructs_speech_like_audio():
    pqmf = PQMF(4)
    x = torch.from_numpy(vowel(0.3))[None, None, :6400]
    sub = pqmf.analysis(x)
    assert sub.shape == (1, 4, 1600)
    y = pqmf.synthesis(sub)
    assert y.shape == x.shape
    inner = slice(200, -200)  # filter edges aside
    err = (y - x)[..., inner].pow(2).sum() / x[..., inner].pow(2).sum()
    assert 10 * np.log10(float(err)) < -25.0  # near-perfect reconstruction
    # each band carries a distinct part of the spectrum: band energies are not all alike
    energy = sub.pow(2).mean(dim=-1).squeeze()
    assert float(energy.max() / energy.min()) > 10.0


def test_multiband_generator_emits_subbands_at_a_quarter_rate():
    gen = MultiBandMelGANGenerator(channels=32, upsample_scales=[4, 4, 4], stack_dilations=[1])
    assert gen.hop == HOP
    with torch.no_grad():
        mel = torch.randn(1, 80, 5)
        sub = gen.forward_bands(mel)
        full = gen.infer(mel)
    assert sub.shape == (1, 4, 5 * HOP // 4)
    assert full.shape == (1, 5 * HOP)


def test_melgan_discriminator_is_the_papers_block():
    """Kumar et al. 2019, appendix: conv 15 -> 16, then kernel 41 / stride 4 convs with groups
    4, 16, 64, 256 (16 -> 64 -> 256 -> 1024 -> 1024), conv 5, score conv 3; three scales."""
    from torch import nn

    from pytorch_backend.vocoders.discriminators import MelGANDiscriminator
    from pytorch_backend.vocoders.melgan import MelGAN

    with torch.device("meta"):
        disc = MelGAN.build_discriminator({})
    assert isinstance(disc, MelGANDiscriminator) and len(disc.scales) == 3
    convs = [m for m in disc.scales[0].modules() if isinstance(m, nn.Conv1d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0], c.groups) for c in convs] == [
        (1, 16, 15, 1, 1), (16, 64, 41, 4, 4), (64, 256, 41, 4, 16), (256, 1024, 41, 4, 64),
        (1024, 1024, 41, 4, 256), (1024, 1024, 5, 1, 1), (1024, 1, 3, 1, 1)]
    assert disc.pool.count_include_pad is False and disc.pool.padding == (1,)


def test_melgan_features_are_its_layers_without_the_score():
    """The paper's L_FM compares the feature maps of the layers, not the scores: 6 per scale."""
    from pytorch_backend.vocoders.discriminators import MelGANDiscriminator

    torch.manual_seed(0)
    disc = MelGANDiscriminator(scales=3, channels=4, max_channels=16, downsample_scales=[4, 4])
    x = torch.randn(2, 1, 1000)
    outs, feats = disc(x)
    assert [len(f) for f in feats] == [4, 4, 4]  # conv 15, two downsampling convs, conv 5
    assert [o.shape[1] for o in outs] == [63, 32, 16]
    # leaky ReLU 0.2 on every feature map: negatives are a fifth of the pre-activation
    pre = disc.scales[0].convs[0](x)
    assert torch.allclose(feats[0][0], torch.where(pre > 0, pre, 0.2 * pre))


def test_melgan_discriminator_bad_channels_are_clear_errors():
    from pytorch_backend.vocoders.discriminators import MelGANDiscriminator

    with pytest.raises(ValueError, match="downsampling layer 1: groups 16 must divide the input"):
        MelGANDiscriminator(channels=16, max_channels=100)
    with pytest.raises(ValueError, match="scales must be >= 1"):
        MelGANDiscriminator(scales=0)

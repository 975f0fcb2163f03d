"""The GAN vocoders' losses: feature matching summed as in the papers, least-squares GAN terms,
and each vocoder conf weighting feature matching as its own paper does."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pytorch_backend.config import VOCODER_SCHEMA, load_checked
from pytorch_backend.vocoders import VOCODERS
from pytorch_backend.vocoders.losses import discriminator_loss, feature_matching_loss, generator_adv_loss
from pytorch_backend.vocoders.train import resolve_train_conf

REPO = Path(__file__).resolve().parent.parent


def test_feature_matching_sums_per_layer_l1_means_over_layers_and_discriminators():
    """L_FM = sum_k sum_i mean|D_k^i(x) - D_k^i(G(s))|: layers of different sizes each count once."""
    real = [[torch.zeros(2, 3, 10), torch.zeros(2, 5)], [torch.zeros(4, 7)]]
    fake = [[torch.full((2, 3, 10), 1.0), torch.full((2, 5), -2.0)], [torch.full((4, 7), 0.5)]]
    fake[0][0][0, 0, :5] = 3.0  # this map's mean |diff| = (55 * 1 + 5 * 3) / 60
    loss = feature_matching_loss(real, fake)
    assert float(loss) == pytest.approx((55 + 15) / 60 + 2.0 + 0.5)  # a sum, not the mean (x1/3)
    # a sub-discriminator with more layers weighs more: adding one equal map adds its mean
    more = feature_matching_loss(real + [[torch.zeros(3)]], fake + [[torch.ones(3)]])
    assert float(more) == pytest.approx(float(loss) + 1.0)


def test_feature_matching_gradients_reach_the_generated_maps_only():
    real = [[torch.randn(2, 4, requires_grad=True)]]
    fake = [[torch.randn(2, 4, requires_grad=True)]]
    feature_matching_loss(real, fake).backward()
    assert real[0][0].grad is None
    expected = torch.sign(fake[0][0].detach() - real[0][0].detach()) / 8
    assert torch.allclose(fake[0][0].grad, expected)


def test_feature_matching_of_mismatched_maps_names_the_discriminator_and_layer():
    with pytest.raises(ValueError, match="2 real and 1 generated sub-discriminators"):
        feature_matching_loss([[torch.zeros(1)], [torch.zeros(1)]], [[torch.zeros(1)]])
    with pytest.raises(ValueError, match="sub-discriminator 1: 2 real and 1 generated feature maps"):
        feature_matching_loss([[torch.zeros(1)], [torch.zeros(1), torch.zeros(1)]],
                              [[torch.zeros(1)], [torch.zeros(1)]])
    with pytest.raises(ValueError, match=r"discriminator 0, layer 1: real feature map \(2, 3\) vs generated \(2, 1\)"):
        feature_matching_loss([[torch.zeros(1), torch.zeros(2, 3)]], [[torch.zeros(1), torch.zeros(2, 1)]])
    with pytest.raises(ValueError, match="no feature maps"):
        feature_matching_loss([], [])


def test_least_squares_gan_terms_sum_over_sub_discriminators():
    real = [torch.full((2, 5), 1.0), torch.full((1, 3), 0.0)]
    fake = [torch.full((2, 5), 0.5), torch.full((1, 3), 1.0)]
    # D: mean (1 - real)^2 + mean fake^2 per sub-discriminator: (0 + 0.25) + (1 + 1)
    assert float(discriminator_loss(real, fake)) == pytest.approx(2.25)
    # G: mean (1 - fake)^2: 0.25 + 0
    assert float(generator_adv_loss(fake)) == pytest.approx(0.25)


@pytest.mark.parametrize("conf,lambda_fm", [
    ("hifigan", 2.0), ("hifigan_v1_paper", 2.0), ("hifigan_v2_paper", 2.0), ("hifigan_v3_paper", 2.0),
    ("melgan", 10.0), ("melgan_paper", 10.0),  # MelGAN: lambda 10 on the summed L_FM
    ("multiband_melgan", 0.0), ("multiband_melgan_paper", 0.0),  # replaced by (sub-band) STFT losses
    ("parallel_wavegan", 0.0), ("parallel_wavegan_paper", 0.0),  # multi-resolution STFT + adversarial only
])
def test_each_gan_vocoder_weights_feature_matching_as_its_paper(conf, lambda_fm):
    path = REPO / "conf" / "vocoder" / f"{conf}.yaml"
    voc = load_checked(path, VOCODER_SCHEMA)
    resolved = resolve_train_conf(VOCODERS[voc["name"]], voc["train"], path)
    assert float(resolved["lambda_fm"]) == lambda_fm
    if voc["name"] == "hifigan":
        assert float(resolved["lambda_mel"]) == 45.0 and float(resolved["lambda_adv"]) == 1.0

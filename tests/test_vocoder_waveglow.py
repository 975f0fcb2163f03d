"""WaveGlow: the flow inverts exactly; training and synthesis through the registry."""

from __future__ import annotations

import pytest
import torch
from vocoder_fixtures import check_trains_and_generates, make_corpus

from pytorch_backend.vocoders.waveglow import WaveGlowGenerator


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def test_trains_and_generates_frames_times_hop(corpus, tmp_path):
    check_trains_and_generates("waveglow", corpus, tmp_path / "voc")


def test_flow_is_invertible_and_loss_is_finite():
    torch.manual_seed(0)
    gen = WaveGlowGenerator(hop_length=256, n_flows=4, n_group=8, early_every=2, early_size=2, wn_layers=2,
                            wn_channels=8)
    for net in gen.nets:  # leave the identity start: make the couplings do something
        torch.nn.init.normal_(net.end.weight, 0.0, 0.05)
    mel = torch.randn(2, 80, 2)
    wav = 0.3 * torch.randn(2, 512)
    with torch.no_grad():
        z, log_s, logdet = gen.encode(wav, mel)
        back = gen.decode(z, mel)
        loss = gen.loss(wav, mel)["loss"]
    assert z.shape == (2, 8, 64)
    torch.testing.assert_close(back, wav, rtol=1e-4, atol=1e-4)
    assert torch.isfinite(loss) and float(log_s.abs()) > 0

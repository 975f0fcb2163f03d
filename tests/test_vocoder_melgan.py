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

"""HiFi-GAN: generator variants, the paper's discriminators and sizes, training + synthesis
through the registry."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from vocoder_fixtures import FEATS, HOP, check_trains_and_generates, make_corpus

from pytorch_backend.config import VOCODER_SCHEMA, load_checked
from pytorch_backend.errors import ConfigError
from pytorch_backend.vocoders.base import VocoderArgError
from pytorch_backend.vocoders.discriminators import HiFiGANDiscriminator, HiFiGANScaleDiscriminator
from pytorch_backend.vocoders.hifigan import HiFiGAN, HiFiGANGenerator
from pytorch_backend.vocoders.layers import remove_weight_norm
from pytorch_backend.vocoders.train import VocoderTrainer, resolve_train_conf

REPO = Path(__file__).resolve().parent.parent
CONF = REPO / "conf" / "vocoder"


def train_conf(name: str) -> dict:
    path = CONF / f"{name}.yaml"
    return resolve_train_conf(HiFiGAN, load_checked(path, VOCODER_SCHEMA)["train"], path)


def conv_params(module: nn.Module) -> int:
    """Weights + biases of every conv, whatever normalization wraps them (weight norm adds one
    gain per output channel as a parameter, spectral norm adds none: this counts neither)."""
    n = 0
    for sub in module.modules():
        if isinstance(sub, (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d)):
            n += sub.weight.numel() + (sub.bias.numel() if sub.bias is not None else 0)
    return n


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


# Table 1 of Kong, Kim & Bae (2020), generator parameters in millions
PAPER_GENERATOR_M = {"hifigan_v1_paper": 13.92, "hifigan_v2_paper": 0.92, "hifigan_v3_paper": 1.46}


@pytest.mark.parametrize("name", sorted(PAPER_GENERATOR_M))
def test_paper_confs_build_generators_of_the_papers_size(name):
    """The synthesized generator (weight norm folded into the weights) is within 1% of Table 1;
    built on the meta device: no memory, no initialization cost."""
    conf = train_conf(name)
    with torch.device("meta"):
        gen = HiFiGAN.build_generator(conf["generator"], FEATS)
        folded = sum(p.numel() for p in remove_weight_norm(gen).parameters())
    assert folded == pytest.approx(PAPER_GENERATOR_M[name] * 1e6, rel=0.01), folded


def paper_conv_table():
    """The paper's (and the authors' code's) discriminator layers as (in, out, kernel, groups):
    MPD per period: 2-D (k, 1) convs 1-32-128-512-1024-1024, score conv (3, 1) -> 1;
    MSD per scale: 1-D convs 1-128 (k15), 128-128 (k41, g4), 128-256 (g16), 256-512 (g16),
    512-1024 (g16), 1024-1024 (k41, g16), 1024-1024 (k5), score conv (k3) -> 1."""
    mpd = [(1, 32, 5, 1), (32, 128, 5, 1), (128, 512, 5, 1), (512, 1024, 5, 1), (1024, 1024, 5, 1), (1024, 1, 3, 1)]
    msd = [(1, 128, 15, 1), (128, 128, 41, 4), (128, 256, 41, 16), (256, 512, 41, 16), (512, 1024, 41, 16),
           (1024, 1024, 41, 16), (1024, 1024, 5, 1), (1024, 1, 3, 1)]
    return mpd, msd


def test_paper_discriminators_match_the_architectures_parameter_count():
    """MPD 41.09 M + MSD 29.61 M = 70.70 M weights and biases, computed layer by layer from the
    architecture (paper_conv_table: the paper's MPD description and the authors' MSD, which the
    paper gives as MelGAN-like 'with grouped convolutions'); the built model has exactly these."""
    mpd_table, msd_table = paper_conv_table()
    per_period = sum(c_out * c_in // g * k + c_out for c_in, c_out, k, g in mpd_table)
    per_scale = sum(c_out * c_in // g * k + c_out for c_in, c_out, k, g in msd_table)
    assert 5 * per_period == 41_092_165 and 3 * per_scale == 29_610_627
    assert 5 * per_period + 3 * per_scale == pytest.approx(70.70e6, abs=0.01e6)
    for name in ("hifigan_v1_paper", "hifigan_v2_paper", "hifigan_v3_paper"):
        with torch.device("meta"):
            disc = HiFiGAN.build_discriminator(train_conf(name)["discriminator"])
        assert conv_params(disc.periods) == 5 * per_period, name
        assert conv_params(disc.scales) == 3 * per_scale, name
        # trainable: plus one weight-norm gain per output channel (MPD and the pooled scales)
        gains = 5 * sum(c_out for _, c_out, _, _ in mpd_table) + 2 * sum(c_out for _, c_out, _, _ in msd_table)
        assert sum(p.numel() for p in disc.parameters()) == 5 * per_period + 3 * per_scale + gains


def test_the_defaults_are_the_papers_discriminators():
    with torch.device("meta"):
        default = HiFiGANDiscriminator()
        v1 = HiFiGAN.build_discriminator(train_conf("hifigan_v1_paper")["discriminator"])
    assert [tuple(p.shape) for p in default.parameters()] == [tuple(p.shape) for p in v1.parameters()]
    assert [d.period for d in default.periods] == [2, 3, 5, 7, 11] and len(default.scales) == 3


def _norm_of(conv: nn.Module) -> str:
    names = {type(p).__name__ for p in conv.parametrizations.weight}
    assert len(names) == 1
    return names.pop()


@pytest.mark.parametrize("name", ["hifigan_v1_paper", "hifigan"])
def test_spectral_norm_on_the_raw_scale_weight_norm_elsewhere(name):
    with torch.device("meta"):
        disc = HiFiGAN.build_discriminator(train_conf(name)["discriminator"])
    assert len(disc.scales) == 3
    raw, *pooled = disc.scales
    assert {_norm_of(c) for c in [*raw.convs, raw.post]} == {"_SpectralNorm"}
    for scale in pooled:
        assert {_norm_of(c) for c in [*scale.convs, scale.post]} == {"_WeightNorm"}
    for period in disc.periods:
        assert {_norm_of(c) for c in [*period.convs, period.post]} == {"_WeightNorm"}


def test_the_raw_scales_convs_have_spectral_norm_one():
    torch.manual_seed(0)
    disc = HiFiGANScaleDiscriminator([8, 8, 16], [15, 41, 5], [1, 2, 1], [1, 4, 1], use_spectral_norm=True)
    x = torch.randn(2, 1, 512)
    for _ in range(20):  # power iterations run in training mode
        disc(x)
    disc.eval()
    for conv in [*disc.convs, disc.post]:
        sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2)
        assert float(sigma) == pytest.approx(1.0, abs=0.02)


def test_scales_see_raw_then_x2_then_x4_pooled_audio():
    """Each next scale discriminator scores the audio after one more AvgPool1d(4, 2, padding=2)."""
    torch.manual_seed(0)
    disc = HiFiGANDiscriminator(periods=[], scales=3, scale_channels=[4, 4, 8], scale_kernel_sizes=[15, 41, 5],
                                scale_strides=[1, 2, 1], scale_groups=[1, 4, 1]).eval()
    x = torch.randn(2, 1, 1000)
    with torch.no_grad():
        outs, feats = disc(x)
        x2 = F.avg_pool1d(x, 4, 2, padding=2)
        x4 = F.avg_pool1d(x2, 4, 2, padding=2)
        for i, audio in enumerate((x, x2, x4)):
            score, maps = disc.scales[i](audio)
            assert torch.equal(outs[i], score)
            assert len(maps) == len(feats[i]) == 4  # 3 convs + the score conv
    assert [o.shape[1] for o in outs] == [500, 251, 126]


def test_discriminators_score_every_period_and_scale_on_the_meta_device():
    """The paper-sized discriminators run on any device (meta: shapes only, no memory)."""
    with torch.device("meta"):
        disc = HiFiGAN.build_discriminator(train_conf("hifigan_v1_paper")["discriminator"])
        outs, feats = disc(torch.randn(2, 1, 8193))  # a length no period divides
    assert len(outs) == len(feats) == 8
    assert all(o.device.type == "meta" and o.shape[0] == 2 for o in outs)
    assert [len(f) for f in feats] == [6] * 5 + [8] * 3  # 54 feature maps, as in the paper
    assert [o.shape[1] for o in outs[5:]] == [8193 // 64 + 1, 4097 // 64 + 1, 2049 // 64 + 1]
    rows = (8193 + 1) // 2  # period 2: reflect-padded to 8194, 4097 rows of 2
    for _ in range(4):  # four convs of stride 3, 'same' padding
        rows = (rows - 1) // 3 + 1
    assert outs[0].shape[1] == rows * 2


def test_small_conf_keeps_the_papers_layout_and_trains_a_step():
    conf = train_conf("hifigan")
    disc = HiFiGAN.build_discriminator(conf["discriminator"])
    assert len(disc.periods) == 5 and len(disc.scales) == 3
    for scale in disc.scales:
        convs = scale.convs
        assert [c.kernel_size[0] for c in convs] == [15, 41, 41, 41, 41, 41, 5]
        assert [c.stride[0] for c in convs] == [1, 2, 2, 4, 4, 1, 1]
    trainer = VocoderTrainer(HiFiGAN, {**conf, "disc_start_step": 0}, FEATS, "unused")
    torch.manual_seed(0)
    out = trainer.train_step(torch.randn(2, 80, 8) - 4.0, 0.1 * torch.randn(2, 8 * HOP))
    assert {"disc", "mel", "stft", "adv", "fm", "loss"} <= set(out)
    lam = {k: float(conf[f"lambda_{k}"]) for k in ("mel", "stft", "adv", "fm")}
    assert out["loss"] == pytest.approx(sum(lam[k] * out[k] for k in lam), rel=1e-5)


@pytest.mark.parametrize("bad,match", [
    ({"scale_groups": [1, 3, 1]}, r"layer 1: groups 3 must divide the input \(4\) and output \(4\)"),
    ({"scale_strides": [1, 2]}, "must be non-empty lists of one length, got lengths 3, 3, 2, 3"),
    ({"scales": -1}, "scales must be >= 0"),
    ({"periods": [0]}, "periods must be >= 1"),
])
def test_bad_discriminator_keywords_are_clear_errors(bad, match):
    kwargs = {"periods": [2], "period_channels": [4], "scales": 1, "scale_channels": [4, 4, 8],
              "scale_kernel_sizes": [15, 41, 5], "scale_strides": [1, 2, 1], "scale_groups": [1, 4, 1], **bad}
    with pytest.raises(ValueError, match=match):
        HiFiGAN.build_discriminator(kwargs)


def test_bad_or_outdated_discriminator_keys_name_the_file_and_key(tmp_path):
    source = "conf/vocoder/hifigan.yaml"
    conf = resolve_train_conf(HiFiGAN, {"discriminator": {"scale_max_channels": 128}}, source)
    with pytest.raises(ConfigError, match=r"hifigan.yaml: key 'train.discriminator.scale_max_channels'.*unknown"):
        VocoderTrainer(HiFiGAN, conf, FEATS, tmp_path, source=source)
    conf = resolve_train_conf(HiFiGAN, {"discriminator": {"scale_groups": [1, 3, 16, 16, 16, 16, 1]}}, source)
    with pytest.raises(ConfigError, match=r"hifigan.yaml: key 'train'.*layer 1: groups 3 must divide"):
        VocoderTrainer(HiFiGAN, conf, FEATS, tmp_path, source=source)
    with pytest.raises(VocoderArgError, match="unknown keyword of HiFiGANDiscriminator") as exc:
        HiFiGAN.build_discriminator({"scale_downsample": [4, 4]})
    assert exc.value.key == "discriminator.scale_downsample"


def test_every_hifigan_conf_builds_its_discriminators():
    for path in sorted(CONF.glob("hifigan*.yaml")):
        conf = train_conf(path.stem)
        with torch.device("meta"):
            disc = HiFiGAN.build_discriminator(conf["discriminator"])
        assert isinstance(disc, HiFiGANDiscriminator), path.name
        assert parametrize.is_parametrized(disc.scales[0].convs[0], "weight"), path.name


def test_hop_mismatch_is_a_clear_error():
    with pytest.raises(VocoderArgError, match="upsamples by 128"):
        HiFiGAN.build_generator({"upsample_rates": [8, 8, 2], "upsample_kernel_sizes": [16, 16, 4],
                                 "upsample_initial_channel": 16}, FEATS)

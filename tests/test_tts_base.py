"""The TTS model protocol (pytorch_backend/tts/base.py): every registered model follows it."""

import copy

import pytest
import torch

import pytorch_backend.tts.fastspeech2 as fs2_module
import pytorch_backend.tts.learned_durations as learned_durations
from pytorch_backend.errors import ConfigError
from pytorch_backend.tts import MODELS, TTSModel, build_model, needs_prosody
from pytorch_backend.tts.base import ALL_CONTROLS
from pytorch_backend.tts.controls import NEEDS
from prosody_fixtures import TINY_FS2
from tts_fixtures import N_MELS, TINY_MODEL_CONF

torch.set_num_threads(1)
CONFS = {**TINY_MODEL_CONF, "fastspeech2": TINY_FS2}
NUM_TOKENS, NUM_SPK, NUM_EMO = 12, 2, 3


def tiny(name):
    torch.manual_seed(0)
    return build_model(name, copy.deepcopy(CONFS[name]), NUM_TOKENS, NUM_SPK, NUM_EMO, N_MELS, source="t.yaml")


def batch(r: int):
    g = torch.Generator().manual_seed(0)
    t = -(-17 // r) * r
    return {"tokens": torch.randint(1, NUM_TOKENS, (2, 7), generator=g) * torch.tensor([[1] * 7, [1] * 4 + [0] * 3]),
            "token_lens": torch.tensor([7, 4]), "mels": torch.randn(2, t, N_MELS, generator=g),
            "mel_lens": torch.tensor([17, 9]), "speakers": torch.tensor([0, 1]), "emotions": torch.tensor([2, 0]),
            "pitch": torch.randn(2, t, generator=g), "energy": torch.randn(2, t, generator=g)}


def test_all_six_models_derive_from_the_base_class():
    assert set(MODELS) == {"tacotron2", "gst", "vae", "emo_dnn", "emo_cvae", "fastspeech2"}
    for name, cls in MODELS.items():
        assert issubclass(cls, TTSModel), name
        assert not getattr(cls, "__abstractmethods__", None), name


def test_the_base_class_is_abstract_and_states_defaults():
    with pytest.raises(TypeError, match="abstract"):
        TTSModel()

    class NoLoss(TTSModel):
        def forward_batch(self, batch):
            return {}

        def inference(self, tokens, **kw):
            return {}

    with pytest.raises(TypeError, match="compute_loss"):
        NoLoss()

    class Minimal(NoLoss):
        def compute_loss(self, out, batch, step=0):
            return {"loss": torch.zeros(())}

    m = Minimal()
    assert (m.r, m.CONTROLS, m.controls, m.NEEDS_PROSODY) == (1, (), (), False)
    assert not m.uses_style() and not m.uses_labels()
    for call in (lambda: m.style_embedding(None, None), lambda: m.label_embedding(None),
                 lambda: m.style_from_token_weights([1.0]), lambda: m.prior_latent(None)):
        with pytest.raises(ValueError, match="Minimal has no"):
            call()


@pytest.mark.parametrize("name", sorted(CONFS))
def test_controls_flags_and_reduction_factor_of_each_model(name):
    model = tiny(name)
    assert set(model.controls) <= set(model.CONTROLS) <= set(ALL_CONTROLS)
    assert set(ALL_CONTROLS) == {c for needs in NEEDS.values() for c in needs}
    assert model.uses_style() == (name in ("gst", "vae", "emo_cvae"))
    assert model.uses_labels() == (name in ("tacotron2", "emo_dnn", "fastspeech2"))
    assert needs_prosody(name) == (name == "fastspeech2") == MODELS[name].NEEDS_PROSODY
    assert model.r == (TINY_MODEL_CONF[name]["reduction_factor"] if name in TINY_MODEL_CONF else 1)
    assert (model.n_mels, model.num_emotions) == (N_MELS, NUM_EMO)


def test_controls_narrow_with_the_configuration():
    no_label = build_model("tacotron2", dict(TINY_MODEL_CONF["tacotron2"], use_emotion=False),
                           NUM_TOKENS, NUM_SPK, NUM_EMO, N_MELS)
    assert no_label.controls == () and not no_label.uses_labels()
    labelled_gst = build_model("gst", dict(TINY_MODEL_CONF["gst"], use_emotion=True, emotion_dim=4),
                               NUM_TOKENS, NUM_SPK, NUM_EMO, N_MELS)
    assert labelled_gst.controls == ("label", "soft_label", "emotion_mean", "reference", "gst_weights")
    assert tiny("gst").controls == ("emotion_mean", "reference", "gst_weights")
    assert tiny("emo_cvae").controls == ("emotion_mean", "reference", "label", "soft_label", "prior")


def test_needs_prosody_of_an_unknown_model_names_file_and_key():
    with pytest.raises(ConfigError) as err:
        needs_prosody("wavenet9", "conf/tts/wavenet9.yaml")
    assert err.value.key == "model" and "conf/tts/wavenet9.yaml" in str(err.value)


def _to_meta(x):
    if isinstance(x, torch.Tensor):
        return x.detach().to("meta")
    return {k: _to_meta(v) for k, v in x.items()} if isinstance(x, dict) else x


@pytest.mark.parametrize("name", sorted(CONFS))
def test_every_loss_term_lives_on_the_model_device(name, monkeypatch):
    """DDP stacks the loss terms of a step: each must be on the model's device (here ``meta``,
    standing in for a GPU). The forward runs on CPU, the loss on meta tensors and parameters."""
    model = tiny(name)
    b = batch(model.r)
    out = model.forward_batch(b)
    assert {"mel_after", "alignments"} <= set(out)
    model.to("meta")
    # CTC (the learned alignments' forward-sum loss) has no meta kernel: a stand-in on the same device
    monkeypatch.setattr(fs2_module, "forward_sum_loss", lambda scores, *a: scores.sum() * 0)
    monkeypatch.setattr(learned_durations, "forward_sum_loss", lambda scores, *a: scores.sum() * 0)
    terms = model.compute_loss(_to_meta(out), _to_meta(b), step=500)
    assert "loss" in terms
    assert {k: v.device.type for k, v in terms.items()} == {k: "meta" for k in terms}


@pytest.mark.parametrize("name", sorted(CONFS))
def test_inference_returns_the_protocol_keys(name):
    model = tiny(name).eval()
    cond = {}
    if model.uses_style():
        cond["style"] = torch.zeros(model.style_dim)
    if model.uses_labels():
        cond["emotion_weights"] = torch.tensor([0.0, 1.0, 0.0])
    res = model.inference(torch.tensor([1, 2, 3]), speaker=0, threshold=0.5, maxlenratio=3.0, minlenratio=0.0,
                          **cond)
    assert res["mel"].dim() == 2 and res["mel"].shape[1] == N_MELS
    assert res["alignment"].dim() == 2 and res["alignment"].shape[1] == 3
    # no stop token where the length is the durations' sum (fastspeech2, alignment: durations)
    assert (res["stop_probs"] is None) == (name == "fastspeech2" or getattr(model, "durations", None) is not None)


class Noisy(TTSModel):
    """A stand-in whose output depends on the RNG and on every input of inference."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))

    def forward_batch(self, batch):
        return {}

    def compute_loss(self, out, batch, step=0):
        return {"loss": self.w.sum()}

    def inference(self, tokens, speaker=None, emotion=None, style=None, threshold=0.5, maxlenratio=12.0,
                  minlenratio=0.0, emotion_weights=None, scale=1.0):
        noise = torch.rand(len(tokens), 2)
        extra = float(speaker or 0) + (0.0 if style is None else float(style.sum()))
        extra += 0.0 if emotion_weights is None else float(emotion_weights.argmax())
        return {"mel": noise * scale + extra + threshold, "stop_probs": None, "alignment": torch.eye(len(tokens))}


def test_default_inference_batch_is_seeded_inference_per_utterance_and_keeps_the_rng():
    model = Noisy()
    tokens = [torch.tensor([1, 2, 3]), torch.tensor([4, 5])]
    weights = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    styles = torch.tensor([[0.5], [1.5]])
    torch.manual_seed(123)
    before = torch.get_rng_state()
    batch = model.inference_batch(tokens, speakers=[0, 1], emotion_weights=weights, styles=styles, seeds=[7, 8],
                                  threshold=0.25, scale=[1.0, 10.0])
    assert torch.equal(torch.get_rng_state(), before)  # the caller's random state is untouched
    for i, seed in enumerate((7, 8)):
        torch.manual_seed(seed)
        alone = model.inference(tokens[i], speaker=i, emotion_weights=weights[i], style=styles[i], threshold=0.25,
                                scale=[1.0, 10.0][i])
        assert torch.equal(batch[i]["mel"], alone["mel"]) and batch[i]["mel"].shape == (len(tokens[i]), 2)


def test_rng_devices_name_the_cuda_devices_of_the_parameters():
    from types import SimpleNamespace

    from pytorch_backend.tts.base import rng_devices

    assert rng_devices(Noisy()) == [] and rng_devices(Noisy().to("meta")) == []
    on_gpus = SimpleNamespace(parameters=lambda: iter(
        [SimpleNamespace(device=torch.device("cuda", 1)), SimpleNamespace(device=torch.device("cuda", 1)),
         SimpleNamespace(device=torch.device("cuda", 0)), SimpleNamespace(device=torch.device("cpu"))]))
    assert rng_devices(on_gpus) == [1, 0]

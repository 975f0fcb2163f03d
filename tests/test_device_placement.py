"""GPU placement bugs, caught on a CPU-only machine.

The ``meta`` device stands in for CUDA (tensors with a device but no data): a checkpoint
resumed by a trainer on another device must restore the model and optimizer there and the
RNG states on the CPU; every loss term a model returns must live on the model's device (the
data-parallel trainer stacks them into one all-reduce); validation must fork the generators
of every CUDA device it reseeds (checked with CUDA mocked as present)."""

from __future__ import annotations

import contextlib
import copy

import numpy as np
import pytest
import torch
from prosody_fixtures import TINY_FS2
from tts_fixtures import N_MELS, TINY_MODEL_CONF, make_corpus, tiny_conf

from pytorch_backend.data.tts_dataset import read_speakers, read_token_list
from pytorch_backend.train import checkpoints as ckpt
from pytorch_backend.train import device as train_device
from pytorch_backend.tts import MODELS, build_model
from pytorch_backend.tts.loading import load_split, tts_conf_of
from pytorch_backend.tts.trainer import Trainer
from pytorch_backend.tts.training import train_tts

torch.set_num_threads(1)
# loading a state dict into meta parameters copies nothing (it says so): only placement is checked
pytestmark = pytest.mark.filterwarnings("ignore:.*copying from a non-meta parameter:UserWarning")
META = torch.device("meta")
MODEL_CONFS = {**TINY_MODEL_CONF, "fastspeech2": TINY_FS2}
# conf variants whose loss has terms of their own: (backend, conf)
LOSS_CASES = {**{name: (name, conf) for name, conf in MODEL_CONFS.items()},
              "fastspeech2_frame_voicing": ("fastspeech2", dict(TINY_FS2, variance_level="frame",
                                                                 predict_voicing=True)),
              "gst_attention": ("gst", dict(TINY_MODEL_CONF["gst"], alignment="attention", duration_model=None))}
NUM_TOKENS, NUM_SPK, NUM_EMO = 12, 2, 3


def to_meta(x):
    if torch.is_tensor(x):
        return x.to(META)
    if isinstance(x, dict):
        return {k: to_meta(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(to_meta(v) for v in x)
    return x


def padded_batch(r: int) -> dict:
    """Two padded items, with the pitch/energy targets the prosody models read."""
    g = torch.Generator().manual_seed(0)
    token_lens, mel_lens = torch.tensor([7, 4]), torch.tensor([18, 10])
    tokens = torch.zeros(2, 7, dtype=torch.long)
    for i, n in enumerate(token_lens.tolist()):
        tokens[i, :n] = torch.randint(1, NUM_TOKENS, (n,), generator=g)
    frames = -(-18 // r) * r
    mels = torch.zeros(2, frames, N_MELS)
    for i, n in enumerate(mel_lens.tolist()):
        mels[i, :n] = torch.randn(n, N_MELS, generator=g)
    return {"tokens": tokens, "token_lens": token_lens, "mels": mels, "mel_lens": mel_lens,
            "speakers": torch.tensor([0, 1]), "emotions": torch.tensor([2, 0]),
            "token_mask": torch.arange(7)[None] < token_lens[:, None],
            "mel_mask": torch.arange(frames)[None] < mel_lens[:, None],
            "pitch": torch.randn(2, frames, generator=g), "energy": torch.randn(2, frames, generator=g),
            "voiced": torch.ones(2, frames, dtype=torch.bool)}


def test_every_backend_has_a_tiny_conf_here():
    assert set(MODEL_CONFS) == set(MODELS), "add the new backend's tiny conf to MODEL_CONFS"


@pytest.mark.parametrize("case", sorted(LOSS_CASES))
def test_every_loss_term_lives_on_the_models_device(case, monkeypatch):
    """compute_loss on the meta device (the forward needs real lengths, so it runs on the CPU and
    its outputs move over): every term, ``kl_weight`` included, is on the model's device, so the
    data-parallel trainer can stack them."""
    name, conf = LOSS_CASES[case]
    # torch has no meta kernel for CTC (the learned alignments' loss): a stand-in on its input's device
    from pytorch_backend.tts import fastspeech2, learned_durations

    for module in (fastspeech2, learned_durations):
        monkeypatch.setattr(module, "forward_sum_loss", lambda scores, *_: scores.float().sum() * 0)
    torch.manual_seed(0)
    model = build_model(name, copy.deepcopy(conf), NUM_TOKENS, NUM_SPK, NUM_EMO, N_MELS)
    batch = padded_batch(getattr(model, "r", 1))
    out = model.forward_batch(batch)
    model.to(META)
    terms = model.compute_loss(to_meta(out), to_meta(batch), step=7)
    assert "loss" in terms and ("voicing" in terms) == case.endswith("voicing")
    misplaced = {k: str(v.device) if torch.is_tensor(v) else type(v).__name__ for k, v in terms.items()
                 if not (torch.is_tensor(v) and v.device == META)}
    assert not misplaced, f"{name}: loss terms off the model's device: {misplaced}"
    stacked = torch.stack([v.detach().float().reshape(()) for v in terms.values()])  # what DDP reduces
    assert stacked.device == META


def test_sampled_feedback_stays_on_the_models_device():
    """Scheduled sampling draws its choice of frames and runs its first pass on the model's
    device (here meta): the mixed decoder input never falls back to the CPU."""
    conf = dict(copy.deepcopy(TINY_MODEL_CONF["gst"]), sampled_feedback=0.5, alignment="attention",
                duration_model=None)  # alignment: durations: tests/test_duration_decoder.py
    torch.manual_seed(0)
    model = build_model("gst", conf, NUM_TOKENS, NUM_SPK, NUM_EMO, N_MELS).train()
    batch = padded_batch(model.r)
    memory = model.encode(batch["tokens"], batch["token_lens"], batch["speakers"], None,
                          batch["mels"], batch["mel_lens"]).detach()
    model.to(META)
    fed = model._sampled_feedback(memory.to(META), batch["token_mask"].to(META), batch["mels"].to(META), None)
    assert fed is not None and fed.device == META
    assert fed.shape == (2, batch["mels"].size(1) // model.r, N_MELS)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("placement"))


def _optimizer_tensors(optimizer):
    return [(k, v) for s in optimizer.state_dict()["state"].values() for k, v in s.items()
            if torch.is_tensor(v) and k != "step"]  # Adam keeps its step counter on the CPU by design


def _assert_rng_is_the_checkpoints(state: dict) -> None:
    assert torch.equal(torch.get_rng_state(), state["rng"]["torch"])
    assert np.array_equal(np.random.get_state()[1], state["rng"]["numpy"]["keys"].numpy().astype(np.uint32))


def test_tts_checkpoint_resumes_onto_another_device_with_rng_on_the_cpu(corpus, tmp_path):
    out = tmp_path / "train"
    conf = tiny_conf("gst", max_steps=10)
    train_tts(conf, corpus["data_root"], corpus["tokens"], corpus["dump"], out, threads=1, stop_after=5)
    saved = ckpt.load_checkpoint(out / "checkpoints" / "step_5.pt")
    tts = tts_conf_of(conf)
    tokens = read_token_list(corpus["tokens"] / "token_list")
    speakers = read_speakers(corpus["data_root"] / "train" / "utt2spk")
    sets = [load_split(corpus["data_root"], corpus["tokens"], corpus["dump"], split, tokens, speakers,
                       conf["emotions"], n_mels=N_MELS) for split in ("train", "dev")]
    model = build_model("gst", tts["model_conf"], len(tokens), len(speakers), len(conf["emotions"]), N_MELS)
    trainer = Trainer(model, sets[0], sets[1], tts["train"], out, device=META)
    torch.manual_seed(123)  # anything but the checkpoint's stream
    state = trainer.resume()
    assert state is not None and trainer.step == 5 and trainer.resumed_from == 5
    assert {p.device for p in model.parameters()} == {META}
    tensors = _optimizer_tensors(trainer.optimizer)
    assert tensors and all(v.device == META for _, v in tensors)
    _assert_rng_is_the_checkpoints(saved)


def test_vocoder_checkpoint_resumes_onto_another_device_with_rng_on_the_cpu(tmp_path):
    from vocoder_fixtures import FEATS, make_corpus as make_vocoder_corpus, tiny_train_conf, train_tiny

    from pytorch_backend.vocoders import VOCODERS
    from pytorch_backend.vocoders.train import VocoderTrainer, resolve_train_conf

    data = make_vocoder_corpus(tmp_path / "corpus")
    out = tmp_path / "voc"
    train_tiny("hifigan", data, out, max_steps=2)
    saved = ckpt.load_checkpoint(out / "checkpoints" / "step_2.pt")
    cls = VOCODERS["hifigan"]
    trainer = VocoderTrainer(cls, resolve_train_conf(cls, tiny_train_conf("hifigan", max_steps=2), "x.yaml"),
                             FEATS, out, device="meta", progress=False)
    torch.manual_seed(123)
    assert trainer.resume() is not None and trainer.step == 2
    params = list(trainer.generator.parameters()) + list(trainer.discriminator.parameters())
    assert {p.device for p in params} == {META}
    for opt in (trainer.opt_g, trainer.opt_d):
        tensors = _optimizer_tensors(opt)
        assert tensors and all(v.device == META for _, v in tensors)
    _assert_rng_is_the_checkpoints(saved)


def test_emotion_classifier_checkpoint_resumes_onto_another_device_with_rng_on_the_cpu(tmp_path):
    from ser_fixtures import SER_CONF, ser_step_conf, tiny_setup

    from pytorch_backend.feats.stats import load_stats
    from pytorch_backend.ser import build_classifier
    from pytorch_backend.ser.data import load_labelled_set
    from pytorch_backend.ser.train import SPLITS, ClassifierTrainer, ser_settings, train_ser

    setup = tiny_setup(tmp_path, train_ser=False, eval_per_emotion=1)
    conf = ser_step_conf({**SER_CONF, "train": {**SER_CONF["train"], "save_interval": 4, "max_steps": 8}})
    assert train_ser(conf, setup["data"], setup["dump"], setup["ser"], progress=False, stop_after=4) is None
    saved = ckpt.load_checkpoint(setup["ser"] / "checkpoints" / "step_4.pt")
    name, model_conf, tc = ser_settings(conf["ser"])
    mean, std = load_stats(setup["dump"] / "stats.npz")
    sets = {s: load_labelled_set(setup["dump"] / s / "feats.scp", setup["data"] / s / "utt2emo", conf["emotions"],
                                 np.asarray(mean, np.float32), np.asarray(std, np.float32)) for s in SPLITS}
    model = build_classifier(name, model_conf, len(conf["emotions"]), 80).to(META)
    trainer = ClassifierTrainer(model, sets, tc, setup["ser"], META,
                                {"emotions": conf["emotions"], "n_mels": 80}, progress=False)
    torch.manual_seed(123)
    assert trainer.resume() is not None and trainer.step == 4
    assert {p.device for p in model.parameters()} == {META}
    tensors = _optimizer_tensors(trainer.optim)
    assert tensors and all(v.device == META for _, v in tensors)
    _assert_rng_is_the_checkpoints(saved)


def test_rng_state_of_a_checkpoint_loaded_onto_a_device_is_restored(tmp_path, monkeypatch):
    """set_rng_state takes a state whatever device its tensors were loaded onto (a CUDA
    map_location): it moves them to the CPU first (shown with tensors whose ``.numpy()``
    refuses to run, as a CUDA tensor's does)."""

    class OnDevice(torch.Tensor):
        def numpy(self, *args, **kwargs):
            raise TypeError("can't convert a device tensor to numpy: copy it to the host first")

        def tolist(self):
            raise TypeError("device tensor")

    torch.manual_seed(5)
    state = train_device.get_rng_state()
    expected = float(torch.rand(()))
    on_device = copy.deepcopy(state)
    on_device["python"]["state"] = on_device["python"]["state"].as_subclass(OnDevice)
    on_device["numpy"]["keys"] = on_device["numpy"]["keys"].as_subclass(OnDevice)
    real_to = torch.Tensor.to

    def to(self, *args, **kwargs):  # the copy to the host gives a plain tensor back
        return real_to(self.as_subclass(torch.Tensor), *args, **kwargs)

    monkeypatch.setattr(OnDevice, "to", to, raising=False)
    train_device.set_rng_state(on_device)
    assert float(torch.rand(())) == expected


@contextlib.contextmanager
def _spy_fork_rng(calls: list):
    real = torch.random.fork_rng

    @contextlib.contextmanager
    def spy(devices=None, enabled=True, *args, **kwargs):
        calls.append(list(devices) if devices is not None else None)
        with real(devices=[], enabled=enabled):
            yield

    torch.random.fork_rng = spy
    try:
        yield
    finally:
        torch.random.fork_rng = real


def test_forked_rng_saves_and_restores_every_cuda_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: None)  # no CUDA to seed here
    calls: list = []
    with _spy_fork_rng(calls):
        with train_device.forked_rng(3):
            pass
    assert calls == [[0, 1]]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert train_device.rng_fork_devices() == []


def test_tts_validation_forks_the_cuda_generators(corpus, tmp_path, monkeypatch):
    """The trainer's validation reseeds inside a fork that covers the CUDA devices too (with
    ``devices=[]`` it would reset the CUDA generator at every validation)."""
    conf = tiny_conf("gst")
    tts = tts_conf_of(conf)
    tokens = read_token_list(corpus["tokens"] / "token_list")
    speakers = read_speakers(corpus["data_root"] / "train" / "utt2spk")
    sets = [load_split(corpus["data_root"], corpus["tokens"], corpus["dump"], split, tokens, speakers,
                       conf["emotions"], n_mels=N_MELS) for split in ("train", "dev")]
    model = build_model("gst", tts["model_conf"], len(tokens), len(speakers), len(conf["emotions"]), N_MELS)
    trainer = Trainer(model, sets[0], sets[1], tts["train"], tmp_path / "train")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: None)
    calls: list = []
    with _spy_fork_rng(calls):
        trainer.run_validation()
    assert calls and all(c == [0] for c in calls)

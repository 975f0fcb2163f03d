"""The headline experiment confs (conf/exp/*.yaml) are at the published size and schedule of their
backend: each resolves through the experiment config resolution, builds its model, and has the
parameter count its comment states (within 2%); the sizes and schedules are the papers'."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytorch_backend.tts import build_model

try:  # the workflow layer resolves experiments; older trees kept it in pytorch_backend.config
    from pipeline.resolve import list_confs, resolve_experiment
except ImportError:  # pragma: no cover
    from pytorch_backend.config import list_confs, resolve_experiment

REPO = Path(__file__).resolve().parent.parent
CONF = REPO / "conf"
N_TOKENS = 80  # a small fixed vocabulary (a phoneme set is about this size)
SPEAKERS = {"blizzard13": 1, "esd": 10, "iemocap": 10, "ljspeech": 1}  # train speakers of each corpus

TACOTRON2 = {"embed_dim": 512, "enc_conv_layers": 3, "enc_conv_channels": 512, "enc_conv_kernel": 5,
             "enc_lstm_dim": 512, "attn_dim": 128, "loc_channels": 32, "loc_kernel": 31,
             "prenet_dims": [256, 256], "attn_rnn_dim": 1024, "decoder_rnn_dim": 1024, "context_feedback": True,
             "postnet_layers": 5, "postnet_channels": 512, "postnet_kernel": 5, "enc_dropout": 0.5,
             "prenet_dropout": 0.5, "postnet_dropout": 0.5,
             "alignment": "attention"}  # Shen et al. 2018 (the CPU confs learn durations instead)
PUBLISHED = {
    "tacotron2": TACOTRON2,
    "emo_dnn": TACOTRON2,
    "gst": {**TACOTRON2, "gst_tokens": 10, "gst_heads": 4, "style_dim": 256,  # Wang et al. 2018
            "ref_channels": [32, 32, 64, 64, 128, 128], "ref_kernel": 3, "ref_gru_dim": 128},
    "fastspeech2": {"dim": 256, "heads": 2, "enc_layers": 4, "dec_layers": 4, "ffn_hidden": 1024,  # Ren et al.
                    "ffn_kernels": [9, 1], "predictor_channels": 256, "predictor_kernel": 3,
                    "predictor_dropout": 0.5, "postnet_layers": 0},
}
# (scheduler, warmup, min lr, utterances per batch, Adam betas, eps)
SCHEDULES = {"tacotron2": ("exponential", 0, 1.0e-5, 64, [0.9, 0.999], 1.0e-6),
             "fastspeech2": ("noam", 4000, None, 48, [0.9, 0.98], 1.0e-9)}
SOURCES = {"tacotron2": ["Shen et al. 2018"], "emo_dnn": ["Shen et al. 2018"],
           "gst": ["Wang et al. 2018", "Shen et al. 2018"], "fastspeech2": ["Ren et al. 2020"]}


def _headline():
    corpora, models = list_confs(CONF, "corpus"), list_confs(CONF, "tts")
    out = []
    for path in sorted((CONF / "exp").glob("*.yaml")):
        pairs = [(c, path.stem[len(c) + 1:]) for c in corpora if path.stem.startswith(c + "_")]
        pairs = [(c, m) for c, m in pairs if m in models]
        assert len(pairs) == 1, f"{path.name}: not <corpus>_<model> of conf/corpus and conf/tts"
        out.append((path, *pairs[0]))
    return out


HEADLINE = _headline()


def test_the_four_headline_experiments_are_there():
    assert sorted(p.stem for p, _, _ in HEADLINE) == ["blizzard13_gst", "esd_fastspeech2", "iemocap_emo_dnn",
                                                      "ljspeech_tacotron2"]


@pytest.mark.parametrize("path,corpus,model", HEADLINE, ids=[p.stem for p, _, _ in HEADLINE])
def test_headline_model_has_the_parameter_count_its_conf_states(path, corpus, model):
    text = path.read_text()
    stated = re.search(r"Parameters: ([0-9.]+) M", text)
    assert stated, f"{path.name}: the comment must state 'Parameters: <millions> M'"
    stated = float(stated.group(1)) * 1e6
    resolved = resolve_experiment(CONF, corpus, model)
    tts = resolved["tts"]
    net = build_model(tts["model"], tts["model_conf"], N_TOKENS, SPEAKERS[corpus], len(resolved["corpus"]["emotions"]),
                      resolved["feats"]["n_mels"], source=path)
    count = sum(p.numel() for p in net.parameters())
    assert abs(count - stated) / stated < 0.02, f"{path.name}: {count / 1e6:.2f} M built, {stated / 1e6:.2f} M stated"


@pytest.mark.parametrize("path,corpus,model", HEADLINE, ids=[p.stem for p, _, _ in HEADLINE])
def test_headline_conf_uses_the_published_sizes_and_schedule(path, corpus, model):
    resolved = resolve_experiment(CONF, corpus, model)
    tts = resolved["tts"]
    mc, train = tts["model_conf"], tts["train"]
    for key, value in PUBLISHED[tts["model"]].items():
        assert mc.get(key) == value, f"{path.name}: model_conf.{key} = {mc.get(key)!r}, published {value!r}"
    name, warmup, min_lr, batch, betas, eps = SCHEDULES.get(tts["model"], SCHEDULES["tacotron2"])
    sched, opt = train["scheduler"], train["optimizer"]
    assert (sched["name"], sched["warmup_steps"]) == (name, warmup)
    if min_lr is not None:
        assert sched["min_lr"] == min_lr
    assert opt["lr"] == 1.0e-3 and opt["betas"] == betas and opt["eps"] == eps
    assert train["max_batch_size"] == batch
    assert train["batch_frames"] >= batch * 500  # room for `batch` utterances of ~6 s
    assert train["max_minutes"] is None and train["max_steps"] >= 100000
    text = path.read_text()
    for source in SOURCES[tts["model"]]:
        assert source in text, f"{path.name}: the comment must name its source ({source})"
    assert "model sizes stay" not in text

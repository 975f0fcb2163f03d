"""The intelligibility judge: text normalization, edit distance, the CTC recognizers, their
training (a few steps on a tiny eSpeak corpus), resume, decoding, and bad inputs."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from pytorch_backend.asr import RECOGNIZERS
from pytorch_backend.asr.data import bucket_batches, load_transcribed_set, read_texts
from pytorch_backend.asr.infer import Recognizer
from pytorch_backend.asr.model import ConvBiGRU, ConvCTC, greedy_decode
from pytorch_backend.asr.train import train_asr, warmup_cosine
from pytorch_backend.asr.vocab import CharVocab, asr_text
from pytorch_backend.errors import ConfigError, DataError
from pytorch_backend.feats.stats import load_stats
from pytorch_backend.utils.edit_distance import edit_distance, error_rate
from tests.judge_fixtures import ASR_CONF, asr_step_conf, transcribed_setup

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    torch.set_num_threads(1)
    return transcribed_setup(tmp_path_factory.mktemp("asr"))


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("asr_exp") / "asr"
    result = train_asr(asr_step_conf(), corpus["data"], corpus["dump"], out, progress=False)
    return out, result


# -- text and distances ------------------------------------------------------------------------
def test_asr_text_is_cleaned_text_without_punctuation():
    assert asr_text("Hello, World! It's 5 o'clock.") == "hello world it's five o'clock"
    assert asr_text("Dr. Smith paid $3.50 -- really?") == "doctor smith paid three dollars fifty cents really"
    assert asr_text("'quoted'  words") == "quoted words"
    assert asr_text("?!") == ""


def test_vocab_encodes_decodes_and_names_unknown_characters():
    vocab = CharVocab.from_texts(["the cat", "a dog"])
    assert vocab.chars == [" ", "a", "c", "d", "e", "g", "h", "o", "t"] and len(vocab) == 10
    ids = vocab.encode("a cat")
    assert ids == [2, 1, 3, 2, 9] and vocab.decode(ids) == "a cat"
    assert vocab.decode([0, 2, 0, 0, 99, 1, 1]) == "a"  # blanks and unknown ids dropped, spaces collapsed
    with pytest.raises(KeyError, match="'z'"):
        vocab.encode("zebra")
    with pytest.raises(ValueError):
        CharVocab(["a", "a"])


def test_edit_distance_on_known_strings():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3 and edit_distance("abc", "") == 3
    assert edit_distance("flaw", "lawn") == 2
    assert edit_distance("the cat sat".split(), "the cat sat down".split()) == 1
    assert edit_distance("abc", "abc") == 0


def test_error_rate_is_total_edits_over_total_reference_length():
    r = error_rate(["abcd", "ef"], ["abxd", ""])  # 1 + 2 edits over 6 characters
    assert r == {"errors": 3, "ref_length": 6, "rate": 0.5}
    assert error_rate([], [])["rate"] is None
    with pytest.raises(ValueError):
        error_rate(["a"], [])


def test_greedy_decode_merges_repeats_and_drops_blanks():
    # frames: a a _ a b b _ _ c (pad pad); blank between the two a's keeps both
    path = [1, 1, 0, 1, 2, 2, 0, 0, 3, 3, 3]
    lp = torch.full((1, len(path), 4), -10.0)
    lp[0, torch.arange(len(path)), torch.tensor(path)] = 0.0
    assert greedy_decode(lp, torch.tensor([9])) == [[1, 1, 2, 3]]
    assert greedy_decode(lp, torch.tensor([2])) == [[1]]


def test_warmup_cosine_schedule():
    assert warmup_cosine(0, 10, 100, 0.1) == pytest.approx(0.1)
    assert warmup_cosine(9, 10, 100, 0.1) == pytest.approx(1.0)
    assert warmup_cosine(10, 10, 100, 0.1) == pytest.approx(1.0)
    assert warmup_cosine(55, 10, 100, 0.1) == pytest.approx(0.55)
    assert warmup_cosine(100, 10, 100, 0.1) == pytest.approx(0.1)


# -- models ------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [ConvCTC, ConvBiGRU])
def test_models_give_one_frame_per_two_and_ignore_padding(cls):
    torch.manual_seed(0)
    model = cls(vocab_size=12, n_mels=20, channels=16, **({"num_blocks": 2} if cls is ConvCTC else {"hidden": 8}))
    model.eval()
    x = torch.randn(2, 41, 20)
    lengths = torch.tensor([41, 30])
    lp, out_len = model(x, lengths)
    assert lp.shape == (2, 21, 12) and out_len.tolist() == [21, 15]
    assert torch.allclose(lp.exp().sum(-1), torch.ones(2, 21), atol=1e-5)
    alone, alone_len = model(x[1:2, :30], lengths[1:2])  # the padded one, scored alone
    assert alone_len.tolist() == [15]
    assert torch.allclose(lp[1, :15], alone[0], atol=1e-5)


def test_spec_augment_only_in_training():
    model = ConvCTC(vocab_size=5, n_mels=10, channels=8, num_blocks=1, freq_mask=4, time_mask=4)
    x = torch.randn(3, 50, 10)
    lengths = torch.tensor([50, 50, 40])
    model.eval()
    assert torch.equal(model.spec_augment(x, lengths), x)
    model.train()
    torch.manual_seed(1)
    masked = model.spec_augment(x, lengths)
    assert (masked == 0).any() and not torch.equal(masked, x)


def test_model_device_handling_on_meta():
    # what runs on CUDA is placed by .to(device): check it on the meta device (no data needed)
    model = ConvCTC(vocab_size=7, n_mels=16, channels=8, num_blocks=2).to("meta").eval()
    lp, out_len = model(torch.empty(2, 30, 16, device="meta"), torch.tensor([30, 20], device="meta"))
    assert lp.device.type == "meta" and out_len.device.type == "meta" and lp.shape == (2, 15, 7)
    rec = Recognizer(ConvCTC(vocab_size=7, n_mels=16, channels=8, num_blocks=1), CharVocab("abcdef"),
                     np.zeros(16), np.ones(16), device="meta")
    assert all(p.device.type == "meta" for p in rec.model.parameters())


def test_unknown_keyword_and_bad_value_are_config_errors():
    with pytest.raises(ConfigError, match=r"conf/eval\.yaml.*asr\.model_conf\.chanels"):
        RECOGNIZERS.build("conv_ctc", {"chanels": 8}, "conf/eval.yaml", vocab_size=5, n_mels=10)
    with pytest.raises(ConfigError, match=r"asr\.model"):
        RECOGNIZERS.build("wav2vec", {}, "conf/eval.yaml", vocab_size=5, n_mels=10)
    with pytest.raises(ConfigError, match="kernel_size"):
        RECOGNIZERS.build("conv_ctc", {"kernel_size": 4}, "conf/eval.yaml", vocab_size=5, n_mels=10)


def test_bucket_batches_cover_every_item_once():
    torch.manual_seed(0)
    lengths = [5, 50, 7, 40, 9, 30, 11, 20, 13]
    batches = bucket_batches(lengths, 2)
    assert sorted(i for b in batches for i in b) == list(range(9))
    assert all(len(b) <= 2 for b in batches)


# -- data errors -------------------------------------------------------------------------------
def test_text_errors_name_file_line_and_utterance(tmp_path, corpus):
    bad = tmp_path / "text"
    bad.write_text("u1 hello there\nu2 ?!\n")
    with pytest.raises(DataError, match=r"/text:2 \(utterance u2\): the text has no characters"):
        read_texts(bad, "en")
    bad.write_text("u1 hello\nu1 again\n")
    with pytest.raises(DataError, match=r"/text:2 \(utterance u1\): duplicate"):
        read_texts(bad, "en")
    mean, std = load_stats(corpus["dump"] / "stats.npz")
    bad.write_text("m1-eval-00 the red dog ran\nnobody-utt hello\n")
    with pytest.raises(DataError, match=r"feats\.scp \(utterance nobody-utt\): no features"):
        load_transcribed_set(corpus["dump"] / "eval" / "feats.scp", bad, "en", mean, std)


# -- training ----------------------------------------------------------------------------------
def test_training_writes_model_and_scores_real_eval(trained, corpus):
    out, result = trained
    for name in ("model.pt", "asr.json", "curves.png", "done"):
        assert (out / name).is_file(), name
    on_disk = json.loads((out / "asr.json").read_text())
    assert on_disk["steps"] == 40 and on_disk["stopped"] == "max_steps" and on_disk["num_utts"] == 4
    assert on_disk["chars"] == " acdeghnorst"  # the train text's characters
    losses = [row["loss"] for row in on_disk["history"]["train"]]
    assert len(losses) == 4 and losses[-1] < 0.7 * losses[0]  # CTC loss falls within 40 steps
    assert [row["step"] for row in on_disk["history"]["dev"]] == [20, 40]
    # the recognizer reloads and its transcripts give the recorded CER
    rec = Recognizer.load(out / "model.pt")
    mean, std = load_stats(corpus["dump"] / "stats.npz")
    evalset = load_transcribed_set(corpus["dump"] / "eval" / "feats.scp", corpus["data"] / "eval" / "text",
                                   "en", mean, std)
    hyps = rec.decode_normalized(evalset.feats)
    assert error_rate(evalset.texts, hyps)["rate"] == pytest.approx(on_disk["cer"])
    assert 0.0 <= on_disk["cer"] <= 1.0 and all(set(h) <= set(on_disk["chars"]) for h in hyps)


def test_resumed_training_ends_where_an_uninterrupted_one_does(trained, corpus, tmp_path):
    out, result = trained
    assert train_asr(asr_step_conf(), corpus["data"], corpus["dump"], tmp_path, progress=False,
                     stop_after=17) is None  # killed after step 17: checkpoint of step 17 kept
    assert not (tmp_path / "done").exists() and (tmp_path / "checkpoints" / "step_17.pt").is_file()
    resumed = train_asr(asr_step_conf(), corpus["data"], corpus["dump"], tmp_path, progress=False)
    a = torch.load(out / "model.pt", weights_only=True)["model_state"]
    b = torch.load(tmp_path / "model.pt", weights_only=True)["model_state"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert resumed["cer"] == result["cer"] and resumed["dev_cer"] == result["dev_cer"]


def test_conf_edit_retrains_from_scratch(trained, corpus, tmp_path):
    train_asr(asr_step_conf(), corpus["data"], corpus["dump"], tmp_path, progress=False, stop_after=10)
    conf = asr_step_conf({**ASR_CONF, "model_conf": {**ASR_CONF["model_conf"], "channels": 32}})
    conf["asr"]["train"] = {**ASR_CONF["train"], "max_steps": 12}
    result = train_asr(conf, corpus["data"], corpus["dump"], tmp_path, progress=False)
    assert result["steps"] == 12 and list(tmp_path.glob("stale_*/checkpoints/step_10.pt"))


def test_step_reports_a_bad_conf_in_one_line(corpus, tmp_path):
    conf = asr_step_conf({"model": "conv_ctc", "model_conf": {"layers": 3}})
    proc = subprocess.Popen([sys.executable, "-m", "steps.train_asr", "--conf", json.dumps(conf), "--data-root",
                             str(corpus["data"]), "--dump", str(corpus["dump"]), "--out", str(tmp_path / "asr")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 1
    assert "ERROR: conf/eval.yaml" in err and "asr.model_conf.layers" in err
    assert not (tmp_path / "asr" / "done").exists()

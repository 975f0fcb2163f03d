"""Synthesis with trained models: every control of every backend through the Python API and the
``emotts synthesize`` command line, batched = one at a time, packed models (loaded in a fresh
directory, refused when truncated or edited), and the errors a bad request gets."""

import json
import os
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from pytorch_backend.errors import DataError
from pytorch_backend.synth import Request, RequestError, Synthesizer
from pytorch_backend.synth.cli import main as cli_main
from pytorch_backend.synth.export import pack_experiment
from pytorch_backend.synth.textemo import TextEmotion
from synth_fixtures import BACKENDS, build_bpe_experiment, build_experiments
from tts_fixtures import FEATS_CONF
from tests.process_group import run as run_in_group

REPO = Path(__file__).resolve().parent.parent
torch.set_num_threads(1)
TEXT = "Bad cab, face a bead! Dead deaf head."
LABEL_MODELS = ["tacotron2", "emo_dnn", "fastspeech2"]
LATENT_MODELS = ["gst", "vae", "emo_cvae"]


@pytest.fixture(scope="module")
def exps(tmp_path_factory):
    return build_experiments(tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="module")
def synths(exps):
    return {m: Synthesizer.load(d) for m, d in exps["exp"].items()}


def mels_of(synth, *requests, batch_size=16):
    return [r.mels for r in synth.synthesize(list(requests), batch_size=batch_size)]


def same(a, b, exact=True):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.shape == y.shape
        assert np.array_equal(x, y) if exact else np.allclose(x, y, atol=1e-4)


def ref_wav(path, seconds=0.5, f0=220.0):
    t = np.arange(int(seconds * FEATS_CONF["fs"])) / FEATS_CONF["fs"]
    sf.write(path, (0.3 * np.sin(2 * np.pi * f0 * t)).astype(np.float32), FEATS_CONF["fs"])
    return path


# -- the Python API, every backend ----------------------------------------------------------------
@pytest.mark.parametrize("model", BACKENDS)
def test_api_returns_waveforms_and_lists(synths, model):
    s = synths[model]
    wav, fs = s.synth(TEXT, emotion="happy", intensity=0.5)
    assert fs == 8000 and wav.dtype == np.float32 and wav.ndim == 1 and len(wav) > 0
    assert np.isfinite(wav).all() and np.abs(wav).max() <= 1.0
    out = s.synth(["Bad cab.", "Face a bead?", "Egg!"], speaker="spkB")
    assert isinstance(out, list) and len(out) == 3 and all(f == 8000 and len(w) > 0 for w, f in out)
    res = s.synthesize([Request(TEXT, emotion="happy", intensity=0.5)])[0]
    assert [x["text"] for x in res.sentences] == ["Bad cab, face a bead!", "Dead deaf head."]
    assert res.sentences[0]["soft_label"] == {"neutral": 0.5, "happy": 0.5, "sad": 0.0}
    assert [x["seed"] for x in res.sentences] == [1, 2] and res.sentences[0]["pause"] == 0.35
    pause = int(0.35 * fs)  # the two sentences are joined with the pause of '!'
    assert len(res.wav) >= pause + sum(m.shape[0] for m in res.mels) * FEATS_CONF["hop_length"] - 4 * 64 * 2
    info = s.info()
    assert info["emotions"] == ["neutral", "happy", "sad"] and info["speakers"] == ["spkA", "spkB"]
    assert info["emotion_auto"] and info["emotion_from_wav"] and info["model"] == model


@pytest.mark.parametrize("model", BACKENDS)
def test_intensity_zero_is_neutral_and_full_mix_is_the_label(synths, model):
    s = synths[model]
    neutral = mels_of(s, Request(TEXT, emotion="neutral"))[0]
    zero = mels_of(s, Request(TEXT, emotion="happy", intensity=0.0))[0]
    label = mels_of(s, Request(TEXT, emotion="happy"))[0]
    mix = mels_of(s, Request(TEXT, mix={"happy": 1.0, "sad": 0.0}))[0]
    half = mels_of(s, Request(TEXT, emotion="happy", intensity=0.5))[0]
    same(neutral, zero)
    same(label, mix)
    assert any(a.shape != b.shape or not np.allclose(a, b) for a, b in zip(half, label))
    assert mels_of(s, Request(TEXT, mix="happy=1,sad=0"))[0][0].shape == mix[0].shape  # the CLI spelling


@pytest.mark.parametrize("model", BACKENDS)
def test_inline_tags_give_sentences_their_own_label(synths, model):
    s = synths[model]
    res = s.synthesize([Request("<happy 0.8>Bad cab!</happy> <sad>Dead deaf head.</sad> Face a bead.",
                                emotion="neutral", intensity=0.5, seed=5)])[0]
    labels = [x["soft_label"] for x in res.sentences]
    assert labels[0] == {"neutral": 0.2, "happy": 0.8, "sad": 0.0}
    assert labels[1] == {"neutral": 0.5, "happy": 0.0, "sad": 0.5}  # no number: the request's intensity
    assert labels[2] == {"neutral": 1.0, "happy": 0.0, "sad": 0.0}
    assert [x["intended"] for x in res.sentences] == ["happy", "sad", "neutral"]
    # a tagged sentence is what the same sentence gets alone with that label and its seed
    alone = mels_of(s, Request("Dead deaf head.", emotion="sad", intensity=0.5, seed=6))[0]
    same(alone, res.mels[1:2], exact=False)  # (another batch: float rounding may differ)


@pytest.mark.parametrize("model", BACKENDS)
def test_emotion_auto_uses_the_text_classifier(exps, synths, model):
    s = synths[model]
    clf = TextEmotion.load(exps["textemo"] / "model.json")
    res = s.synthesize([Request("Bad cab! Dead deaf head?", emotion="auto")])[0]
    for sent in res.sentences:
        expected = clf.predict(sent["text"])
        assert list(sent["soft_label"].values()) == pytest.approx(expected.tolist(), abs=1e-4)
    assert res.sentences[0]["intended"] == "happy" and res.sentences[1]["intended"] == "sad"  # end marks


@pytest.mark.parametrize("model", BACKENDS)
def test_emotion_from_wav_sets_the_soft_label(exps, synths, model, tmp_path):
    s = synths[model]
    wav = ref_wav(tmp_path / "r.wav")
    res = s.synthesize([Request("Bad cab.", emotion_from_wav=str(wav))])[0]
    expected = s.emotion_of_wav(str(wav))
    assert list(res.sentences[0]["soft_label"].values()) == pytest.approx(expected.tolist(), abs=1e-4)
    assert expected.sum().item() == pytest.approx(1.0) and (expected > 0).all()
    # the same soft label given as a waveform array, and as (waveform at another rate, rate)
    audio, fs = sf.read(wav, dtype="float32")
    same(res.mels, mels_of(s, Request("Bad cab.", emotion_from_wav=audio))[0])
    up = np.interp(np.arange(2 * len(audio)) / 2.0, np.arange(len(audio)), audio).astype(np.float32)
    assert s.emotion_of_wav((up, 2 * fs)).tolist() == pytest.approx(expected.tolist(), abs=0.05)


@pytest.mark.parametrize("model", BACKENDS)
def test_batched_synthesis_equals_one_at_a_time(synths, model):
    s = synths[model]
    texts = ["Bad cab.", "Face a bead, dead deaf head!", "Egg?", "Beach badge cafe.", "Head fade."]
    reqs = [Request(t, emotion=e, seed=i) for i, (t, e) in enumerate(zip(texts, ["happy", "sad", "neutral",
                                                                                 "happy", "sad"]))]
    batched = mels_of(s, *reqs, batch_size=5)
    alone = mels_of(s, *reqs, batch_size=1)
    for a, b in zip(batched, alone):
        same(a, b, exact=False)


@pytest.mark.parametrize("model", LATENT_MODELS)
def test_reference_wav_for_latent_models(synths, model, tmp_path):
    s = synths[model]
    wav = ref_wav(tmp_path / "r.wav")
    res = s.synthesize([Request("Bad cab.", reference_wav=str(wav))])[0]
    assert res.sentences[0]["intended"] == "reference"
    # intensity 0 scales a reference style back to the neutral mean style
    same(mels_of(s, Request("Bad cab.", reference_wav=str(wav), intensity=0.0))[0],
         mels_of(s, Request("Bad cab.", emotion="neutral"))[0])
    assert not np.allclose(res.mels[0][:2], mels_of(s, Request("Bad cab.", reference_wav=str(wav), intensity=0.0))[0][0][:2])


@pytest.mark.parametrize("model", LABEL_MODELS)
def test_label_models_refuse_reference_and_token_weights(synths, model, tmp_path):
    s = synths[model]
    with pytest.raises(RequestError) as err:
        s.synth("Bad cab.", reference_wav=str(ref_wav(tmp_path / "r.wav")))
    assert err.value.field == "reference_wav" and f"'{model}'" in str(err.value)
    with pytest.raises(RequestError) as err:
        s.synth("Bad cab.", gst_weights=[1.0, 0.0, 0.0, 0.0])
    assert err.value.field == "gst_weights"


def test_gst_token_weights(synths):
    s = synths["gst"]
    one = mels_of(s, Request("Bad cab.", gst_weights=[0.0, 1.0, 0.0, 0.0]))[0]
    heads = mels_of(s, Request("Bad cab.", gst_weights="0,1,0,0;0,1,0,0"))[0]
    same(one, heads)  # one list = the same weights for every head
    with pytest.raises(RequestError) as err:
        s.synth("Bad cab.", gst_weights=[1.0, 0.0])
    assert err.value.field == "gst_weights" and "shape" in str(err.value)
    for model in ("vae", "emo_cvae"):
        with pytest.raises(RequestError) as err:
            mels_of(synths[model], Request("Bad cab.", gst_weights=[0.0, 1.0, 0.0, 0.0]))
        assert err.value.field == "gst_weights"


def test_cvae_prior_style(synths):
    res = synths["emo_cvae"].synthesize([Request("Bad cab.", emotion="sad", style="prior")])[0]
    assert res.sentences[0]["intended"] == "sad"
    assert not np.array_equal(res.mels[0][:3], mels_of(synths["emo_cvae"], Request("Bad cab.", emotion="sad"))[0][0][:3])
    with pytest.raises(RequestError) as err:
        synths["vae"].synth("Bad cab.", emotion="sad", style="prior")
    assert err.value.field == "style"
    with pytest.raises(RequestError) as err:
        synths["vae"].synth("Bad cab.", style="median")
    assert err.value.field == "style"


def test_fastspeech2_speed_pitch_and_energy(synths):
    s = synths["fastspeech2"]
    base = s.synthesize([Request("Bad cab face.")])[0]
    fast = s.synthesize([Request("Bad cab face.", speed=2.0)])[0]
    slow = s.synthesize([Request("Bad cab face.", speed=0.5)])[0]
    assert fast.mels[0].shape[0] < base.mels[0].shape[0] < slow.mels[0].shape[0]
    high = s.synthesize([Request("Bad cab face.", pitch_scale=1.5, energy_scale=1.3)])[0]
    assert high.mels[0].shape == base.mels[0].shape and not np.allclose(high.mels[0], base.mels[0])
    assert high.sentences[0]["pitch_shift"] > 0 and high.sentences[0]["energy_shift"] > 0
    for name in ("speed", "pitch_scale", "energy_scale"):
        with pytest.raises(RequestError) as err:
            synths["tacotron2"].synth("Bad cab.", **{name: 1.2})  # attention: no control of its timing
        assert err.value.field == name and "fastspeech2" in str(err.value) and "it has: none" in str(err.value)
        with pytest.raises(RequestError) as err:
            s.synth("Bad cab.", **{name: 0.0})
        assert err.value.field == name and "[0.25, 4]" in str(err.value)


def test_duration_tacotron_takes_speed_but_not_pitch_or_energy(synths):
    """gst here has alignment: durations (like conf/tts/gst.yaml): its durations can be scaled."""
    s = synths["gst"]
    assert s.info()["prosody"] == ["speed"]
    base = s.synthesize([Request("Bad cab face.")])[0]
    fast = s.synthesize([Request("Bad cab face.", speed=2.0)])[0]
    slow = s.synthesize([Request("Bad cab face.", speed=0.5)])[0]
    assert fast.mels[0].shape[0] < base.mels[0].shape[0] < slow.mels[0].shape[0]
    assert slow.sentences[0]["duration_scale"] == 2.0
    for name in ("pitch_scale", "energy_scale"):
        with pytest.raises(RequestError) as err:
            s.synth("Bad cab.", **{name: 1.2})
        assert err.value.field == name and "it has: speed" in str(err.value)


@pytest.mark.parametrize("kwargs,field,words", [
    ({"speaker": "spkZ"}, "speaker", "unknown speaker 'spkZ' (known: spkA, spkB)"),
    ({"emotion": "furious"}, "emotion", "unknown emotion 'furious'"),
    ({"intensity": 1.5}, "intensity", "[0, 1]"),
    ({"intensity": "loud"}, "intensity", "not a number"),
    ({"mix": {"happy": 0.5}}, "mix", "exactly two"),
    ({"mix": "happy=0.6,sad=0.6"}, "mix", "sum to 1"),
    ({"mix": "happy=0.5,joy=0.5"}, "mix", "unknown emotion 'joy'"),
    ({"mix": "happy"}, "mix", "label=weight"),
    ({"emotion": "sad", "mix": "happy=0.5,sad=0.5"}, "mix", "exclude each other"),
    ({"seed": "x"}, "seed", "not an integer"),
])
def test_bad_requests_name_the_field(synths, kwargs, field, words):
    with pytest.raises(RequestError) as err:
        synths["tacotron2"].synth("Bad cab.", **kwargs)
    assert err.value.field == field and words in str(err.value)


def test_marks_the_model_never_saw_fall_back_to_known_ones(synths):
    from types import SimpleNamespace

    from pytorch_backend.text.token_list import TokenList

    only_period = SimpleNamespace(token_list=TokenList(["<pad>", "<unk>", ".", "<space>", "a", "<eos>"]))
    fallback = Synthesizer.punctuation_fallback
    assert fallback(only_period, ["a", "!", "<space>", "a", "?", ",", ";", "a"]) == \
        ["a", ".", "<space>", "a", ".", ".", "a"]
    assert fallback(only_period, ["a", "ø"]) == ["a", "ø"]  # letters/phonemes are never replaced
    s = synths["tacotron2"]  # its token list has ! , . ? : ';' and ':' become ','
    same(mels_of(s, Request("Bad cab; dead head: egg."))[0], mels_of(s, Request("Bad cab, dead head, egg."))[0])


def test_bad_text_names_symbols_and_columns(synths, tmp_path):
    s = synths["fastspeech2"]
    with pytest.raises(RequestError) as err:
        s.synthesize([Request("Bad cab. Zebra jumps!", source="--text")])
    e = err.value
    assert e.field == "text" and e.column == 10 and "'z', 'r', 'j', 'u', 'm', 'p', 's'" in str(e)
    assert "--text, column 10" in str(e)
    with pytest.raises(RequestError) as err:
        s.synth("Bad <happy 0.8>cab")
    assert err.value.column == 5 and "never closed" in str(err.value)
    for text in ("", "   ", "!!! ...", "<happy>!</happy>"):
        with pytest.raises(RequestError) as err:
            s.synth(text)
        assert err.value.field == "text"
    with pytest.raises(TypeError, match="emotoin"):
        s.synth("Bad cab.", emotoin="happy")
    # as decoding an eval split does: unknown symbols said as <unk>, and recorded
    res = s.synthesize([Request("Bad cab. Zebra jumps!")], unknown="unk")[0]
    assert res.wav.size > 0 and "unknown_tokens" not in res.sentences[0]
    assert res.sentences[1]["unknown_tokens"] == ["z", "r", "j", "u", "m", "p", "s"]
    assert s.unknown_tokens("Zebra") == ["z", "r"] and s.unknown_tokens("Bad cab.") == []
    with pytest.raises(ValueError, match="unknown="):
        s.synthesize([Request("Bad cab.")], unknown="skip")


def test_emotion_auto_and_from_wav_need_their_classifiers(exps, tmp_path):
    d = tmp_path / "exp" / "tiny_gst"
    shutil.copytree(exps["exp"]["gst"], d)
    index = json.loads((d / "assets.json").read_text())
    for role in ("text_emotion", "ser"):
        del index["files"][role]
    index["files"] = {k: str((exps["exp"]["gst"] / v).resolve()) if not Path(v).is_absolute() else v
                      for k, v in index["files"].items()}
    (d / "assets.json").write_text(json.dumps(index))
    s = Synthesizer.load(d)
    with pytest.raises(RequestError) as err:
        s.synth("Bad cab.", emotion="auto")
    assert err.value.field == "emotion" and "text emotion classifier" in str(err.value)
    with pytest.raises(RequestError) as err:
        s.synth("Bad cab.", emotion_from_wav=str(ref_wav(tmp_path / "r.wav")))
    assert err.value.field == "emotion_from_wav"
    assert not s.info()["emotion_auto"] and not s.info()["emotion_from_wav"]


def test_stale_styles_and_edited_token_list_are_refused(exps, tmp_path):
    d = tmp_path / "exp" / "tiny_vae"
    shutil.copytree(exps["exp"]["vae"], d)
    torch.save({"emotions": ["neutral", "happy", "sad"], "model_sha256": "0" * 64, "means": torch.zeros(3, 4)},
               d / "styles.pt")
    index = json.loads((d / "assets.json").read_text())
    index["files"] = {k: v if k in ("styles", "model", "config", "results") else
                      str((exps["exp"]["vae"] / v).resolve()) for k, v in index["files"].items()}
    (d / "assets.json").write_text(json.dumps(index))
    with pytest.raises(DataError) as err:
        Synthesizer.load(d)
    assert "styles.pt" in str(err.value) and "another model" in str(err.value)
    shutil.copy(exps["exp"]["vae"] / "styles.pt", d / "styles.pt")
    tokens = Path(index["files"]["token_list"]).read_text()
    (d / "token_list").write_text(tokens.replace("<space>\n", ""))
    index["files"]["token_list"] = "token_list"
    (d / "assets.json").write_text(json.dumps(index))
    with pytest.raises(DataError) as err:
        Synthesizer.load(d)
    assert "token_list" in str(err.value) and "differs" in str(err.value)
    (d / "assets.json").unlink()
    with pytest.raises(DataError) as err:
        Synthesizer.load(d)
    assert "assets.json" in str(err.value) and "snakemake" in str(err.value)


def test_vocoders(synths):
    s = synths["gst"]
    assert s.vocoder_names() == ["griffin_lim", "hifigan"] and s.vocoder_name == "griffin_lim"
    wav, fs = s.synth("Bad cab.", vocoder="hifigan")
    res = s.synthesize([Request("Bad cab.")], vocoder="hifigan")[0]
    assert len(wav) == len(res.wav) and fs == 8000
    with pytest.raises(RequestError) as err:
        synths["vae"].synth("Bad cab.", vocoder="hifigan")
    assert err.value.field == "vocoder" and "griffin_lim" in str(err.value)


# -- the command line -----------------------------------------------------------------------------
def run_cli(capsys, *argv):
    code = cli_main(["synthesize", *map(str, argv)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("model,options", [
    ("tacotron2", ["--emotion", "happy", "--intensity", "0.5", "--speaker", "spkB", "--seed", "3"]),
    ("emo_dnn", ["--mix", "happy=0.7,sad=0.3"]),
    ("fastspeech2", ["--emotion", "auto", "--speed", "1.5", "--pitch-scale", "1.2", "--energy-scale", "0.8"]),
    ("emo_cvae", ["--emotion", "sad", "--style", "prior"]),
    ("gst", ["--gst-weights", "0,1,0,0", "--vocoder", "hifigan", "--batch-size", "1"]),
    ("vae", ["--reference-wav", "REF", "--intensity", "0.5"]),
    ("tacotron2", ["--emotion-from-wav", "REF"]),
])
def test_cli_controls(exps, capsys, tmp_path, model, options):
    ref = ref_wav(tmp_path / "ref.wav")
    options = [str(ref) if o == "REF" else o for o in options]
    out = tmp_path / "out.wav"
    code, err = run_cli(capsys, "-m", exps["exp"][model], "--text", TEXT, "-o", out, *options)
    assert code == 0, err
    wav, fs = sf.read(out, dtype="float32")
    assert fs == 8000 and len(wav) > 0 and "2 sentence(s)" in err


def test_cli_text_to_out_dir(exps, capsys, tmp_path):
    code, err = run_cli(capsys, "-m", exps["exp"]["gst"], "--text", TEXT, "--out-dir", tmp_path / "d")
    assert code == 0, err
    assert (tmp_path / "d" / "utt0001.wav").is_file() and (tmp_path / "d" / "synth.json").is_file()


def test_cli_text_file_with_per_line_controls(exps, capsys, tmp_path):
    ref = ref_wav(tmp_path / "ref.wav")
    lines = tmp_path / "lines.txt"
    lines.write_text("# greetings\nBad cab.\n[emotion=happy intensity=0.8 id=won] Face a bead!\n"
                     f"[mix=happy=0.7,sad=0.3 speaker=spkB seed=9] <sad>Dead deaf head.</sad> Egg?\n"
                     f"[emotion_from_wav={ref.name} id=heard] Beach badge.\n")
    out = tmp_path / "wavs"
    code, err = run_cli(capsys, "-m", exps["exp"]["emo_dnn"], "--text-file", lines, "--out-dir", out,
                        "--emotion", "sad")
    assert code == 0, err
    assert sorted(p.name for p in out.glob("*.wav")) == ["heard.wav", "utt0001.wav", "utt0003.wav", "won.wav"]
    record = json.loads((out / "synth.json").read_text())
    utts = {u["id"]: u for u in record["utterances"]}
    assert utts["utt0001"]["sentences"][0]["soft_label"]["sad"] == 1.0  # the command's --emotion
    assert utts["won"]["sentences"][0]["soft_label"] == {"neutral": 0.2, "happy": 0.8, "sad": 0.0}
    mixed = utts["utt0003"]["sentences"]
    assert mixed[0]["soft_label"]["sad"] == 1.0 and mixed[1]["soft_label"] == {"neutral": 0.0, "happy": 0.7,
                                                                             "sad": 0.3}
    assert mixed[0]["speaker"] == "spkB" and [x["seed"] for x in mixed] == [9, 10]
    assert sum(utts["heard"]["sentences"][0]["soft_label"].values()) == pytest.approx(1.0, abs=1e-3)
    scp = dict(line.split() for line in (out / "wav.scp").read_text().splitlines())
    assert Path(scp["won"]).is_file() and len(scp) == 4
    # -o joins the lines with pauses
    code, err = run_cli(capsys, "-m", exps["exp"]["emo_dnn"], "--text-file", lines, "-o", tmp_path / "all.wav",
                        "--emotion", "sad")
    assert code == 0, err
    total = sum(len(sf.read(p)[0]) for p in out.glob("*.wav"))
    assert len(sf.read(tmp_path / "all.wav")[0]) == total + 3 * int(0.6 * 8000)


@pytest.mark.parametrize("argv,words", [
    (["--text", "Bad <happy cab"], "--text, column 5: text: '<' outside a well-formed tag"),
    (["--text", "Bad <joy>cab</joy>"], "--text, column 5: text: unknown emotion tag <joy>"),
    (["--text", "Zebra."], "symbols outside the model's token list: 'z', 'r'"),
    (["--text", "Bad cab.", "--emotion", "furious"], "emotion: unknown emotion 'furious'"),
    (["--text", "Bad cab.", "--reference-wav", "REF"], "reference_wav: model 'tacotron2' does not support"),
    (["--text", "Bad cab.", "--speed", "2"], "speed: model 'tacotron2' has no speed control"),
    (["--text", "Bad cab.", "--emotion-from-wav", "MISSING"], "emotion_from_wav: audio file not found"),
    (["--text", "Bad cab.", "--vocoder", "melgan"], "vocoder: unknown vocoder 'melgan'"),
    (["--text-file", "BADFILE"], "bad.txt:2, column 2: text: unknown control 'emotoin'"),
    (["--text-file", "BADEMO"], "emo.txt:1: emotion: unknown emotion 'joy'"),
    (["--text-file", "BADID"], "ids.txt:2: id: 'a' already names line 1"),
])
def test_cli_errors_are_one_line_naming_the_place(exps, capsys, tmp_path, argv, words):
    (tmp_path / "bad.txt").write_text("Bad cab.\n[emotoin=happy] Cab.\n")
    (tmp_path / "emo.txt").write_text("[emotion=joy] Bad cab.\n")
    (tmp_path / "ids.txt").write_text("[id=a] Bad.\n[id=a] Cab.\n")
    subs = {"REF": str(ref_wav(tmp_path / "r.wav")), "MISSING": str(tmp_path / "missing.wav"),
            "BADFILE": str(tmp_path / "bad.txt"), "BADEMO": str(tmp_path / "emo.txt"),
            "BADID": str(tmp_path / "ids.txt")}
    argv = [subs.get(a, a) for a in argv]
    out = ["--out-dir", tmp_path / "o"] if "--text-file" in argv else ["-o", tmp_path / "x.wav"]
    code, err = run_cli(capsys, "-m", exps["exp"]["tacotron2"], *argv, *out)
    assert code == 1 and words in err, err
    assert err.count("ERROR:") == 1 and not (tmp_path / "x.wav").exists()


def test_cli_usage_errors(exps, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli_main(["synthesize", "-m", str(exps["exp"]["gst"]), "--text", "x"])  # no output given
    assert exit_.value.code == 2
    assert "-o/--out" in capsys.readouterr().err


def test_cli_info(exps, capsys):
    assert cli_main(["info", "-m", str(exps["exp"]["fastspeech2"])]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["model"] == "fastspeech2" and info["prosody"] and info["vocoders"] == ["griffin_lim"]


# -- packed models ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def packs(exps, tmp_path_factory):
    out = tmp_path_factory.mktemp("packs")
    return {m: (pack_experiment(exps["exp"][m], out / f"{m}.zip"), out / f"{m}.zip") for m in ("gst", "fastspeech2")}


def test_pack_holds_everything_with_a_manifest(packs):
    manifest, path = packs["gst"]
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert names == {"manifest.json", "pack.json", "model.pt", "config.yaml", "token_list", "stats.npz",
                         "styles.pt", "text_emotion.json", "ser.pt", "results.md", "speakers.txt", "emotions.txt",
                         "vocoders/hifigan.pt"}
        for name in ("model.pt", "styles.pt", "ser.pt", "vocoders/hifigan.pt"):
            import io

            torch.load(io.BytesIO(zf.read(name)), weights_only=True)  # plain tensors, no pickled objects
        assert json.loads(zf.read("text_emotion.json"))["format"] == "emotts-text-emotion"
        assert zf.read("speakers.txt").decode().split() == ["spkA", "spkB"]
        info = json.loads(zf.read("pack.json"))
        assert info["vocoders"] == ["hifigan"] and info["model"] == "gst" and info["exp"] == "tiny_gst"
    import hashlib

    with zipfile.ZipFile(path) as zf:
        for name, entry in manifest["members"].items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == entry["sha256"]


@pytest.mark.parametrize("model", ["gst", "fastspeech2"])
def test_pack_synthesizes_like_the_exp_dir(synths, packs, model):
    packed = Synthesizer.load(packs[model][1])
    req = Request(TEXT, emotion="happy", intensity=0.5)
    same(mels_of(packed, req)[0], mels_of(synths[model], req)[0])
    assert packed.info()["source"] == str(packs[model][1])


def test_pack_loads_in_a_fresh_directory_through_the_console_script(packs, tmp_path):
    fresh = tmp_path / "elsewhere"
    fresh.mkdir()
    shutil.copy(packs["gst"][1], fresh / "model.zip")
    (fresh / "lines.txt").write_text("<happy>Bad cab!</happy>\n[emotion=sad] Dead deaf head.\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    emotts = Path(sys.executable).parent / "emotts"
    if not emotts.exists():
        pytest.skip("the console script is not installed (pip install -e .)")
    proc = run_in_group([str(emotts), "synthesize", "-m", "model.zip", "--text-file", "lines.txt", "--out-dir",
                           "wavs", "--vocoder", "hifigan"], cwd=fresh, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(p.name for p in (fresh / "wavs").glob("*.wav")) == ["utt0001.wav", "utt0002.wav"]
    assert not (fresh / "exp").exists() and "ERROR" not in proc.stderr


def test_steps_synthesize_module(exps, tmp_path):
    proc = run_in_group([sys.executable, "-m", "steps.synthesize", "-m", str(exps["exp"]["fastspeech2"]),
                           "--text", "Bad cab!", "--emotion", "happy", "-o", str(tmp_path / "a.wav")], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sf.info(str(tmp_path / "a.wav")).samplerate == 8000
    bad = run_in_group([sys.executable, "-m", "steps.synthesize", "-m", str(tmp_path / "nothing.zip"), "--text",
                          "x", "-o", str(tmp_path / "b.wav")], cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 1 and "nothing.zip: no such model" in bad.stderr


def _rewrite(src: Path, dst: Path, edit) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = edit(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(item.filename, data)


@pytest.mark.parametrize("case,words", [
    ("truncated", "truncated: member"),
    ("truncated_end", "zip directory is missing"),
    ("edited", "config.yaml: member does not match its size/sha256"),
    ("extra", "notes.txt: member not in the manifest"),
    ("missing", "styles.pt: member listed in the manifest is missing"),
    ("no_manifest", "manifest.json: missing"),
    ("not_zip", "not a zip archive"),
])
def test_damaged_packs_are_refused_naming_the_member(packs, tmp_path, case, words):
    src = packs["gst"][1]
    bad = tmp_path / "bad.zip"
    data = src.read_bytes()
    if case == "truncated":
        with zipfile.ZipFile(src) as zf:
            info = zf.getinfo("model.pt")
        bad.write_bytes(data[:info.header_offset + 100])
        words = "truncated: member 'model.pt' is cut off"
    elif case == "truncated_end":
        bad.write_bytes(data[:-30])
    elif case == "edited":
        _rewrite(src, bad, lambda n, d: d.replace(b"griffin_lim", b"griffin_lin") if n == "config.yaml" else d)
    elif case == "extra":
        _rewrite(src, bad, lambda n, d: d)
        with zipfile.ZipFile(bad, "a") as zf:
            zf.writestr("notes.txt", "hi")
    elif case == "missing":
        _rewrite(src, bad, lambda n, d: None if n == "styles.pt" else d)
    elif case == "no_manifest":
        _rewrite(src, bad, lambda n, d: None if n == "manifest.json" else d)
    else:
        bad.write_bytes(b"hello, not a model")
    with pytest.raises(DataError) as err:
        Synthesizer.load(bad)
    assert words in str(err.value) and str(bad) in str(err.value), str(err.value)


def test_exp_dir_works_from_another_working_directory(exps, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Synthesizer.load(os.path.relpath(exps["exp"]["tacotron2"], tmp_path))
    wav, fs = s.synth("Bad cab.")
    assert len(wav) > 0


def test_bpe_model_synthesizes_from_its_pack(exps, tmp_path):
    d = build_bpe_experiment(exps)
    s = Synthesizer.load(d)
    assert s.token_type == "bpe" and s.info()["token_type"] == "bpe"
    pack = tmp_path / "bpe.zip"
    pack_experiment(d, pack)
    with zipfile.ZipFile(pack) as zf:
        assert "bpe.model" in zf.namelist() and "text_emotion.json" not in zf.namelist()
    packed = Synthesizer.load(pack)
    same(mels_of(packed, Request("Bad cab. Dead head!"))[0], mels_of(s, Request("Bad cab. Dead head!"))[0])
    with pytest.raises(RequestError) as err:
        packed.synth("Bad cab.", emotion="auto")
    assert err.value.field == "emotion"


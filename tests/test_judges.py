"""The judges of synthesized speech from outside the corpus's classifier, run for real on eSpeak
NG speech: DNSMOS, PocketSphinx, Resemblyzer, the Spearman ranking, and all of them (with the
corpus's recognizer) inside evaluate_dir and the real-recording row."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from pytorch_backend.eval.judges import judge_flags, summarize_judges
from pytorch_backend.eval.pocketsphinx_wer import pocketsphinx_enabled
from pytorch_backend.eval.rank import average_ranks, spearman
from pytorch_backend.eval.speaker_sim import (leave_one_out_centroids, similarity_to_speakers,
                                              speaker_similarity_enabled)
from tests.judge_fixtures import EMOTIONS, asr_step_conf, speak, transcribed_setup
from tests.ser_fixtures import FEATS_CONF, FS

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def speech():
    """Two sentences by one voice and one by another, 22.05 kHz float."""
    return {"m1_a": speak("the quick brown fox jumps over the lazy dog", "en-us+m1")[0],
            "m1_b": speak("we need to buy milk eggs and butter", "en-us+m1")[0],
            "f4_a": speak("the quick brown fox jumps over the lazy dog", "en-us+f4")[0]}


# -- ranks -------------------------------------------------------------------------------------
def test_spearman_on_known_ranks():
    assert spearman([0, 0.25, 0.5, 0.75, 1], [0.1, 0.2, 0.5, 0.6, 0.9]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [40, 30, 20, 10]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3], [5, 5, 5]) is None and spearman([1], [2]) is None
    assert list(average_ranks([10, 20, 10, 30])) == [1.5, 3.0, 1.5, 4.0]
    # with ties, the same as scipy's
    from scipy.stats import spearmanr

    x = [0, 0, 0, 0.5, 0.5, 0.5, 1, 1, 1]
    y = [0.0, 0.1, 0.0, 0.4, 0.3, 0.6, 0.9, 0.5, 1.0]
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)
    assert spearman(x, y) == pytest.approx(0.8997, abs=1e-4)


def test_intensity_ranking_pooled_per_utterance_and_of_means():
    from pytorch_backend.eval.intensity import intensity_ranking

    levels = [0.0, 0.25, 0.5, 0.75, 1.0]
    # three utterances; the third never moves (left out of the per-utterance mean)
    probs = [[0.0, 0.1, 0.2], [0.2, 0.4, 0.2], [0.5, 0.3, 0.2], [0.7, 0.8, 0.2], [0.9, 0.95, 0.2]]
    r = intensity_ranking(levels, probs)
    assert r["spearman_per_utt"] == pytest.approx(0.95)  # (1.0 + 0.9) / 2
    assert r["spearman_of_means"] == pytest.approx(1.0)
    from scipy.stats import spearmanr

    xs = np.repeat(levels, 3)
    assert r["spearman"] == pytest.approx(spearmanr(xs, np.asarray(probs).reshape(-1)).statistic)


# -- which judges run --------------------------------------------------------------------------
def test_switches():
    assert pocketsphinx_enabled({"enabled": "auto", "skip_corpora": ["espeak_emo"]}, "ljspeech", "en")
    assert not pocketsphinx_enabled({"enabled": "auto", "skip_corpora": ["espeak_emo"]}, "espeak_emo", "en")
    assert not pocketsphinx_enabled({"enabled": "auto"}, "jsut", "ja")
    assert pocketsphinx_enabled({"enabled": True}, "espeak_emo", "en")
    assert not pocketsphinx_enabled({"enabled": False}, "ljspeech", "en-us")
    assert speaker_similarity_enabled({"enabled": "auto"}, 2) and not speaker_similarity_enabled(None, 1)
    assert speaker_similarity_enabled({"enabled": True}, 1)
    flags = judge_flags({"dnsmos": {"enabled": False}, "pocketsphinx": {"enabled": "auto"},
                         "speaker_similarity": {"enabled": "auto"}}, "ljspeech", "en", 1)
    assert flags == {"dnsmos": None, "pocketsphinx": True, "speaker_similarity": False}
    flags = judge_flags({"dnsmos": {"enabled": True}}, "ljspeech", "en", 3)  # sections left out: off
    assert flags == {"dnsmos": {"personalized": False, "max_windows": None}, "pocketsphinx": False,
                     "speaker_similarity": False}
    flags = judge_flags({"dnsmos": {"enabled": True, "max_windows": 1}}, "ljspeech", "en", 3)
    assert flags["dnsmos"] == {"personalized": False, "max_windows": 1}


# -- DNSMOS ------------------------------------------------------------------------------------
def test_dnsmos_on_real_speech_and_noise_lowers_the_background_score(speech):
    from pytorch_backend.eval.dnsmos import Dnsmos, summarize_dnsmos

    judge = Dnsmos()
    clean = judge.score(speech["m1_a"], FS)
    assert set(clean) == {"ovrl", "sig", "bak", "p808"}
    assert all(1.0 <= v <= 5.0 for v in clean.values())
    rng = np.random.default_rng(0)
    noisy = judge.score(speech["m1_a"] + 0.05 * rng.standard_normal(len(speech["m1_a"])).astype(np.float32), FS)
    assert noisy["bak"] < clean["bak"] - 0.5 and noisy["ovrl"] < clean["ovrl"]
    assert judge.score(speech["m1_a"], FS) == clean  # deterministic
    with pytest.raises(ValueError, match="non-silent"):
        judge.score(np.zeros(FS, dtype=np.float32), FS)
    s = summarize_dnsmos([clean, noisy])
    assert s["num_utts"] == 2 and s["bak"]["mean"] == pytest.approx((clean["bak"] + noisy["bak"]) / 2)


def test_dnsmos_windows_follow_the_dns_procedure_and_the_cap_spreads_them():
    from pytorch_backend.eval.dnsmos import SR, window_starts

    window = int(9.01 * SR)
    # 2.5 s -> doubled twice to 10 s: one window; 2.8 s -> 11.2 s: windows at 0 and 1 s
    assert window_starts(int(2.5 * SR)) == (10 * SR, [0])
    assert window_starts(int(2.8 * SR)) == (4 * int(2.8 * SR), [0, SR])
    # 4.4 s -> 17.6 s: eight windows, one per second; capped: evenly spread, the first kept
    length, starts = window_starts(int(4.4 * SR))
    assert length == 2 * 2 * int(4.4 * SR) and starts == [i * SR for i in range(8)]
    assert all(s + window <= length for s in starts)
    assert window_starts(int(4.4 * SR), max_windows=1)[1] == [0]
    assert window_starts(int(4.4 * SR), max_windows=3)[1] == [0, 4 * SR, 7 * SR]
    assert window_starts(int(4.4 * SR), max_windows=20)[1] == starts
    # longer than the input: no repetition
    assert window_starts(12 * SR) == (12 * SR, [0, SR, 2 * SR])
    with pytest.raises(ValueError, match="at least 1"):
        window_starts(SR, max_windows=0)


def test_dnsmos_uncapped_equals_speechmos_and_the_cap_stays_close(speech):
    from speechmos import dnsmos as sm

    from pytorch_backend.eval.dnsmos import Dnsmos, to_16k

    judge, capped = Dnsmos(), Dnsmos(max_windows=1)
    audio = to_16k(speech["m1_b"], FS)
    ref = judge._scorer(audio, sm.SR, False)  # speechmos's own loop over the whole clip
    ours = judge.score(speech["m1_b"], FS)
    for key, theirs in (("ovrl", "ovrl_mos"), ("sig", "sig_mos"), ("bak", "bak_mos"), ("p808", "p808_mos")):
        assert ours[key] == pytest.approx(float(ref[theirs]), abs=1e-5)
    one = capped.score(speech["m1_b"], FS)
    assert one != ours  # fewer windows really were scored
    assert all(abs(one[k] - ours[k]) < 0.3 for k in ours)
    with pytest.raises(ValueError, match="at least 1"):
        Dnsmos(max_windows=0)


# -- PocketSphinx -------------------------------------------------------------------------------
def test_pocketsphinx_transcribes_lower_case_words(speech):
    from pytorch_backend.eval.pocketsphinx_wer import PocketSphinx

    from pytorch_backend.eval.cer import transcript_scores

    ps = PocketSphinx()
    text = ps.transcribe(speech["m1_a"], FS)
    assert text == text.lower() and text.strip() and all(w.isalpha() or "'" in w for w in text.split())
    assert ps.transcribe(speech["m1_a"], FS) == text  # deterministic
    # weak on eSpeak voices (why espeak_emo leaves it off), but it does recognize plain counting
    counting = ps.transcribe(speak("one two three four five", "en-us", rate=150)[0], FS)
    assert transcript_scores({"u": "one two three four five"}, {"u": counting})["wer"] <= 0.4


# -- speaker similarity -------------------------------------------------------------------------
def test_resemblyzer_hears_the_same_voice_in_other_words(speech):
    from pytorch_backend.eval.speaker_sim import SpeakerEncoder, cosine

    enc = SpeakerEncoder()
    e = {k: enc.embed(v, FS) for k, v in speech.items()}
    assert all(v.shape == (256,) and np.linalg.norm(v) == pytest.approx(1.0, abs=1e-4) for v in e.values())
    same_voice = cosine(e["m1_a"], e["m1_b"])  # other sentence, same voice
    other_voice = cosine(e["m1_a"], e["f4_a"])  # same sentence, other voice
    assert same_voice > other_voice + 0.05


def test_resemblyzer_embeds_audio_its_vad_calls_silence(speech):
    """Synthesized mush with no detectable speech is scored (low), not an evaluation crash."""
    from pytorch_backend.eval.speaker_sim import SpeakerEncoder, cosine

    enc = SpeakerEncoder()
    hum = (1e-4 * np.random.default_rng(0).standard_normal(FS // 2)).astype(np.float32)
    emb = enc.embed(hum, FS)
    assert emb.shape == (256,) and np.isfinite(emb).all()
    assert cosine(emb, enc.embed(speech["m1_a"], FS)) < 0.9
    with pytest.raises(ValueError, match="empty audio"):
        enc.embed(np.zeros(0, dtype=np.float32), FS)


def test_leave_one_out_centroids_and_similarity():
    refs = {"a1": np.array([1.0, 0.0]), "a2": np.array([0.0, 1.0]), "a3": np.array([1.0, 1.0]),
            "b1": np.array([1.0, 0.0])}
    spk = {"a1": "a", "a2": "a", "a3": "a", "b1": "b"}
    c = leave_one_out_centroids(refs, spk)
    assert set(c) == {"a1", "a2", "a3"}  # b has no other recording
    assert np.allclose(c["a1"], np.array([1.0, 2.0]) / np.sqrt(5.0))
    sims = similarity_to_speakers({"a1": np.array([0.0, 1.0]), "b1": np.array([1.0, 0.0])}, refs, spk)
    assert sims["num_utts"] == 1 and sims["mean"] == pytest.approx(2 / np.sqrt(5.0))


def test_summarize_judges_numbers():
    results = [{"utt": "u1", "dnsmos": {"ovrl": 3.0, "sig": 3.5, "bak": 4.0, "p808": 3.2}, "ps_hyp": "the cat"},
               {"utt": "u2", "dnsmos": {"ovrl": 2.0, "sig": 2.5, "bak": 3.0, "p808": 2.8}, "ps_hyp": "a dog ran"}]
    flags = {"dnsmos": {"personalized": False}, "pocketsphinx": True, "speaker_similarity": False}
    out, per_utt = summarize_judges(results, flags, refs={"u1": "the cat sat", "u2": "a dog ran"},
                                    asr_hyps={"u1": "the cat sat", "u2": "a dg ran"})
    assert out["dnsmos"]["ovrl"]["mean"] == pytest.approx(2.5) and out["dnsmos"]["p808"]["std"] == pytest.approx(0.2)
    assert out["cer"]["cer"] == pytest.approx(1 / 20) and out["cer"]["wer"] == pytest.approx(1 / 6)
    assert out["pocketsphinx"]["wer"] == pytest.approx(1 / 6) and out["speaker_similarity"] is None
    assert per_utt["u2"]["asr_hyp"] == "a dg ran" and per_utt["u2"]["asr_char_errors"] == 1
    assert per_utt["u1"]["dnsmos_p808"] == 3.2 and per_utt["u1"]["pocketsphinx_hyp"] == "the cat"


# -- inside the evaluation ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def judged_corpus(tmp_path_factory):
    from pytorch_backend.asr.train import train_asr
    from pytorch_backend.ser.train import train_ser
    from tests.ser_fixtures import SER_CONF

    root = tmp_path_factory.mktemp("judged")
    c = transcribed_setup(root)
    train_asr(asr_step_conf(), c["data"], c["dump"], root / "asr", progress=False)
    train_ser({"emotions": EMOTIONS, "feats": FEATS_CONF, "feats_name": "mel80", "ser": SER_CONF},
              c["data"], c["dump"], root / "ser", progress=False)
    return {**c, "asr": root / "asr", "ser": root / "ser"}


EVAL = {"split": "eval", "mcd": {"mcep_dim": None, "alpha": None},
        "f0": {"f0_floor": 60.0, "f0_ceil": 700.0, "frame_period": 5.0},
        "dnsmos": {"enabled": True}, "pocketsphinx": {"enabled": True}, "speaker_similarity": {"enabled": "auto"}}
CONF = {"eval": EVAL, "feats": FEATS_CONF, "emotions": EMOTIONS, "allow_pipes": False, "corpus": "tiny",
        "language": "en"}


def copies(c, out, transform):
    out.mkdir(parents=True)
    rows = []
    for line in (c["data"] / "eval" / "wav.scp").read_text().splitlines():
        utt, path = line.split(maxsplit=1)
        wav, _ = sf.read(path, dtype="float32")
        sf.write(out / f"{utt}.wav", transform(wav), FS, subtype="PCM_16")
        rows.append(f"{utt} {out / f'{utt}.wav'}\n")
    (out / "wav.scp").write_text("".join(rows))
    return out / "wav.scp"


def test_copies_of_the_recordings_score_like_the_real_row(judged_corpus, tmp_path):
    from pytorch_backend.eval.evaluate import evaluate_dir
    from pytorch_backend.eval.real import evaluate_real

    c = judged_corpus
    real = evaluate_real(CONF, c["data"] / "eval", c["ser"], c["asr"], c["dump"], tmp_path / "real", nj=1,
                         progress=False)
    assert real["num_utts"] == 4 and real["judges"]["speaker_similarity"]  # two voices
    assert json.loads((tmp_path / "real" / "metrics.json").read_text())["cer"] == real["cer"]
    scp = copies(c, tmp_path / "copy", lambda w: w)
    m = evaluate_dir(CONF, scp, c["data"] / "eval", c["ser"], c["dump"], tmp_path / "eval", nj=2, progress=False,
                     asr_dir=c["asr"])
    for key in ("ovrl", "sig", "bak", "p808"):
        assert m["dnsmos"][key]["mean"] == pytest.approx(real["dnsmos"][key]["mean"], abs=0.02)
    assert m["cer"]["cer"] == real["cer"]["cer"] and m["cer"]["char_errors"] == real["cer"]["char_errors"]
    assert m["pocketsphinx"]["wer"] == real["pocketsphinx"]["wer"]
    assert m["speaker_similarity"]["mean"] == pytest.approx(real["speaker_similarity"]["mean"], abs=0.01)
    assert m["speaker_similarity"]["num_speakers"] == 2
    row = m["per_utt"]["m1-eval-00"]
    assert {"asr_hyp", "dnsmos_ovrl", "speaker_similarity", "pocketsphinx_hyp"} <= set(row)
    header = (tmp_path / "eval" / "per_utt.tsv").read_text().splitlines()[0].split("\t")
    assert header[:6] == ["utt", "target", "pred", "mcd", "log_f0_rmse", "vuv_error"] and "asr_hyp" in header

    # the same recordings under noise: every judge hears it
    rng = np.random.default_rng(1)
    noisy = copies(c, tmp_path / "noisy", lambda w: w + 0.08 * rng.standard_normal(len(w)).astype(np.float32))
    n = evaluate_dir(CONF, noisy, c["data"] / "eval", c["ser"], c["dump"], tmp_path / "eval_noisy", nj=1,
                     progress=False, asr_dir=c["asr"])
    assert n["dnsmos"]["bak"]["mean"] < m["dnsmos"]["bak"]["mean"] - 0.5
    assert n["dnsmos"]["ovrl"]["mean"] < m["dnsmos"]["ovrl"]["mean"]
    assert n["speaker_similarity"]["mean"] < m["speaker_similarity"]["mean"]
    assert n["cer"]["cer"] >= m["cer"]["cer"]


def test_a_scored_utterance_without_transcript_or_speaker_names_the_file(judged_corpus, tmp_path):
    import shutil

    from pytorch_backend.errors import DataError
    from pytorch_backend.eval.evaluate import evaluate_dir

    c = judged_corpus
    ref = tmp_path / "ref"
    shutil.copytree(c["data"] / "eval", ref)
    scp = copies(c, tmp_path / "syn", lambda w: w)
    lines = (ref / "utt2spk").read_text().splitlines()
    (ref / "utt2spk").write_text("\n".join(lines[1:]) + "\n")
    with pytest.raises(DataError, match=r"utt2spk \(utterance f4-eval-00\): no speaker"):
        evaluate_dir(CONF, scp, ref, c["ser"], c["dump"], tmp_path / "e1", nj=1, progress=False, asr_dir=c["asr"])
    shutil.copy(c["data"] / "eval" / "utt2spk", ref / "utt2spk")
    lines = (ref / "text").read_text().splitlines()
    (ref / "text").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(DataError, match=r"text \(utterance m1-eval-01\): no transcript"):
        evaluate_dir(CONF, scp, ref, c["ser"], c["dump"], tmp_path / "e2", nj=1, progress=False, asr_dir=c["asr"])


def test_speaker_similarity_by_intensity_level(judged_corpus):
    from pytorch_backend.eval.intensity import speaker_similarity_by_level
    from pytorch_backend.eval.speaker_sim import SpeakerEncoder
    from pytorch_backend.feats.logmel import LogMelExtractor

    c = judged_corpus
    utts = ["f4-eval-00", "m1-eval-00"]
    scp = dict(line.split(maxsplit=1) for line in (c["data"] / "eval" / "wav.scp").read_text().splitlines())
    real = [sf.read(scp[u], dtype="float32")[0] for u in utts]
    # "level 1" in the other speaker's voice: the similarity to the intended speaker drops
    swapped = [sf.read(scp[u], dtype="float32")[0] for u in ("m1-eval-00", "f4-eval-00")]
    out = speaker_similarity_by_level(SpeakerEncoder(), {"0": real, "1": swapped}, utts, c["data"],
                                      {"feats": FEATS_CONF}, LogMelExtractor.from_conf(FEATS_CONF))
    assert out["from"] == "0" and out["to"] == "1" and out["per_level"]["0"]["num_utts"] == 2
    assert out["per_level"]["0"]["mean"] > 0.7
    assert out["change"] == pytest.approx(out["per_level"]["1"]["mean"] - out["per_level"]["0"]["mean"])
    assert out["change"] < -0.1

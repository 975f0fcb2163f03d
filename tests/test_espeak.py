"""Tests of the eSpeak NG binding (pytorch_backend.espeak)."""

from __future__ import annotations

import concurrent.futures

import numpy as np
import pytest

from espeak_fixtures import median_f0, rms
from pytorch_backend import espeak

TEXT = "The quick brown fox jumps over the lazy dog."


def test_sample_rate_and_audio():
    audio, fs = espeak.synthesize("hello world", voice="en-us+m3")
    assert fs == 22050 == espeak.sample_rate()
    assert audio.dtype == np.int16 and audio.ndim == 1
    assert 0.4 < audio.size / fs < 3.0
    assert np.abs(audio).max() > 1000  # not silence


def test_isolated_synthesis_is_byte_identical_whatever_ran_before():
    first, fs = espeak.synthesize_isolated(TEXT, voice="en-us+m1", rate=160, pitch=40)
    # Dirty the in-process library state; the isolated path must not see it.
    for _ in range(2):
        espeak.synthesize(TEXT, voice="en-us+m1", rate=160, pitch=40)
    second, fs2 = espeak.synthesize_isolated(TEXT, voice="en-us+m1", rate=160, pitch=40)
    assert fs == fs2 == 22050
    assert first.tobytes() == second.tobytes()
    other, _ = espeak.synthesize_isolated(TEXT, voice="en-us+m1", rate=160, pitch=60)
    assert other.tobytes() != first.tobytes()


def test_isolated_synthesis_in_parallel_threads_is_identical():
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        outs = list(pool.map(lambda _: espeak.synthesize_isolated("Good morning.", voice="en-us+f4")[0],
                             range(3)))
    assert all(o.tobytes() == outs[0].tobytes() for o in outs)


def test_rate_changes_duration():
    slow, fs = espeak.synthesize_isolated(TEXT, rate=100)
    fast, _ = espeak.synthesize_isolated(TEXT, rate=250)
    assert fast.size / fs < 0.6 * slow.size / fs


def test_pitch_changes_f0():
    low, fs = espeak.synthesize_isolated(TEXT, voice="en-us+m3", pitch=15)
    high, _ = espeak.synthesize_isolated(TEXT, voice="en-us+m3", pitch=85)
    assert median_f0(high, fs) > 1.3 * median_f0(low, fs)


def test_volume_and_word_gap():
    soft, fs = espeak.synthesize_isolated(TEXT, volume=40)
    loud, _ = espeak.synthesize_isolated(TEXT, volume=160)
    assert rms(loud) > 2.0 * rms(soft)
    gap, _ = espeak.synthesize_isolated(TEXT, word_gap=20)
    plain, _ = espeak.synthesize_isolated(TEXT)
    # 8 word boundaries x 200 ms, at least most of it
    assert gap.size - plain.size > 1.0 * fs


def test_phonemize_words():
    ipa = espeak.phonemize("hello world")
    words = ipa.split(" ")
    assert len(words) == 2
    assert words[0].startswith("h") and "l" in words[0]
    assert words[1].startswith("w")
    assert all(ch.isascii() is False for ch in "ˈɜː" if ch in ipa)


def test_phonemize_covers_every_clause():
    text = "Hello there, my friend. How are you today? I am fine; thanks!"
    ipa = espeak.phonemize(text)
    assert len(ipa.split()) >= 11  # every word of every clause
    assert ipa.split()[-1].startswith("θ")  # "thanks", the last clause, is there
    assert espeak.phonemize("") == ""


def test_phonemize_thread_safe():
    texts = [f"sentence number {i} is here" for i in range(12)]
    serial = [espeak.phonemize(t) for t in texts]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(espeak.phonemize, texts))
    assert parallel == serial


def test_bad_arguments():
    with pytest.raises(espeak.EspeakError, match="unknown eSpeak NG voice 'no-such-voice'"):
        espeak.synthesize("hi", voice="no-such-voice")
    with pytest.raises(espeak.EspeakError, match="no-such-voice"):
        espeak.synthesize_isolated("hi", voice="no-such-voice")
    with pytest.raises(ValueError, match="pitch must be an integer in"):
        espeak.synthesize("hi", pitch=150)
    with pytest.raises(ValueError, match="breath noise"):
        espeak.synthesize_isolated("hi", voice="en-us+f2")
    with pytest.raises(TypeError, match="unknown eSpeak option"):
        espeak.synthesize("hi", speed=3)
    # the in-process engine still works after a failed voice change
    audio, _ = espeak.synthesize("hi")
    assert audio.size > 0

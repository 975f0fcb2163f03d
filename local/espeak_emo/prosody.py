"""Speakers and the emotion prosody table of the espeak_emo corpus.

eSpeak NG has no emotion model; an emotion is acted out with the prosody controls it offers
(``espeak_SetParameter``; see ``pytorch_backend/espeak.py``) plus the clause-final punctuation,
which picks the intonation tune of the clause (statement ".", exclamation "!", question "?").
The settings follow the classic acoustic profiles of vocal emotion (sad: slow, low, flat, soft;
angry: fast, loud, raised, wide; happy: quick, high, wide; surprise: highest, widest, rising).
They are exaggerated on purpose: the corpus exists to test whether a TTS model learns to
*control* emotion, which is only measurable when a speech-emotion classifier on log-mel
features tells the emotions apart reliably across speakers and unseen sentences.

Speaker and emotion are separate factors: a speaker is a voice variant (its own formants and
voice quality) with its own base pitch and speaking rate; an emotion is an offset from that
base (pitch shift, rate factor) plus absolute range, volume, word gap and tune.

Speakers (``SPEAKERS``; pitch is eSpeak's 0-99 scale, 50 = the variant's own pitch)::

    id   voice        base pitch  base rate (wpm)
    m1   en-us+m1        38           165
    m3   en-us+m3        56           180
    m7   en-us+m7        46           170
    f1   en-us+f1        54           175
    f4   en-us+f4        40           185

The variants f2, f3 and f5 are not used: their breath noise is random on every run.

Emotions (``EMOTIONS``)::

    emotion   rate x  pitch +  range  volume  word gap  end  character
    neutral    1.00      0      40      80       0       .   the reference: plain statement
    happy      1.15    +20      85     110       0       !   quick, high, lively wide melody
    sad        0.68    -24      10      45       5       .   slow, low, nearly monotone, soft,
                                                             50 ms pauses between words
    angry      1.35     +8      70     150       0       !   fast, loud (strained, compressed
                                                             peaks), raised pitch, wide range
    surprise   0.90    +32      99     100       3       ?   highest pitch, widest range,
                                                             drawn out, rising question tune

- rate x: factor on the speaker's base rate (words per minute, clamped to eSpeak's 80-450);
- pitch +: added to the speaker's base pitch (clamped to 0-99); about 1.7 semitones per 10;
- range: eSpeak pitch range, 0 = monotone, 50 = the voice's normal melody, 99 = widest;
- volume: eSpeak amplitude, 100 = normal; the neutral reference sits at 80 so that angry can be
  louder without clipping most of the time;
- word gap: extra pause between words in units of 10 ms;
- end: punctuation appended to the sentence before synthesis (the ``text`` of the corpus stays
  the plain sentence, identical for every emotion, so the text never gives the emotion away).
"""

from __future__ import annotations

SPEAKERS: dict[str, dict] = {
    "m1": {"voice": "en-us+m1", "pitch": 38, "rate": 165},
    "m3": {"voice": "en-us+m3", "pitch": 56, "rate": 180},
    "m7": {"voice": "en-us+m7", "pitch": 46, "rate": 170},
    "f1": {"voice": "en-us+f1", "pitch": 54, "rate": 175},
    "f4": {"voice": "en-us+f4", "pitch": 40, "rate": 185},
}

EMOTIONS: dict[str, dict] = {
    "neutral": {"rate_scale": 1.00, "pitch_shift": 0, "pitch_range": 40, "volume": 80,
                "word_gap": 0, "end": "."},
    "happy": {"rate_scale": 1.15, "pitch_shift": 20, "pitch_range": 85, "volume": 110,
              "word_gap": 0, "end": "!"},
    "sad": {"rate_scale": 0.68, "pitch_shift": -24, "pitch_range": 10, "volume": 45,
            "word_gap": 5, "end": "."},
    "angry": {"rate_scale": 1.35, "pitch_shift": 8, "pitch_range": 70, "volume": 150,
              "word_gap": 0, "end": "!"},
    "surprise": {"rate_scale": 0.90, "pitch_shift": 32, "pitch_range": 99, "volume": 100,
                 "word_gap": 3, "end": "?"},
}


def _clamp(value: float, lo: int, hi: int) -> int:
    return int(min(hi, max(lo, round(value))))


def spoken_text(sentence: str, emotion: str) -> str:
    """The sentence with the emotion's clause-final punctuation (what eSpeak is given)."""
    return sentence.rstrip().rstrip(".!?;,") + EMOTIONS[emotion]["end"]


def synthesis_settings(speaker: str, emotion: str) -> dict:
    """Keyword arguments of ``pytorch_backend.espeak.synthesize*`` for a speaker and an emotion."""
    spk = SPEAKERS[speaker]
    emo = EMOTIONS[emotion]
    return {
        "voice": spk["voice"],
        "rate": _clamp(spk["rate"] * emo["rate_scale"], 80, 450),
        "pitch": _clamp(spk["pitch"] + emo["pitch_shift"], 0, 99),
        "pitch_range": _clamp(emo["pitch_range"], 0, 99),
        "volume": _clamp(emo["volume"], 0, 200),
        "word_gap": _clamp(emo["word_gap"], 0, 100),
    }


def table_text() -> str:
    """The speaker and emotion tables as plain text (for the corpus README)."""
    lines = ["Speakers:", f"  {'id':<4} {'voice':<10} {'pitch':>5} {'rate':>5}"]
    for name, spk in SPEAKERS.items():
        lines.append(f"  {name:<4} {spk['voice']:<10} {spk['pitch']:>5} {spk['rate']:>5}")
    lines += ["", "Emotions (rate factor, pitch shift, range, volume, word gap x10 ms, end):"]
    for name, emo in EMOTIONS.items():
        lines.append(f"  {name:<9} {emo['rate_scale']:>5.2f} {emo['pitch_shift']:>+4d} "
                     f"{emo['pitch_range']:>3d} {emo['volume']:>4d} {emo['word_gap']:>3d}  {emo['end']}")
    return "\n".join(lines)

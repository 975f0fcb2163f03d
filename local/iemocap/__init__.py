"""IEMOCAP: 5 sessions x 2 actors (English), improvised and scripted dyadic dialogues, ~12 h of
labelled turns, 16 kHz, categorical labels from 3+ annotators."""

from local.common.source import Source

SOURCE = Source(
    name="IEMOCAP",
    obtain="request it with the release form at https://sail.usc.edu/iemocap/iemocap_release.htm, "
           "then unpack IEMOCAP_full_release.",
    licence="research use under the USC SAIL licence; no redistribution",
    gated=True,
    layout=("Session*/dialog/EmoEvaluation", "Session*/dialog/transcriptions", "Session*/sentences/wav"),
)

"""espeak_emo: the embedded emotional corpus, synthesized offline with eSpeak NG (22.05 kHz): the
speakers of prosody.py read sentences.py in every emotion of the conf (plan.py, generator.py)."""

from local.common.source import Source

SOURCE = Source(
    name="espeak_emo",
    obtain="generated on this machine by the espeak_emo_generate rule (python -m local.espeak_emo.generate).",
    licence="synthesized here from the project's own sentences; no third-party recordings",
    gated=False,
    layout=("metadata.tsv", "wav/*.wav"),
    generated=True,
)

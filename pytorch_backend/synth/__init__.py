"""Using a trained model: synthesize any text with emotion control.

    from pytorch_backend.synth import Synthesizer

    tts = Synthesizer.load("exp/espeak_emo_gst")          # or a packed model: ".../pack.zip"
    wav, fs = tts.synth("We won the cup!", emotion="happy", intensity=0.5)
    wavs = tts.synth(["Hello.", "<sad>Goodbye.</sad>"])  # a list in, a list of (wav, fs) out

The top of the library: it may import every other part of pytorch_backend, nothing imports it.
Names are imported on first use, so the console script starts fast.
"""

_EXPORTS = {"Request": "synthesizer", "SynthResult": "synthesizer", "Synthesizer": "synthesizer",
            "load": "synthesizer", "RequestError": "errors"}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

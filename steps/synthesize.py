#!/usr/bin/env python
"""Synthesize text with a trained model (= ``emotts synthesize``; see pytorch_backend/synth/cli.py).

    python -m steps.synthesize -m exp/espeak_emo_gst --text "We won!" --emotion happy -o won.wav
"""

from pytorch_backend.synth.cli import synthesize_console

if __name__ == "__main__":
    synthesize_console()

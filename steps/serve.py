#!/usr/bin/env python
"""Serve a trained model on a local web page and a JSON API (= ``emotts serve``; see
pytorch_backend/synth/server.py).

    python -m steps.serve -m exp/espeak_emo_gst            # or a pack: -m exp/espeak_emo_gst/pack.zip
    # open http://127.0.0.1:8000/ , or
    curl -s http://127.0.0.1:8000/synthesize -H 'Content-Type: application/json' \
        -d '{"text": "We won the cup!", "emotion": "happy", "intensity": 0.5}' -o won.wav
"""

from pytorch_backend.synth.cli import serve_console

if __name__ == "__main__":
    serve_console()

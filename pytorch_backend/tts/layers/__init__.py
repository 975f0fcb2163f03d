"""Building blocks shared by the TTS models (masks, encoder, prenet, postnet)."""

"""The generic training skeleton (``loop.TrainingLoop``: resume, time budget, logging, checkpoint
pruning, RNG state) and what it is made of: atomic checkpoints, data parallelism, optimizers and
LR schedules, device/seed/RNG utilities. Nothing here knows a model family: the TTS, vocoder and
emotion-classifier trainers build on it from their own packages."""

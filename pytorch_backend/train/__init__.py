"""Training loop, checkpoints, optimizers/schedules and device/seed utilities."""

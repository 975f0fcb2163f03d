"""Objective evaluation of synthesized speech: MCD, log-F0 RMSE, emotion accuracy, summaries."""

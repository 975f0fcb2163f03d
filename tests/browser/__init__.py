"""Test helpers that look at the project as a person would: a headless Chromium driven over the
DevTools protocol (cdp.py) and local servers in their own process groups (procs.py)."""

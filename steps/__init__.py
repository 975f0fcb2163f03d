"""Stage entry points: each runs as `python -m steps.<stage>` or `python steps/<stage>.py`."""

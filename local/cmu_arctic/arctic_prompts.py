"""The festival prompt format of ARCTIC (``etc/txt.done.data``, ``cmuarctic.data``).

One prompt a line: ``( arctic_a0001 "Author of the danger trail, Philip Steels, etc." )``.
"""

from __future__ import annotations

import re

PROMPT = re.compile(r'^\(\s*(\S+)\s+"(.*)"\s*\)\s*$')


def read_prompts(path, drops):
    """``{prompt id: text}``; lines that are not prompts are counted as dropped."""
    from local.common.text import read_text_lines

    lines, _ = read_text_lines(path)
    prompts = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        m = PROMPT.match(line.strip())
        if not m:
            drops.drop("malformed prompt line", f"{path.name}:{lineno}")
            continue
        prompts[m.group(1)] = m.group(2).replace('\\"', '"')
    return prompts

"""Rewrite the golden files from the current renderer: `python tests/golden/update.py`.

Run it only after a deliberate rendering change, then read `git diff tests/golden` line by line:
the diff is the change's evidence.
"""

from __future__ import annotations

import json
from pathlib import Path

from inputtokens import count_input_tokens, render_prompt

GOLDEN = Path(__file__).parent

if __name__ == "__main__":
    for request_file in sorted(GOLDEN.glob("*/*.request.json")):
        stem = request_file.with_name(request_file.name.removesuffix(".request.json"))
        body = json.loads(request_file.read_text())
        stem.with_suffix(".prompt.txt").write_text(render_prompt(body).text)
        stem.with_suffix(".count").write_text(f"{count_input_tokens(body).input_tokens}\n")

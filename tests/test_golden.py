"""Golden prompt files: the rendered prompt and its count for each request shape and family."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from inputtokens import count_input_tokens, render_prompt

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*/*.request.json"))


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.name.removesuffix('.request.json')}"


def test_there_are_golden_cases_for_both_families() -> None:
    families = {p.parent.name for p in CASES}
    assert families == {"chat", "harmony", "oss"}
    assert len(CASES) >= 12


@pytest.mark.parametrize("request_file", CASES, ids=_name)
def test_golden_prompt_and_count(request_file: Path) -> None:
    stem = request_file.with_name(request_file.name.removesuffix(".request.json"))
    body = json.loads(request_file.read_text())
    expected_prompt = stem.with_suffix(".prompt.txt").read_text()
    expected_count = int(stem.with_suffix(".count").read_text())

    prompt = render_prompt(body).text
    if prompt != expected_prompt:
        diff = "\n".join(
            difflib.unified_diff(
                expected_prompt.splitlines(), prompt.splitlines(), "golden", "rendered", lineterm=""
            )
        )
        pytest.fail(f"rendering of {_name(request_file)} changed:\n{diff}")
    assert count_input_tokens(body).input_tokens == expected_count


def test_docs_example_is_eleven() -> None:
    """The API reference's own example: gpt-5, "Tell me a joke." -> 11."""
    assert (GOLDEN / "harmony" / "docs_joke.count").read_text().strip() == "11"

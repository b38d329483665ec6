"""Every recorded real Responses count in ../shared/accuracy/ (every ``*.jsonl`` file there,
the cases whose ``request_format`` is ``responses`` or absent), through the library.

Two promises are checked:
- plain-message requests (no tools, media, tool history, stored state or structured output)
  are counted exactly as OpenAI reported;
- no count ever claims to be exact while differing from OpenAI's number.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inputtokens import count_input_tokens

ACCURACY_DIR = Path(__file__).resolve().parents[2] / "shared" / "accuracy"
CASE_FILES = sorted(ACCURACY_DIR.glob("*.jsonl"))


def _responses_cases(path: Path) -> list[dict[str, Any]]:
    """The Responses API cases of one file (Chat Completions ones belong to that face)."""
    with path.open(encoding="utf-8") as lines:
        cases = [json.loads(line) for line in lines if line.strip()]
    return [c for c in cases if c.get("request_format", "responses") == "responses"]


CASES = [case for path in CASE_FILES for case in _responses_cases(path)]


def is_plain(request: dict[str, Any]) -> bool:
    """Only messages with text content, no tools, no stored state, no structured output."""
    if request.get("tools") or request.get("previous_response_id") or request.get("conversation"):
        return False
    if ((request.get("text") or {}).get("format") or {}).get("type") == "json_schema":
        return False
    if (request.get("reasoning") or {}).get("mode") == "pro":
        return False
    items = request["input"]
    if isinstance(items, str):
        return True
    for item in items:
        if item.get("type", "message") != "message":
            return False
        content = item["content"]
        if isinstance(content, list) and any(
            part.get("type") not in ("input_text", "output_text") for part in content
        ):
            return False
    return True


PLAIN = [c for c in CASES if is_plain(c["request"])]


def test_case_files_are_there_and_have_plain_cases() -> None:
    names = {path.name for path in CASE_FILES}
    assert {"cases.jsonl", "responses_more.jsonl"} <= names
    assert len(CASES) >= 212
    assert len(PLAIN) >= 60


@pytest.mark.parametrize("case", PLAIN, ids=[c["id"] for c in PLAIN])
def test_plain_message_cases_are_exact(case: dict[str, Any]) -> None:
    result = count_input_tokens(case["request"])
    assert result.input_tokens == case["expected_input_tokens"]
    assert result.exact, result.estimate_reasons


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_no_count_claims_exact_when_it_is_not(case: dict[str, Any]) -> None:
    result = count_input_tokens(case["request"])
    if result.input_tokens != case["expected_input_tokens"]:
        assert not result.exact, (
            f"claims exact but is off by {result.input_tokens - case['expected_input_tokens']:+d}"
        )
        assert result.estimate_reasons


def has_image(request: dict[str, Any]) -> bool:
    return '"input_image"' in json.dumps(request)


IMAGE_CASES = [c for c in CASES if has_image(c["request"])]


def test_there_are_image_cases() -> None:
    assert len(IMAGE_CASES) >= 20


@pytest.mark.parametrize("case", IMAGE_CASES, ids=[c["id"] for c in IMAGE_CASES])
def test_image_cases_match_the_recorded_count(case: dict[str, Any]) -> None:
    # Sizes read from the embedded image and each model's rule (o1's fitted on these records).
    assert count_input_tokens(case["request"]).input_tokens == case["expected_input_tokens"]

"""Every recorded real Chat Completions count in ../shared/accuracy/ (the cases whose
``request_format`` is ``chat.completions``), through ``count_chat_tokens``.

Two promises: plain-message requests are counted exactly (on a model whose framing is not
confirmed the count also says it is an estimate); no count claims to be exact while differing
from OpenAI's number.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inputtokens import count_chat_tokens, lookup_model

ACCURACY_DIR = Path(__file__).resolve().parents[2] / "shared" / "accuracy"


def _chat_cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(ACCURACY_DIR.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if '"chat.completions"' in line:  # cheap filter before parsing a big line
                    case = json.loads(line)
                    if case.get("request_format") == "chat.completions":
                        cases.append(case)
    return cases


CASES = _chat_cases()


def _plain(request: dict[str, Any]) -> bool:
    if request.get("tools") or request.get("functions") or request.get("response_format"):
        return False
    return all(
        message["role"] in ("system", "developer", "user", "assistant")
        and not message.get("tool_calls")
        and (
            isinstance(message.get("content"), str)
            or all(part.get("type") == "text" for part in message.get("content") or [])
        )
        for message in request["messages"]
    )


PLAIN = [c for c in CASES if _plain(c["request"])]


def test_the_chat_case_file_is_there() -> None:
    assert len(CASES) >= 300
    assert len(PLAIN) >= 20


@pytest.mark.parametrize("case", PLAIN, ids=[c["id"] for c in PLAIN])
def test_plain_chat_cases_are_exact(case: dict[str, Any]) -> None:
    result = count_chat_tokens(case["request"])
    assert result.input_tokens == case["expected_input_tokens"]
    model = lookup_model(case["request"]["model"])
    if not model.framing_verified or model.unconfirmed:
        assert not result.exact


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_no_chat_count_claims_exact_when_it_is_not(case: dict[str, Any]) -> None:
    result = count_chat_tokens(case["request"])
    if result.input_tokens != case["expected_input_tokens"]:
        assert not result.exact, (
            f"claims exact but is off by {result.input_tokens - case['expected_input_tokens']:+d}"
        )

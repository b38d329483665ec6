"""The context window: context_length_exceeded, and truncation "auto" dropping the oldest items.

gpt-4 (8,192 tokens) keeps the inputs small. Expected counts come from counting the kept items
sent inline, never from the counter's own truncated output.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from inputtokens import InvalidRequestError, count_input_tokens
from inputtokens.core.models import lookup_model
from inputtokens.count.pipeline import count_request, prepare
from inputtokens.count.truncation import CONTEXT_LENGTH_MESSAGE, items_to_drop

WORDS = " ".join(f"word{i}" for i in range(1500))  # about 3,000 cl100k tokens


def _message(text: str, role: str = "user") -> dict[str, Any]:
    return {"role": role, "content": text}


def _body(items: list[dict[str, Any]], truncation: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "gpt-4", "instructions": "Be brief.", "input": items}
    if truncation:
        body["truncation"] = truncation
    return body


def test_input_limits_per_model() -> None:
    assert lookup_model("gpt-4").input_limit == 8_192
    assert lookup_model("gpt-4o").input_limit == 128_000
    assert lookup_model("gpt-5").input_limit == 272_000  # 400k window less 128k output
    assert lookup_model("gpt-5-pro").input_limit == 400_000


def test_over_the_window_is_context_length_exceeded() -> None:
    items = [_message(f"{i} {WORDS}") for i in range(4)]
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens(_body(items))
    assert (info.value.code, info.value.param, info.value.status) == (
        "context_length_exceeded",
        "input",
        400,
    )
    # OpenAI's message, with the figures between its sentences (and as the error's details).
    total = count_request(prepare(_body(items)), enforce_limit=False).input_tokens
    assert str(info.value) == CONTEXT_LENGTH_MESSAGE.replace(
        ". ", f": {total} input tokens, {total - 8_192} over its limit of 8192. ", 1
    )
    assert info.value.details == {
        "input_tokens": total,
        "max_input_tokens": 8_192,
        "tokens_over": total - 8_192,
    }
    with pytest.raises(InvalidRequestError):
        count_input_tokens(_body(items, "disabled"))


def test_auto_drops_the_oldest_items_until_it_fits() -> None:
    items = [_message(f"{i} {WORDS}", "user" if i % 2 == 0 else "assistant") for i in range(5)]
    result = count_input_tokens(_body(items, "auto"))
    kept = count_input_tokens(_body(items[result.dropped_items :]))
    assert result.dropped_items == 3  # 5 x ~3k: two fit in 8,192 with the instructions
    assert result.input_tokens == kept.input_tokens <= 8_192
    rich = result.to_rich()
    assert rich["truncation"] == {"dropped_items": 3}
    assert rich["room_for_output"] == min(8_192 - result.input_tokens, 8_192)
    assert rich["max_input_tokens"] == 8_192
    # The breakdown names the items by their place in the body that was sent.
    assert [p["part"] for p in rich["breakdown"]] == [
        "instructions",
        "input[3]",
        "input[4]",
        "priming",
    ]


def test_auto_never_keeps_an_output_without_its_call() -> None:
    items = [
        _message(f"a {WORDS}"),
        {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}"},
        _message(f"b {WORDS}", "assistant"),
        {"type": "function_call_output", "call_id": "c1", "output": "42"},
        _message(f"c {WORDS}"),
        _message(f"d {WORDS}", "assistant"),
    ]
    result = count_input_tokens(_body(items, "auto"))
    assert result.dropped_items == 4  # the cut before the output moves past it
    assert result.input_tokens == count_input_tokens(_body(items[4:])).input_tokens


def test_auto_cannot_shrink_a_single_huge_item() -> None:
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens(_body([_message(WORDS * 4)], "auto"))
    assert info.value.code == "context_length_exceeded"
    with pytest.raises(InvalidRequestError):
        count_input_tokens({"model": "gpt-4", "input": WORDS * 4, "truncation": "auto"})


def test_items_to_drop_counts_tokens_not_items() -> None:
    items = [_message("x")] * 4
    assert items_to_drop(items, [5, 5, 100, 5], 6) == 2
    assert items_to_drop(items, [5, 5, 100, 5], 10) == 2
    assert items_to_drop(items, [5, 5, 100, 5], 11) == 3


def test_http_context_length_and_auto(live_server) -> None:
    items = [_message(f"{i} {WORDS}") for i in range(4)]
    url = f"{live_server.base_url}/v1/responses/input_tokens"
    refused = httpx.post(url, json=_body(items), timeout=30)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "context_length_exceeded"
    assert refused.json()["error"]["param"] == "input"
    fitted = httpx.post(url + "?verbose=1", json=_body(items, "auto"), timeout=30).json()
    assert fitted["truncation"]["dropped_items"] == 2
    assert fitted["input_tokens"] == count_input_tokens(_body(items[2:])).input_tokens

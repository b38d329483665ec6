"""Values OpenAI refuses are refused here too, with OpenAI's code and the field in `param`:
numbers out of range (temperature, top_p, max_tool_calls, penalties, n, ...), integers past 64
bits named as integers, and a file purpose outside OpenAI's list. Over a real server, and
through the library."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from inputtokens import InvalidRequestError, count_chat_tokens, count_input_tokens

RESPONSES = "/v1/responses/input_tokens"
CHAT = "/v1/chat/completions/input_tokens"
HUGE = 10**44  # 45 digits
HUGE_TEXT = "1" + "0" * 44

# (field, value, code, message tail) on a Responses body.
RESPONSES_CASES = [
    (
        "temperature",
        99,
        "decimal_above_max_value",
        "decimal above maximum value. Expected a value <= 2, but got 99 instead.",
    ),
    (
        "temperature",
        -0.5,
        "decimal_below_min_value",
        "decimal below minimum value. Expected a value >= 0, but got -0.5 instead.",
    ),
    ("top_p", 1.5, "decimal_above_max_value", "Expected a value <= 1, but got 1.5 instead."),
    (
        "max_tool_calls",
        -1,
        "integer_below_min_value",
        "integer below minimum value. Expected a value >= 1, but got -1 instead.",
    ),
    ("max_tool_calls", 0, "integer_below_min_value", "Expected a value >= 1, but got 0 instead."),
    (
        "top_logprobs",
        21,
        "integer_above_max_value",
        "integer above maximum value. Expected a value <= 20, but got 21 instead.",
    ),
    (
        "max_output_tokens",
        HUGE,
        "integer_above_max_value",
        "Expected a value <= 9223372036854775807",
    ),
]

CHAT_CASES = [
    ("temperature", 2.5, "decimal_above_max_value", "Expected a value <= 2, but got 2.5 instead."),
    ("top_p", -1, "decimal_below_min_value", "Expected a value >= 0, but got -1 instead."),
    ("presence_penalty", 3, "decimal_above_max_value", "Expected a value <= 2, but got 3 instead."),
    (
        "frequency_penalty",
        -2.5,
        "decimal_below_min_value",
        "Expected a value >= -2, but got -2.5 instead.",
    ),
    ("n", 0, "integer_below_min_value", "Expected a value >= 1, but got 0 instead."),
    ("n", 130, "integer_above_max_value", "Expected a value <= 128, but got 130 instead."),
    ("top_logprobs", -1, "integer_below_min_value", "Expected a value >= 0, but got -1 instead."),
    ("max_tokens", -678, "integer_below_min_value", "Expected a value >= 1, but got -678 instead."),
    ("seed", -HUGE, "integer_below_min_value", "Expected a value >= -9223372036854775808"),
]

# Values at the edges of each range pass.
ACCEPTED = {"temperature": 2, "top_p": 0, "max_tool_calls": 1, "top_logprobs": 20}
CHAT_ACCEPTED = {"temperature": 0.0, "presence_penalty": -2, "frequency_penalty": 2.0, "n": 128}


def _responses(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-5", "input": "hi", **extra}


def _chat(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], **extra}


def _error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    return error


@pytest.mark.parametrize(("field", "value", "code", "tail"), RESPONSES_CASES)
def test_responses_ranges_over_http(
    http: httpx.Client, field: str, value: Any, code: str, tail: str
) -> None:
    error = _error(http.post(RESPONSES, json=_responses(**{field: value})))
    assert (error["param"], error["code"]) == (field, code)
    assert error["message"].startswith(f"Invalid '{field}': ")
    assert tail in error["message"]


@pytest.mark.parametrize(("field", "value", "code", "tail"), CHAT_CASES)
def test_chat_ranges_over_http(
    http: httpx.Client, field: str, value: Any, code: str, tail: str
) -> None:
    error = _error(http.post(CHAT, json=_chat(**{field: value})))
    assert (error["param"], error["code"]) == (field, code)
    assert tail in error["message"]


@pytest.mark.parametrize(("field", "value", "code", "tail"), RESPONSES_CASES)
def test_responses_ranges_in_the_library(field: str, value: Any, code: str, tail: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens(_responses(**{field: value}))
    assert (info.value.param, info.value.code) == (field, code)
    assert tail in info.value.message


@pytest.mark.parametrize(("field", "value", "code", "tail"), CHAT_CASES)
def test_chat_ranges_in_the_library(field: str, value: Any, code: str, tail: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        count_chat_tokens(_chat(**{field: value}))
    assert (info.value.param, info.value.code) == (field, code)
    assert tail in info.value.message


def test_values_at_the_edges_pass(http: httpx.Client) -> None:
    plain = http.post(RESPONSES, json=_responses()).json()["input_tokens"]
    assert http.post(RESPONSES, json=_responses(**ACCEPTED)).json()["input_tokens"] == plain
    chat = http.post(CHAT, json=_chat()).json()["input_tokens"]
    assert http.post(CHAT, json=_chat(**CHAT_ACCEPTED)).json()["input_tokens"] == chat


def test_the_openai_client_gets_the_range_error(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.responses.input_tokens.count(
            model="gpt-5", input="hi", extra_body={"temperature": 99}
        )
    assert info.value.code == "decimal_above_max_value"
    assert info.value.param == "temperature"


def test_a_45_digit_integer_is_an_integer_out_of_range(http: httpx.Client) -> None:
    # The literal as sent: orjson reads it as a float, the library's json as an int.
    raw = json.dumps(_responses()).replace('"input"', f'"max_output_tokens": {HUGE_TEXT}, "input"')
    error = _error(http.post(RESPONSES, content=raw))
    assert (error["param"], error["code"]) == ("max_output_tokens", "integer_above_max_value")
    assert "integer above maximum value" in error["message"]
    assert "a number" not in error["message"]
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens(json.loads(raw))
    assert info.value.message == (
        "Invalid 'max_output_tokens': integer above maximum value. Expected a value <= "
        f"9223372036854775807, but got {HUGE_TEXT} instead."
    )


def test_a_decimal_is_still_not_an_integer(http: httpx.Client) -> None:
    error = _error(http.post(RESPONSES, json=_responses(max_tool_calls=2.5)))
    assert error["code"] == "invalid_type"
    assert error["message"] == (
        "Invalid type for 'max_tool_calls': expected an integer, but got a number instead."
    )


def test_file_purpose_must_be_one_of_openais(http: httpx.Client) -> None:
    bogus = http.post("/v1/files", data={"purpose": "bogus"}, files={"file": ("a.txt", b"x")})
    error = _error(bogus)
    assert (error["param"], error["code"]) == ("purpose", "invalid_value")
    assert error["message"] == (
        "Invalid value: 'bogus'. Supported values are: 'assistants', 'batch', 'fine-tune', "
        "'vision', 'user_data', and 'evals'."
    )
    typo = _error(
        http.post("/v1/files", data={"purpose": "user-data"}, files={"file": ("a.txt", b"x")})
    )
    assert typo["message"].endswith("Did you mean 'user_data'?")
    for purpose in ("assistants", "batch", "fine-tune", "vision", "user_data", "evals"):
        stored = http.post("/v1/files", data={"purpose": purpose}, files={"file": ("a.txt", b"x")})
        assert stored.status_code == 200, stored.text
        assert stored.json()["purpose"] == purpose
        http.delete(f"/v1/files/{stored.json()['id']}")

"""Errors that say the fix (issue 19, item 7): the closest model or enum value, the setting that
allows a refused URL, the route a body of another format belongs to, and one wording (with one
notion of position) for a body that is not JSON or not UTF-8, whichever face reads it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from inputtokens import InvalidRequestError, Settings, count_input_tokens
from inputtokens.cli import cli
from inputtokens.core import json_body
from inputtokens.library import local_sources

RESPONSES = "/v1/responses/input_tokens"
CHAT = "/v1/chat/completions/input_tokens"
EMBEDDINGS = "/v1/embeddings/input_tokens"


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def cli_error(raw: bytes, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["count", "-", *args], input=raw, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr
    error: dict[str, Any] = json.loads(result.stderr)["error"]
    return error


# ---- closest matches -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "suggested"),
    [
        (RESPONSES, {"model": "gpt5", "input": "hi"}, "gpt-5"),
        (CHAT, {"model": "gpt5", "messages": [{"role": "user", "content": "hi"}]}, "gpt-5"),
        (EMBEDDINGS, {"model": "text-embeding-3-small", "input": "hi"}, "text-embedding-3-small"),
    ],
)
def test_a_mistyped_model_names_the_closest(
    http: httpx.Client, path: str, body: dict[str, Any], suggested: str
) -> None:
    error = error_of(http.post(path, json=body))
    assert error["code"] == "model_not_found"
    assert error["message"] == (
        f"The requested model '{body['model']}' does not exist. Did you mean '{suggested}'?"
    )


def test_another_version_is_not_a_typo(http: httpx.Client) -> None:
    error = error_of(http.post(RESPONSES, json={"model": "gpt-9", "input": "hi"}))
    assert error["message"] == "The requested model 'gpt-9' does not exist."


def test_the_models_route_suggests_too(http: httpx.Client) -> None:
    response = http.get("/v1/models/gpt5")
    assert response.status_code == 404
    assert response.json()["error"]["message"].endswith("Did you mean 'gpt-5'?")


def _message(content: Any, **item: Any) -> dict[str, Any]:
    return {"model": "gpt-5", "input": [{"role": "user", "content": content, **item}]}


@pytest.mark.parametrize(
    ("path", "body", "param", "suggested"),
    [
        (RESPONSES, _message("hi", type="mesage"), "input[0].type", "message"),
        (RESPONSES, _message("hi", role="usr"), "input[0].role", "user"),
        (
            RESPONSES,
            _message([{"type": "input_txt", "text": "x"}]),
            "input[0].content[0].type",
            "input_text",
        ),
        (RESPONSES, {"model": "gpt-5", "input": "x", "truncation": "auton"}, "truncation", "auto"),
        (
            CHAT,
            {"model": "gpt-5", "messages": [{"role": "systme", "content": "x"}]},
            "messages[0].role",
            "system",
        ),
        (
            CHAT,
            {"model": "gpt-5", "messages": [{"role": "user", "content": [{"type": "txt"}]}]},
            "messages[0].content[0].type",
            "text",
        ),
    ],
)
def test_a_mistyped_enum_value_names_the_closest(
    http: httpx.Client, path: str, body: dict[str, Any], param: str, suggested: str
) -> None:
    error = error_of(http.post(path, json=body))
    assert (error["code"], error["param"]) == ("invalid_value", param)
    assert error["message"].startswith("Invalid value: ")
    assert error["message"].endswith(f"Did you mean '{suggested}'?")


def test_a_value_like_none_gets_no_suggestion(http: httpx.Client) -> None:
    error = error_of(http.post(RESPONSES, json={**_message("hi"), "truncation": "zzzz"}))
    assert "Did you mean" not in error["message"]


# ---- a refused URL names the setting ---------------------------------------------------------


def test_a_refused_loopback_url_names_the_allow_list() -> None:
    body = _message([{"type": "input_image", "image_url": "http://127.0.0.1:9/cat.png"}])
    with pytest.raises(InvalidRequestError) as caught:
        count_input_tokens(body, settings=Settings(), sources=local_sources(Settings()))
    assert caught.value.code == "url_not_allowed"
    assert caught.value.message.endswith(
        "To fetch from it, add '127.0.0.1' to INPUTTOKENS_REMOTE_ALLOW_HOSTS."
    )


# ---- a body sent to the route of another format ----------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "hint"),
    [
        (
            RESPONSES,
            {"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]},
            "This looks like a Chat Completions body: count it at POST "
            "/v1/chat/completions/input_tokens.",
        ),
        (
            "/openai" + RESPONSES,
            {"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]},
            "count it at POST /openai/v1/chat/completions/input_tokens.",
        ),
        (
            CHAT,
            {"model": "gpt-5", "input": "hi"},
            "This looks like a Responses body: count it at POST /v1/responses/input_tokens.",
        ),
        (
            RESPONSES,
            {"model": "text-embedding-3-small", "input": "hi"},
            "'text-embedding-3-small' is an embedding model: count it at POST "
            "/v1/embeddings/input_tokens.",
        ),
        (
            EMBEDDINGS,
            {"model": "gpt-5", "input": "hi"},
            "'gpt-5' is not an embedding model: count it at POST /v1/responses/input_tokens.",
        ),
    ],
)
def test_a_body_on_the_wrong_route_points_to_its_route(
    http: httpx.Client, path: str, body: dict[str, Any], hint: str
) -> None:
    assert error_of(http.post(path, json=body))["message"].endswith(hint)


def test_an_unknown_parameter_alone_gets_no_route_hint(http: httpx.Client) -> None:
    error = error_of(http.post(RESPONSES, json={"model": "gpt-5", "input": "x", "foo": 1}))
    assert error["message"] == "Unknown parameter: 'foo'."


# ---- bad JSON: one wording, one position, every face ----------------------------------------

BAD_BODIES = [
    (
        b'{"model": "gpt-5",',
        "Expecting property name enclosed in double quotes at line 1, column 19",
    ),
    # Non-ASCII before the error: the column counts characters, not bytes, in both faces.
    (
        '{"model": "gpt-5",\n "input": "héllo wörld" x}'.encode(),
        "Expecting ',' delimiter at line 2",
    ),
    (b'{"model": "gpt-5", "input": "x"} trailing', "Extra data at line 1, column 34"),
    (b'{"model": "gpt-5", "input": NaN}', "NaN is not a JSON value"),
]


@pytest.mark.parametrize(("raw", "says"), BAD_BODIES)
def test_bad_json_reads_the_same_over_http_and_the_cli(
    http: httpx.Client, raw: bytes, says: str
) -> None:
    over_http = error_of(http.post(RESPONSES, content=raw))
    on_cli = cli_error(raw)
    assert over_http == on_cli
    assert over_http["code"] == "invalid_json"
    assert over_http["message"].startswith("The request body is not valid JSON: ")
    assert says in over_http["message"]


def test_the_column_counts_characters() -> None:
    raw = '{"input": "héllo wörld" x}'.encode()
    with pytest.raises(InvalidRequestError) as caught:
        json_body.loads(raw)
    assert caught.value.message.endswith("at line 1, column 25.")  # 27 bytes in


@pytest.mark.parametrize(
    ("raw", "offset", "byte", "reason"),
    [
        (b'{"model": "gpt-5", "input": "caf\xe9"}', 32, "0xe9", "invalid continuation byte"),
        (b'{"model": "gpt-5", "input": "\xff"}', 29, "0xff", "invalid start byte"),
        (b'{"model": "gpt-5", "input": "\xed\xa0\x80"}', 29, "0xed", "invalid continuation byte"),
    ],
)
def test_invalid_utf8_is_named_with_its_byte_offset(
    http: httpx.Client, raw: bytes, offset: int, byte: str, reason: str
) -> None:
    over_http = error_of(http.post(RESPONSES, content=raw))
    assert over_http == cli_error(raw)
    assert over_http["code"] == "invalid_json"
    assert over_http["message"] == (
        f"The request body is not valid UTF-8: cannot decode byte {byte} at byte offset "
        f"{offset} ({reason})."
    )
    assert "surrogates" not in over_http["message"]


def test_a_batch_line_uses_the_same_words() -> None:
    from inputtokens.batch.lines import count_line
    from inputtokens.count.pipeline import CountOptions

    result = count_line(b'{"custom_id": "a",', 7, CountOptions())
    assert result.error is not None
    assert result.error["message"] == (
        "The line is not valid JSON: Expecting property name enclosed in double quotes at "
        "line 1, column 19."
    )

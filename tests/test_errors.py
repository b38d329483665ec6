"""Every error over HTTP: status, and OpenAI's envelope with the right type, param and code.

The open server accepts anything well-formed; the keyed server requires one API key and caps
bodies at a small size (see conftest.py; the values are read from its settings here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from inputtokens.core.tokenizer import get_encoding

COUNT_PATH = "/v1/responses/input_tokens"
INVALID = "invalid_request_error"


def check_error(
    response: httpx.Response,
    status: int,
    *,
    param: str | None,
    code: str | None,
    type: str = INVALID,
) -> dict[str, Any]:
    """Assert `response` is OpenAI's error envelope with these fields; return the error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in error["message"]
    assert (error["type"], error["param"], error["code"]) == (type, param, code)
    return error


def post(http: httpx.Client, body: Any, **kwargs: Any) -> httpx.Response:
    return http.post(COUNT_PATH, json=body, **kwargs)


# ---- one test per validation code ------------------------------------------------------------


def test_invalid_json(http: httpx.Client) -> None:
    response = http.post(
        COUNT_PATH,
        content=b'{"model": "gpt-5", "input": ',
        headers={"content-type": "application/json"},
    )
    error = check_error(response, 400, param=None, code="invalid_json")
    assert "not valid JSON" in error["message"]


def test_empty_body_is_invalid_json(http: httpx.Client) -> None:
    response = http.post(COUNT_PATH, content=b"", headers={"content-type": "application/json"})
    check_error(response, 400, param=None, code="invalid_json")


def test_invalid_type(http: httpx.Client) -> None:
    error = check_error(
        post(http, {"model": "gpt-5", "input": 5}), 400, param="input", code="invalid_type"
    )
    assert "integer" in error["message"]


def test_invalid_type_nested(http: httpx.Client) -> None:
    body = {"model": "gpt-5", "input": [{"role": "user", "content": 7}]}
    check_error(post(http, body), 400, param="input[0].content", code="invalid_type")


def test_invalid_value_content_part_type(http: httpx.Client) -> None:
    part = {"type": "bogus", "text": "x"}
    body = {"model": "gpt-5", "input": [{"role": "user", "content": [part]}]}
    error = check_error(
        post(http, body), 400, param="input[0].content[0].type", code="invalid_value"
    )
    assert "'bogus'" in error["message"]


def test_invalid_value_enum(http: httpx.Client) -> None:
    body = {"model": "gpt-5", "input": "x", "truncation": "sometimes"}
    check_error(post(http, body), 400, param="truncation", code="invalid_value")


def test_unknown_parameter_top_level(http: httpx.Client) -> None:
    error = check_error(
        post(http, {"model": "gpt-5", "input": "x", "foo": 1}),
        400,
        param="foo",
        code="unknown_parameter",
    )
    assert error["message"] == "Unknown parameter: 'foo'."


def test_unknown_parameter_nested(http: httpx.Client) -> None:
    body = {"model": "gpt-5", "input": [{"role": "user", "content": "x", "foo": 1}]}
    check_error(post(http, body), 400, param="input[0].foo", code="unknown_parameter")


def test_missing_required_parameter_message_content(http: httpx.Client) -> None:
    body = {"model": "gpt-5", "input": [{"role": "user"}]}
    check_error(post(http, body), 400, param="input[0].content", code="missing_required_parameter")


def test_missing_required_parameter_input(http: httpx.Client) -> None:
    check_error(
        post(http, {"model": "gpt-5"}), 400, param="input", code="missing_required_parameter"
    )


def test_mutually_exclusive_parameters(http: httpx.Client) -> None:
    body = {"model": "gpt-5", "input": "x", "conversation": "conv_1", "previous_response_id": "r_1"}
    check_error(post(http, body), 400, param=None, code="mutually_exclusive_parameters")


def test_model_not_found(http: httpx.Client) -> None:
    error = check_error(
        post(http, {"model": "gpt-9000-ultra", "input": "x"}),
        400,
        param="model",
        code="model_not_found",
    )
    assert "gpt-9000-ultra" in error["message"]


@pytest.mark.parametrize(("value", "code"), [("", "empty_string"), ([], "empty_array")])
def test_empty_input(http: httpx.Client, value: Any, code: str) -> None:
    check_error(post(http, {"model": "gpt-5", "input": value}), 400, param="input", code=code)


@pytest.mark.parametrize("body", [[{"model": "gpt-5", "input": "x"}], "x", 5, None])
def test_body_that_is_not_an_object(http: httpx.Client, body: Any) -> None:
    response = http.post(
        COUNT_PATH, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    check_error(response, 400, param=None, code="invalid_type")


def test_deeply_nested_json_is_a_400(http: httpx.Client) -> None:
    depth = 5000
    raw = ("[" * depth + "]" * depth).encode()
    response = http.post(COUNT_PATH, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    check_error(response, 400, param=None, code="invalid_json")


def test_deeply_nested_object_in_body_is_a_400(http: httpx.Client) -> None:
    # Deep, yet within the JSON parser's depth limit, inside a free-form JSON Schema that the
    # renderer serialises: the service must answer 400, never 500.
    depth = 1000
    raw = '{"a":' * depth + "1" + "}" * depth
    body = (
        '{"model":"gpt-5","input":"x","text":{"format":{"type":"json_schema","name":"s",'
        '"schema":' + raw + "}}}"
    )
    response = http.post(
        COUNT_PATH, content=body.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    check_error(response, 400, param=None, code="invalid_value")


def test_server_still_answers_after_nested_bodies(http: httpx.Client) -> None:
    assert post(http, {"model": "gpt-5", "input": "x"}).status_code == 200


def test_huge_whitespace_run_is_counted_not_refused(http: httpx.Client) -> None:
    # tiktoken panics on a whitespace run of about a million characters; the counter splits it
    # (splitting.py) and answers with the exact count: the run's own merge plus " x".
    enc = get_encoding("o200k_base")
    response = post(http, {"model": "gpt-5", "input": " " * 1_000_000 + "x"})
    assert response.status_code == 200
    run = enc._core_bpe.encode_single_piece(b" " * 999_999)
    assert response.json()["input_tokens"] == 6 + len(run) + len(enc.encode_ordinary(" x"))


# ---- the openai client surfaces the envelope -------------------------------------------------


def test_openai_client_raises_bad_request_error(openai_client) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.responses.input_tokens.count(model="gpt-5", input="x", extra_body={"foo": 1})
    exc = info.value
    assert exc.status_code == 400
    assert exc.code == "unknown_parameter"
    assert exc.param == "foo"
    assert exc.type == INVALID
    assert exc.body == {
        "message": "Unknown parameter: 'foo'.",
        "type": INVALID,
        "param": "foo",
        "code": "unknown_parameter",
    }


def test_openai_client_model_not_found(openai_client) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.responses.input_tokens.count(model="not-a-model", input="x")
    assert info.value.code == "model_not_found"
    assert info.value.param == "model"


def test_openai_client_not_found_for_unknown_model_card(openai_client) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        openai_client.models.retrieve("not-a-model")
    assert info.value.code == "model_not_found"


# ---- authentication (keyed server) -------------------------------------------------------------


@pytest.fixture(scope="module")
def api_key(keyed_server: Any) -> str:
    (key,) = keyed_server.settings.api_keys
    return str(key)


@pytest.fixture(scope="module")
def limit(keyed_server: Any) -> int:
    return int(keyed_server.settings.max_body_bytes)


@pytest.fixture(scope="module")
def keyed_openai(keyed_base_url: str, api_key: str) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=f"{keyed_base_url}/v1", api_key=api_key, max_retries=0)
    yield client
    client.close()


def test_401_without_key(keyed_http: httpx.Client) -> None:
    check_error(post(keyed_http, {"input": "x"}), 401, param=None, code="missing_api_key")


@pytest.mark.parametrize("header", ["Bearer sk-wrong", "Bearer sk-test-10", "Bearer sk-test-"])
def test_401_with_wrong_key(keyed_http: httpx.Client, header: str) -> None:
    response = post(keyed_http, {"input": "x"}, headers={"Authorization": header})
    check_error(response, 401, param=None, code="invalid_api_key")


@pytest.mark.parametrize("header", ["Basic c2stdGVzdC0xOg==", "Bearer", "sk-test-1"])
def test_401_with_malformed_authorization(keyed_http: httpx.Client, header: str) -> None:
    response = post(keyed_http, {"input": "x"}, headers={"Authorization": header})
    check_error(response, 401, param=None, code="missing_api_key")


def test_models_need_the_key_too(keyed_http: httpx.Client, api_key: str) -> None:
    check_error(keyed_http.get("/v1/models"), 401, param=None, code="missing_api_key")
    check_error(keyed_http.get("/v1/models/gpt-4o"), 401, param=None, code="missing_api_key")
    ok = keyed_http.get("/v1/models", headers={"Authorization": f"Bearer {api_key}"})
    assert ok.status_code == 200


def test_healthz_needs_no_key(keyed_http: httpx.Client) -> None:
    assert keyed_http.get("/healthz").status_code == 200


def test_right_key_via_openai_client(keyed_openai: openai.OpenAI, expected) -> None:
    result = keyed_openai.responses.input_tokens.count(model="gpt-5", input="Tell me a joke.")
    assert result.input_tokens == expected.reasoning([("user", "Tell me a joke.")])


def test_wrong_key_via_openai_client(keyed_base_url: str) -> None:
    with openai.OpenAI(base_url=f"{keyed_base_url}/v1", api_key="sk-wrong", max_retries=0) as c:
        with pytest.raises(openai.AuthenticationError) as info:
            c.responses.input_tokens.count(model="gpt-5", input="x")
    assert info.value.status_code == 401
    assert info.value.code == "invalid_api_key"
    assert info.value.type == INVALID


# ---- body size limit (keyed server) ----------------------------------------------------------


def _body_of_size(size: int) -> bytes:
    """A valid count body of exactly `size` bytes."""
    skeleton = json.dumps({"model": "gpt-5", "input": ""}).encode()
    body = json.dumps({"model": "gpt-5", "input": "a" * (size - len(skeleton))}).encode()
    assert len(body) == size
    return body


def test_body_at_the_limit_is_accepted(keyed_http: httpx.Client, api_key: str, limit: int) -> None:
    response = keyed_http.post(
        COUNT_PATH,
        content=_body_of_size(limit),
        headers={"Authorization": f"Bearer {api_key}", "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text


def test_413_over_the_limit(keyed_http: httpx.Client, api_key: str, limit: int) -> None:
    response = keyed_http.post(
        COUNT_PATH,
        content=_body_of_size(limit + 1),
        headers={"Authorization": f"Bearer {api_key}", "content-type": "application/json"},
    )
    error = check_error(response, 413, param=None, code="request_too_large")
    assert str(limit) in error["message"]


def test_413_over_the_limit_chunked(keyed_http: httpx.Client, api_key: str, limit: int) -> None:
    # No Content-Length: the limit is enforced while streaming the body.
    data = _body_of_size(limit * 3)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    response = keyed_http.post(
        COUNT_PATH,
        content=chunks(),
        headers={"Authorization": f"Bearer {api_key}", "content-type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    check_error(response, 413, param=None, code="request_too_large")


def test_413_via_openai_client(keyed_openai: openai.OpenAI, limit: int) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        keyed_openai.responses.input_tokens.count(model="gpt-5", input="a" * (limit + 1))
    assert info.value.status_code == 413
    assert info.value.code == "request_too_large"

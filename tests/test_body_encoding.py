"""Request bodies sent with ``Content-Encoding: gzip`` or ``deflate`` are decoded, the decoded
size held to INPUTTOKENS_MAX_BODY_BYTES (a zip bomb stops at the limit: 413), on every route
that reads a body; an encoding this service cannot decode is a 415, damaged data a 400. Over a
real server, and through ``decode_body`` itself."""

from __future__ import annotations

import gzip
import json
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from inputtokens import PayloadTooLargeError, Settings
from inputtokens.api.common import decode_body
from inputtokens.core.errors import InvalidRequestError, UnsupportedMediaTypeError

LIMIT = 4096
BODY = {"model": "gpt-5", "input": "Tell me a joke about tokens."}
RAW = json.dumps(BODY).encode()


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


ENCODED = {
    "gzip": gzip.compress(RAW),
    "x-gzip": gzip.compress(RAW),
    "deflate": zlib.compress(RAW),
    "Deflate": _raw_deflate(RAW),  # raw deflate, as some clients send it; any case
    "gzip, deflate": zlib.compress(gzip.compress(RAW)),  # in the order applied
    "identity": RAW,
}


@pytest.fixture(scope="module")
def small(start_server: Callable[[Settings], Any]) -> Iterator[httpx.Client]:
    server = start_server(Settings(max_body_bytes=LIMIT))
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


def _post(client: httpx.Client, path: str, content: bytes, encoding: str) -> httpx.Response:
    headers = {"Content-Type": "application/json", "Content-Encoding": encoding}
    return client.post(path, content=content, headers=headers)


@pytest.mark.parametrize("encoding", list(ENCODED))
def test_an_encoded_body_counts_as_the_plain_one(http: httpx.Client, encoding: str) -> None:
    plain = http.post("/v1/responses/input_tokens", content=RAW).json()
    answer = _post(http, "/v1/responses/input_tokens", ENCODED[encoding], encoding)
    assert answer.status_code == 200, answer.text
    assert answer.json() == plain


def test_every_body_route_decodes(http: httpx.Client) -> None:
    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    counted = _post(
        http, "/v1/chat/completions/input_tokens", gzip.compress(json.dumps(chat).encode()), "gzip"
    )
    assert counted.status_code == 200, counted.text
    embedded = _post(
        http, "/v1/embeddings/input_tokens", gzip.compress(b'{"input": "hello"}'), "gzip"
    )
    assert embedded.status_code == 200, embedded.text
    conversation = _post(
        http, "/v1/conversations", gzip.compress(b'{"metadata": {"k": "v"}}'), "gzip"
    )
    assert conversation.status_code == 200, conversation.text
    assert conversation.json()["metadata"] == {"k": "v"}


def test_the_openai_client_can_send_gzip(openai_client: Any) -> None:
    answer = openai_client.post(
        "/responses/input_tokens",
        cast_to=object,
        content=gzip.compress(RAW),
        options={"headers": {"Content-Encoding": "gzip", "Content-Type": "application/json"}},
    )
    assert answer["input_tokens"] > 0


def test_a_zip_bomb_stops_at_the_limit(small: httpx.Client) -> None:
    bomb = gzip.compress(b'{"input": "' + b" " * 3_000_000 + b'"}', compresslevel=9)
    assert len(bomb) < LIMIT  # the compressed body fits; decoded it is 3 MB
    for path in ("/v1/responses/input_tokens", "/v1/conversations", "/v1/embeddings/input_tokens"):
        answer = _post(small, path, bomb, "gzip")
        assert answer.status_code == 413, answer.text
        error = answer.json()["error"]
        assert error["code"] == "request_too_large"
        assert error["message"].startswith("Request body too large: the limit is ")
        assert error["message"].endswith(" bytes, decompressed (Content-Encoding: gzip).")
    at_limit = _post(small, "/v1/responses/input_tokens", gzip.compress(RAW), "gzip")
    assert at_limit.status_code == 200, at_limit.text


def test_unknown_and_damaged_encodings(http: httpx.Client) -> None:
    brotli = _post(http, "/v1/responses/input_tokens", b"\x0b\x02\x80hi\x03", "br")
    assert brotli.status_code == 415
    assert brotli.json()["error"] == {
        "message": "Unsupported Content-Encoding 'br': send the body as it is, or compressed "
        "with gzip or deflate.",
        "type": "invalid_request_error",
        "param": None,
        "code": "unsupported_content_encoding",
    }
    damaged = _post(http, "/v1/responses/input_tokens", b"not gzip at all", "gzip")
    assert damaged.status_code == 400
    assert damaged.json()["error"]["code"] == "invalid_content_encoding"
    assert damaged.json()["error"]["message"].startswith(
        "The request body is not valid gzip data (Content-Encoding: gzip): "
    )
    cut = _post(http, "/v1/responses/input_tokens", ENCODED["gzip"][:-12], "gzip")
    assert cut.status_code == 400
    assert cut.json()["error"]["message"].endswith("the data ends early.")
    upload = http.post(
        "/v1/files",
        data={"purpose": "user_data"},
        files={"file": ("a.txt", b"x")},
        headers={"Content-Encoding": "gzip"},
    )
    assert upload.status_code == 415
    assert upload.json()["error"]["code"] == "unsupported_content_encoding"


# ---- decode_body itself ------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", list(ENCODED))
def test_decode_body(encoding: str) -> None:
    assert decode_body(ENCODED[encoding], encoding, LIMIT) == RAW
    assert decode_body(ENCODED[encoding], encoding.encode(), LIMIT) == RAW  # as ASGI gives it


def test_decode_body_passes_a_plain_body_through() -> None:
    assert decode_body(RAW, None, LIMIT) is RAW
    assert decode_body(b"", "gzip", LIMIT) == b""
    assert decode_body(gzip.compress(RAW) + gzip.compress(RAW), "gzip", LIMIT) == RAW + RAW


def test_decode_body_stops_a_bomb_at_the_limit_without_inflating_it() -> None:
    # 256 MB of zeros in about 1 MB: decoding stops at the limit, long before it all.
    packer = zlib.compressobj(1, wbits=16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    bomb = b"".join(packer.compress(block) for _ in range(256)) + packer.flush()
    started = time.perf_counter()
    with pytest.raises(PayloadTooLargeError):
        decode_body(bomb, "gzip", 1 << 20)
    assert time.perf_counter() - started < 1.0
    exact = bytes(LIMIT)
    assert decode_body(gzip.compress(exact), "gzip", LIMIT) == exact  # at the limit: fine
    with pytest.raises(PayloadTooLargeError):
        decode_body(gzip.compress(exact + b"x"), "gzip", LIMIT)


def test_decode_body_errors() -> None:
    with pytest.raises(UnsupportedMediaTypeError):
        decode_body(RAW, "zstd", LIMIT)
    with pytest.raises(InvalidRequestError) as info:
        decode_body(zlib.compress(RAW) + b"junk", "deflate", LIMIT)
    assert info.value.code == "invalid_content_encoding"

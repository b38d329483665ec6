"""What every route module shares: the JSON response, body reading, the caller's identity and
the store, bundled as an ``ApiContext`` that app.py builds once per app; the stored-object
routes call the service (state/service.py) through ``ApiContext.run_stored``."""

from __future__ import annotations

import hmac
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import Receive

from ..core import json_body
from ..core.errors import (
    AuthenticationError,
    InvalidRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from ..library import open_store
from ..settings import Settings
from ..state.records import key_owner
from ..state.service import StoredObjects

if TYPE_CHECKING:
    from ..state.store import Store

T = TypeVar("T")


# Query and header values that turn a flag on (?verbose=true, ?lines=1, ...).
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused (413) past `limit` bytes, declared or streamed."""
    raw = await receive_body(request.receive, request.headers.get("content-length"), limit)
    return decode_body(raw, request.headers.get("content-encoding"), limit)


async def receive_body(receive: Receive, declared: str | bytes | None, limit: int) -> bytes:
    """The whole body from ASGI `receive`, refused (413) when the declared Content-Length or
    the bytes received pass `limit`."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):
        if len(body) > limit:
            raise _too_large(limit)
        return body  # the usual case: one message, no copy
    chunks = [body]
    size = len(body)
    while message.get("more_body"):
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


# Content-Encoding -> zlib's wbits: gzip (with its header), deflate (the zlib format, or raw
# deflate as some clients send it: told by the first bytes).
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def decode_body(raw: bytes, encoding: str | bytes | None, limit: int) -> bytes:
    """`raw` decoded as its Content-Encoding says (gzip, deflate, or several in the order
    applied), refused (413) as soon as the decoded bytes pass `limit`: a small compressed
    body cannot expand without bound. No encoding or ``identity``: `raw` as it is. Another
    encoding is a 415."""
    if not encoding or not raw:
        return raw
    text = encoding.decode("latin-1") if isinstance(encoding, bytes) else encoding
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    for name in reversed(names):  # the last encoding applied is undone first
        if name == "identity":
            continue
        wbits = _WBITS.get(name)
        if wbits is None:
            raise UnsupportedMediaTypeError(
                f"Unsupported Content-Encoding '{name}': send the body as it is, or compressed "
                "with gzip or deflate.",
                code="unsupported_content_encoding",
            )
        if name == "deflate" and raw[:1] and (raw[0] & 0x0F != 8 or int.from_bytes(raw[:2]) % 31):
            wbits = -zlib.MAX_WBITS  # no zlib header: raw deflate
        raw = _inflate(raw, wbits, limit, name)
    return raw


def _inflate(data: bytes, wbits: int, limit: int, name: str) -> bytes:
    """`data` decompressed, at most `limit` bytes produced (zlib's max_length) before a 413;
    the members of a multi-member gzip body follow one another."""
    out: list[bytes] = []
    size = 0
    while True:
        inflater = zlib.decompressobj(wbits)
        pending = data
        try:
            while True:
                chunk = inflater.decompress(pending, limit + 1 - size)
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLargeError(
                        f"Request body too large: the limit is {limit} bytes, decompressed "
                        f"(Content-Encoding: {name}).",
                        code="request_too_large",
                    )
                out.append(chunk)
                pending = inflater.unconsumed_tail
                if inflater.eof or not (pending or chunk):
                    break
        except zlib.error as exc:
            raise _bad_encoding(name, str(exc)) from None
        if not inflater.eof:
            raise _bad_encoding(name, "the data ends early")
        data = inflater.unused_data
        if not data or wbits < 16:
            break
    if data:
        raise _bad_encoding(name, "there are bytes after the end of the compressed data")
    return b"".join(out)


def _bad_encoding(name: str, reason: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"The request body is not valid {name} data (Content-Encoding: {name}): {reason}.",
        param=None,
        code="invalid_content_encoding",
    )


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"Request body too large: the limit is {limit} bytes.", code="request_too_large"
    )


def parse_json(raw: bytes) -> Any:
    """The body as JSON (orjson), or the ``invalid_json`` error every face words the same
    way (core/json_body.py)."""
    return json_body.loads(raw, fast=orjson.loads)


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object (an empty body is an empty object)."""
    raw = await read_body(request, limit)
    body = parse_json(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise InvalidRequestError(
            "The request body must be a JSON object.", param=None, code="invalid_type"
        )
    return body


def bearer_token(request: HTTPConnection) -> str | None:
    return token_from_authorization(request.headers.get("authorization", ""))


def token_from_authorization(value: str) -> str | None:
    """The key of an ``Authorization: Bearer KEY`` header value."""
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


@dataclass(frozen=True)
class ApiContext:
    """Settings, the accepted keys and the store, for the routes of one app."""

    settings: Settings
    keys: tuple[bytes, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(k.encode() for k in self.settings.api_keys))

    def authenticate(self, request: Request) -> str:
        """Check the bearer key; returns the owner of what the caller stores."""
        return self.owner_of(bearer_token(request))

    def owner_of(self, token: str | None) -> str:
        """The owner for a bearer token: ``key_owner`` of the key (a digest, never the key),
        after checking it against the accepted keys when there are any. Without accepted keys
        every key is its own owner, so callers are kept apart with no configuration, and a
        caller without a key is the anonymous owner "" that all such callers share."""
        if not self.keys:
            return key_owner(token) if token else ""
        if not token:
            raise AuthenticationError(
                "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.",
                code="missing_api_key",
            )
        given = token.encode()
        for key in self.keys:
            if hmac.compare_digest(given, key):
                return key_owner(token)  # stored objects belong to the key
        raise AuthenticationError("Incorrect API key provided.", code="invalid_api_key")

    def store(self) -> Store:
        return open_store(self.settings.store_url())  # SQLAlchemy loads with the first use

    async def run_stored(self, owner: str, call: Callable[[StoredObjects], T]) -> T:
        """`call` on the stored objects of `owner`, in a worker thread: opening the store
        (migrating it, the first time) and every query block, so none may run on the loop."""
        return await run_in_threadpool(lambda: call(StoredObjects(self.store(), owner)))

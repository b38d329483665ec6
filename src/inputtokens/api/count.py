"""The count route as a bare ASGI endpoint: the hot path of the service.

Agents call this before every model request, so it skips what a framework adds per request
(middleware, routing, Request/Response objects): it reads the few headers it needs straight
from the ASGI scope, the body from ``receive``, and sends pre-built header lists. On this
machine that removes about 60% of the per-request cost of a tiny count (docs/performance.md).

The app dispatches the count paths here directly (``InputTokensApp``); Starlette's router also
mounts this endpoint, so routing, the OpenAPI listing and 405s for other methods stay as they
are. Every error leaves as OpenAI's envelope, as from the other routes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from hashlib import blake2b
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.concurrency import run_in_threadpool

from ..core.errors import InputTokensError
from ..core.token_cache import LruTable
from ..count.pipeline import count_input_tokens, prepare
from ..settings import Settings
from ..state.resolve import needs_state
from .common import ApiContext, parse_json, receive_body, token_from_authorization

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

COUNT_PATHS = ("/v1/responses/input_tokens", "/openai/v1/responses/input_tokens")
log = logging.getLogger("inputtokens")
_TRUE = frozenset({"1", "true", "yes", "on"})
_JSON_TYPE = (b"content-type", b"application/json")
_SERVER_ERROR = orjson.dumps(
    {
        "error": {
            "message": "The server had an error processing your request.",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
)


def _names_remote_url(raw: bytes) -> bool:
    """Whether the body may name an http(s) image_url or file_url (a cheap over-estimate)."""
    if b'_url"' not in raw:
        return False
    import re  # only bodies with an *_url key get here

    return re.search(rb'_url"\s*:\s*"https?:', raw, re.IGNORECASE) is not None


class _Call:
    """What one request's headers and query string say, read once from the scope."""

    __slots__ = ("authorization", "content_length", "verbose", "tokens")

    def __init__(self, scope: Scope) -> None:
        self.authorization = ""
        self.content_length: bytes | None = None
        verbose = tokens = ""
        for name, value in scope["headers"]:
            # ASGI servers give header names in lower case.
            if name == b"authorization":
                self.authorization = value.decode("latin-1")
            elif name == b"content-length":
                self.content_length = value
            elif name == b"inputtokens-verbose":
                verbose = value.decode("latin-1")
            elif name == b"inputtokens-tokens":
                tokens = value.decode("latin-1")
        query = scope.get("query_string")
        if query:
            # The query parameter wins over the header (docs/http.md, Verbose view).
            params = dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True))
            verbose = params.get("verbose") or verbose
            tokens = params.get("tokens") or tokens
        self.tokens = tokens.lower() in _TRUE
        self.verbose = self.tokens or verbose.lower() in _TRUE


class AnswerCache(LruTable[bytes]):
    """Body -> OpenAI's answer, for bodies whose count depends on nothing but the body.

    Agents and SDK middleware send the very same body again (a retry, a count before and
    after a check); hashing it costs microseconds where validating and rendering it again cost
    hundreds. Only plain answers (not the verbose view, whose cache figures change) of bodies
    that read no stored state, file or URL are kept: the settings are fixed for the app, so the
    body alone decides the answer. Used from the event loop only, hence no lock.
    """


class CountEndpoint:
    """``POST /v1/responses/input_tokens`` as an ASGI app."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx
        self.settings: Settings = ctx.settings
        self.answers = AnswerCache(max(ctx.settings.cache_entries, 0))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, body = 200, await self._answer(scope, receive)
        except InputTokensError as exc:
            status, body = exc.status, orjson.dumps(exc.to_envelope())
        except Exception:
            log.exception("unexpected error on POST %s", scope.get("path"))
            status, body = 500, _SERVER_ERROR
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [_JSON_TYPE, (b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: Scope, receive: Receive) -> bytes:
        call = _Call(scope)
        owner = self.ctx.owner_of(token_from_authorization(call.authorization))
        settings = self.settings
        raw = await receive_body(receive, call.content_length, settings.max_body_bytes)
        key = None
        if not call.verbose and self.answers.max_entries:
            key = blake2b(raw, digest_size=16).digest()
            answer = self.answers.get(key)
            if answer is not None:
                return answer
        body = prepare(parse_json(raw), settings)
        if (
            needs_state(body)
            or b'"file_id"' in raw
            or (settings.remote_fetch and _names_remote_url(raw))
        ):
            # The store and fetching block; a worker thread keeps the event loop serving.
            from starlette.requests import Request

            from ..state.upstream import upstream_fallback

            result = await run_in_threadpool(
                count_input_tokens,
                body,
                settings=settings,
                return_tokens=call.tokens,
                owner=owner,
                fallback=upstream_fallback(settings, Request(scope)),
            )
            key = None  # the answer depends on stored or fetched data too
        else:
            result = count_input_tokens(body, settings=settings, return_tokens=call.tokens)
        if call.verbose:
            return orjson.dumps(result.to_rich())
        answer = orjson.dumps(result.to_openai())
        if key is not None:
            self.answers.put(key, answer)
        return answer

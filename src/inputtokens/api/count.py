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
from functools import partial
from time import perf_counter
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.concurrency import run_in_threadpool

from ..core.digest import digest
from ..core.errors import InvalidRequestError, ModelNotFoundError, wire_error, with_hint
from ..core.models import (
    DEFAULT_EMBEDDING_MODEL,
    ModelRegistry,
    first_countable,
    lookup_embedding_model,
)
from ..core.result import RESPONSES_OBJECT, TokenCount, openai_json
from ..core.token_cache import TokenCountCache
from ..count.needs import chat_media_needs, find_needs
from ..count.pipeline import (
    CHAT_OBJECT,
    EMBEDDINGS_OBJECT,
    count_chat_request,
    count_embeddings_request,
    count_request,
    prepare,
    prepare_chat,
)
from ..count.plain_text import BEHIND_ANSWERS_CACHE_FROM_CHARS, PlainTextCounter
from ..formats.embeddings import parse_embeddings_request
from ..library import local_sources
from ..pricing import rich_cost
from ..settings import Settings
from .common import (
    TRUE_WORDS,
    ApiContext,
    decode_body,
    parse_json,
    receive_body,
    token_from_authorization,
)
from .metrics import Metrics, error_code

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

RESPONSES_PATHS = ("/v1/responses/input_tokens", "/openai/v1/responses/input_tokens")
# Our count route for Chat Completions bodies (OpenAI has none), with the gateway alias.
CHAT_PATHS = ("/v1/chat/completions/input_tokens", "/openai/v1/chat/completions/input_tokens")
# And for Embeddings bodies: each input entry's tokens, summed.
EMBEDDINGS_PATHS = ("/v1/embeddings/input_tokens", "/openai/v1/embeddings/input_tokens")
COUNT_PATHS = (*RESPONSES_PATHS, *CHAT_PATHS, *EMBEDDINGS_PATHS)
log = logging.getLogger("inputtokens")
_JSON_TYPE = (b"content-type", b"application/json")


class _Call:
    """What one request's headers and query string say, read once from the scope."""

    __slots__ = ("authorization", "content_length", "content_encoding", "verbose", "tokens")

    def __init__(self, scope: Scope) -> None:
        self.authorization = ""
        self.content_length: bytes | None = None
        self.content_encoding: bytes | None = None
        verbose = tokens = ""
        for name, value in scope["headers"]:
            # ASGI servers give header names in lower case.
            if name == b"authorization":
                self.authorization = value.decode("latin-1")
            elif name == b"content-length":
                self.content_length = value
            elif name == b"content-encoding":
                self.content_encoding = value
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
        self.tokens = tokens.lower() in TRUE_WORDS
        self.verbose = self.tokens or verbose.lower() in TRUE_WORDS


class AnswerCache(TokenCountCache):
    """Body -> its input tokens, for bodies whose count depends on nothing but the body.

    Agents and SDK middleware send the very same body again (a retry, a count before and
    after a check); hashing it costs microseconds where validating and rendering it again cost
    hundreds. Only plain answers (not the verbose view, whose cache figures change) of bodies
    that read no stored state, file or URL are kept: the settings are fixed for the app, so the
    body alone decides the answer. The answer is OpenAI's ``{"object", "input_tokens"}`` with
    the route's object, so its count is all there is to keep: every entry costs the same, and a
    put is an insert and at most one drop (it runs for every new body).
    """


# The answer's ``object`` on each route (the route's part of an answer cache key).
_OBJECT_OF_API = {b"": RESPONSES_OBJECT, b"chat": CHAT_OBJECT, b"embeddings": EMBEDDINGS_OBJECT}


class CountEndpoint:
    """``POST /v1/responses/input_tokens`` and our ``POST /v1/chat/completions/input_tokens``
    (with their ``/openai`` aliases) as an ASGI app.

    Per app: the pipeline's options, the worker's content cache and the answer cache. Per
    request: the caller's sources, built only when the body names stored state, a stored file
    or a URL; that count runs in a worker thread, since the store and fetching block.
    """

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx
        self.settings: Settings = ctx.settings
        self.options = ctx.settings.count_options()
        entries, size = ctx.settings.cache_bounds()
        self.cache = TokenCountCache(entries, size) if entries else None
        self.answers = AnswerCache(entries, size)
        self.metrics = Metrics(self.cache, self.answers)
        # Its plain bodies come here only when not in the answer cache: short texts skip the
        # content cache (count/plain_text.py).
        self.plain_text = PlainTextCounter(
            self.options, cache_from_chars=BEHIND_ANSWERS_CACHE_FROM_CHARS
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = perf_counter()
        call = _Call(scope)
        try:
            body, tokens = await self._answer(scope, receive, call)
            status = 200
        except Exception as exc:
            error = wire_error(exc, rich=call.verbose)  # the verbose view: with its figures
            if not error.expected:
                log.exception("unexpected error on POST %s", scope.get("path"))
            status, body, tokens = error.status, orjson.dumps(error.envelope), 0
            self.metrics.error(error_code(error.envelope))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [_JSON_TYPE, (b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body})
        self.metrics.count_done(scope["path"], status, tokens, perf_counter() - start)

    async def _answer(self, scope: Scope, receive: Receive, call: _Call) -> tuple[bytes, int]:
        """The answer's bytes and its input tokens."""
        owner = self.ctx.owner_of(token_from_authorization(call.authorization))
        settings = self.settings
        raw = await receive_body(receive, call.content_length, settings.max_body_bytes)
        raw = decode_body(raw, call.content_encoding, settings.max_body_bytes)
        path = scope["path"]
        api = b"chat" if path in CHAT_PATHS else b"embeddings" if path in EMBEDDINGS_PATHS else b""
        key = None
        if not call.verbose and self.answers.enabled:
            # The same body on two routes is two answers: the route is part of the key.
            key = digest(raw, api)  # the route is the domain: its own seed
            tokens = self.answers.get(key)
            if tokens is not None:
                return openai_json(_OBJECT_OF_API[api], tokens), tokens
        body = parse_json(raw)
        try:
            return await self._count(body, api, call, key, owner, scope)
        except InvalidRequestError as exc:
            raise self._route_hint(exc, body, api, path) from None

    async def _count(
        self, body: Any, api: bytes, call: _Call, key: bytes | None, owner: str, scope: Scope
    ) -> tuple[bytes, int]:
        settings = self.settings
        limits = self.options.limits
        if api == b"embeddings":
            embeddings = parse_embeddings_request(body, default_model=DEFAULT_EMBEDDING_MODEL)
            result = count_embeddings_request(embeddings, return_tokens=call.tokens)
            return self._reply(result, call, key)
        if api == b"chat":
            chat = prepare_chat(body, self.options)
            models = self.options.models
            model = first_countable(models.lookup, chat.model, chat.fallbacks)[0]
            media = chat_media_needs(chat, model)
            count_chat = partial(
                count_chat_request,
                limits=limits,
                cache=self.cache,
                return_tokens=call.tokens,
                models=models,
                media=media,
            )
            if not media:
                return self._reply(count_chat(chat), call, key)
            sources = local_sources(settings, owner=owner)  # stored files, fetched URLs
            result = await run_in_threadpool(count_chat, chat, sources)
            return self._reply(result, call, None)
        if not call.verbose:  # the plain answer of a bare string input: its count alone
            tokens = self.plain_text.count(body, self.cache)
            if tokens is not None:
                self._keep(key, tokens)
                return openai_json(RESPONSES_OBJECT, tokens), tokens
        request = prepare(body, self.options)
        models = self.options.models
        model = first_countable(models.lookup, request.model, request.fallbacks)[0]
        needs = find_needs(request, model)
        count = partial(
            count_request,
            limits=limits,
            cache=self.cache,
            return_tokens=call.tokens,
            needs=needs,
            models=models,
        )
        if not needs:
            return self._reply(count(request), call, key)
        from starlette.requests import Request

        from .upstream import upstream_fallback

        fallback = upstream_fallback(settings, Request(scope))
        sources = local_sources(settings, owner=owner, fallback=fallback)
        result = await run_in_threadpool(count, request, sources)
        # The answer depends on stored or fetched data too: not kept.
        return self._reply(result, call, None)

    def _route_hint(
        self, exc: InvalidRequestError, body: Any, api: bytes, path: str
    ) -> InvalidRequestError:
        """`exc`, pointing to the count route for the body's format when the body was sent to
        another: a Chat Completions body (``messages``) to the Responses route, an embedding
        model to the Responses or Chat route, and so on."""
        if not isinstance(body, dict):
            return exc
        prefix = "/openai" if path.startswith("/openai/") else ""
        model = body.get("model")
        if exc.code == "model_not_found" and isinstance(model, str):
            if api != b"embeddings" and _is_embedding_model(model):
                route = f"POST {prefix}{EMBEDDINGS_PATHS[0]}"
                return with_hint(exc, f"'{model}' is an embedding model: count it at {route}.")
            if api == b"embeddings" and _is_model(model, self.options.models):
                route = f"POST {prefix}{RESPONSES_PATHS[0]}"
                return with_hint(exc, f"'{model}' is not an embedding model: count it at {route}.")
            return exc
        if api == b"" and (exc.code, exc.param) == ("unknown_parameter", "messages"):
            kind, route = "a Chat Completions body", CHAT_PATHS[0]
        elif api == b"chat" and exc.param == "messages" and "input" in body:
            kind, route = "a Responses body", RESPONSES_PATHS[0]
        elif api == b"embeddings" and exc.param == "input" and "messages" in body:
            kind, route = "a Chat Completions body", CHAT_PATHS[0]
        else:
            return exc
        return with_hint(exc, f"This looks like {kind}: count it at POST {prefix}{route}.")

    def _reply(self, result: TokenCount, call: _Call, key: bytes | None) -> tuple[bytes, int]:
        """The answer's bytes (the rich view when asked for) and its input tokens; a plain one
        is kept under `key`."""
        if call.verbose:
            result.pricer = rich_cost  # cost_usd: priced for the verbose view only
            return orjson.dumps(result.to_rich()), result.input_tokens
        self._keep(key, result.input_tokens)
        return result.openai_json(), result.input_tokens

    def _keep(self, key: bytes | None, tokens: int) -> None:
        """A plain answer's count, kept in the answer cache under `key` (None: not kept)."""
        if key is not None:
            self.answers.put(key, tokens)


def _is_embedding_model(name: str) -> bool:
    try:
        lookup_embedding_model(name)
    except ModelNotFoundError:
        return False
    return True


def _is_model(name: str, models: ModelRegistry) -> bool:
    try:
        models.lookup(name)
    except ModelNotFoundError:
        return False
    return True

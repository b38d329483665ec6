"""The HTTP service: a thin Starlette app over the counting core.

Routes (docs/http.md):
- ``POST /v1/responses/input_tokens`` and the gateway alias
  ``POST /openai/v1/responses/input_tokens``: OpenAI's answer by default; the rich view with
  ``?verbose=true`` or the ``Inputtokens-Verbose: true`` header, plus token ids and strings with
  ``?tokens=true``.
- ``GET /v1/models``, ``GET /v1/models/{id}``: the registry in OpenAI's list shape.
- ``GET /healthz``; ``GET /openapi.json``: what the service serves.

Every error, ours or Starlette's, leaves through one mapper as OpenAI's envelope; no traceback
ever reaches a client.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .counting import count_input_tokens
from .errors import (
    AuthenticationError,
    InputTokensError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
)
from .models import MODELS, ModelInfo, lookup_model
from .openapi import openapi_document
from .settings import Settings
from .tokenizer import get_encoding

log = logging.getLogger("inputtokens")
_TRUE = frozenset({"1", "true", "yes", "on"})
_REMOTE_URL = re.compile(rb'_url"\s*:\s*"https?:', re.IGNORECASE)


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(exc: InputTokensError) -> JSONResponse:
    return JSONResponse(exc.to_envelope(), status_code=exc.status)


def _names_remote_url(raw: bytes) -> bool:
    """Whether the body may name an http(s) image_url or file_url (a cheap over-estimate)."""
    return b'_url"' in raw and _REMOTE_URL.search(raw) is not None


def _flag(request: Request, query: str, header: str) -> bool:
    value = request.query_params.get(query) or request.headers.get(header) or ""
    return value.lower() in _TRUE


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_large = PayloadTooLargeError(
        f"Request body too large: the limit is {limit} bytes.", code="request_too_large"
    )
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _model_card(model: ModelInfo, name: str | None = None) -> dict[str, Any]:
    """OpenAI's model object; `name` is the id asked for (a snapshot keeps its own id)."""
    return {
        "id": name or model.id,
        "resolved_model": model.id,
        "object": "model",
        "created": 0,
        "owned_by": "openai",
        "context_window": model.context_window,
        "max_output_tokens": model.max_output_tokens,
        "encoding": model.encoding,
        "prompt_family": model.family,
        "image_input": model.image_rule is not None,
    }


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app for `settings` (default: built-in defaults, not the environment)."""
    settings = settings or Settings()
    keys = tuple(k.encode() for k in settings.api_keys)

    def authenticate(request: Request) -> None:
        if not keys:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError(
                "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.",
                code="missing_api_key",
            )
        given = token.strip().encode()
        if not any(hmac.compare_digest(given, k) for k in keys):
            raise AuthenticationError(
                "Incorrect API key provided.", code="invalid_api_key"
            )

    async def count(request: Request) -> Response:
        authenticate(request)
        raw = await _read_body(request, settings.max_body_bytes)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidRequestError(
                f"The request body is not valid JSON ({exc}). Send a JSON object with "
                "'Content-Type: application/json'.",
                code="invalid_json",
            ) from None
        want_tokens = _flag(request, "tokens", "inputtokens-tokens")
        verbose = want_tokens or _flag(request, "verbose", "inputtokens-verbose")
        if settings.remote_fetch and _names_remote_url(raw):
            # Fetching blocks; a worker thread keeps the event loop serving other requests.
            result = await run_in_threadpool(
                count_input_tokens, body, settings=settings, return_tokens=want_tokens)
        else:
            result = count_input_tokens(body, settings=settings, return_tokens=want_tokens)
        return JSONResponse(result.to_rich() if verbose else result.to_openai())

    async def list_models(request: Request) -> Response:
        authenticate(request)
        return JSONResponse({"object": "list", "data": [_model_card(m) for m in MODELS.values()]})

    async def get_model(request: Request) -> Response:
        authenticate(request)
        name = request.path_params["model"]
        try:
            return JSONResponse(_model_card(lookup_model(name), name))
        except InputTokensError:
            raise NotFoundError(
                f"The model '{name}' does not exist.", param="model", code="model_not_found"
            ) from None

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def on_domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, InputTokensError)
        return error_response(exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        envelope = InputTokensError(f"{request.method} {request.url.path}: {exc.detail}",
                                    code=code).to_envelope()
        return JSONResponse(envelope, status_code=exc.status_code, headers=exc.headers)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        envelope = {"error": {"message": "The server had an error processing your request.",
                              "type": "server_error", "param": None, "code": None}}
        return JSONResponse(envelope, status_code=500)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for name in settings.warm_encodings:
            get_encoding(name)
        yield

    count_paths = ("/v1/responses/input_tokens", "/openai/v1/responses/input_tokens")
    routes = [Route(path, count, methods=["POST"]) for path in count_paths]
    routes += [
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model:path}", get_model, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            InputTokensError: on_domain_error,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
    )

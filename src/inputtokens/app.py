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

import hashlib
import hmac
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
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
from .store import Store, StoredFile, store_for
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


async def _read_upload(form: FormData, limit: int) -> tuple[str, str, bytes]:
    """(filename, purpose, bytes) of a Files API upload, or an OpenAI-shaped error."""
    upload, purpose = form.get("file"), form.get("purpose")
    if not isinstance(purpose, str) or not purpose:
        raise InvalidRequestError("Missing required parameter: 'purpose'.",
                                  param="purpose", code="missing_required_parameter")
    if upload is None or isinstance(upload, str):
        raise InvalidRequestError("Missing required parameter: 'file'.",
                                  param="file", code="missing_required_parameter")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(f"The file is larger than the limit of {limit} bytes.",
                                   param="file", code="file_too_large")
    return upload.filename or "file", purpose, data


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

    def authenticate(request: Request) -> str:
        """Check the bearer key; returns the owner of what the caller stores ("" without keys)."""
        if not keys:
            return ""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError(
                "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.",
                code="missing_api_key",
            )
        given = token.strip().encode()
        for key in keys:
            if hmac.compare_digest(given, key):
                # Stored objects belong to the key; a digest, so the key is never stored.
                return hashlib.sha256(key).hexdigest()[:32]
        raise AuthenticationError("Incorrect API key provided.", code="invalid_api_key")

    def store() -> Store:
        return store_for(settings.store_url())

    async def count(request: Request) -> Response:
        owner = authenticate(request)
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
        if b'"file_id"' in raw or (settings.remote_fetch and _names_remote_url(raw)):
            # Fetching and the store block; a worker thread keeps the event loop serving.
            result = await run_in_threadpool(
                count_input_tokens, body, settings=settings, return_tokens=want_tokens,
                owner=owner)
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

    # ---- files (OpenAI's Files API, stored per owner) --------------------------------------

    async def upload_file(request: Request) -> Response:
        owner = authenticate(request)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_file_bytes + 64 * 1024:
            raise PayloadTooLargeError(
                f"The file is larger than the limit of {settings.max_file_bytes} bytes.",
                param="file", code="file_too_large")
        try:
            # `async with` closes the spooled upload files whatever happens below.
            async with request.form(max_files=1, max_fields=8) as form:
                filename, purpose, data = await _read_upload(form, settings.max_file_bytes)
        except HTTPException as exc:
            raise InvalidRequestError(f"The upload is not valid multipart form data: "
                                      f"{exc.detail}", param="file", code="invalid_value") from None
        stored = await run_in_threadpool(store().put_file, owner, filename, purpose, data)
        return JSONResponse(stored.to_openai())

    async def list_files(request: Request) -> Response:
        owner = authenticate(request)
        stored = await run_in_threadpool(store().list_files, owner)
        return JSONResponse({"object": "list", "data": [f.to_openai() for f in stored],
                             "has_more": False})

    async def _owned_file(request: Request) -> tuple[str, StoredFile]:
        """The caller's file named in the path; 404 when it is not theirs or not there."""
        owner = authenticate(request)
        file_id = request.path_params["file_id"]
        stored = await run_in_threadpool(store().get_file, owner, file_id)
        if stored is None:
            raise NotFoundError(f"No such File object: {file_id}", param="id")
        return owner, stored

    async def get_file(request: Request) -> Response:
        _, stored = await _owned_file(request)
        return JSONResponse(stored.to_openai())

    async def file_content(request: Request) -> Response:
        owner = authenticate(request)
        file_id = request.path_params["file_id"]
        found = await run_in_threadpool(store().file_with_content, owner, file_id)
        if found is None:
            raise NotFoundError(f"No such File object: {file_id}", param="id")
        return Response(found[1], media_type="application/octet-stream")

    async def delete_file(request: Request) -> Response:
        owner, stored = await _owned_file(request)
        await run_in_threadpool(store().delete_file, owner, stored.id)
        return JSONResponse({"id": stored.id, "object": "file", "deleted": True})

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
        Route("/v1/files", upload_file, methods=["POST"]),
        Route("/v1/files", list_files, methods=["GET"]),
        Route("/v1/files/{file_id}", get_file, methods=["GET"]),
        Route("/v1/files/{file_id}", delete_file, methods=["DELETE"]),
        Route("/v1/files/{file_id}/content", file_content, methods=["GET"]),
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

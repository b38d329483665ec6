"""The HTTP service: a thin Starlette app over the counting core.

Routes (docs/http.md):
- ``POST /v1/responses/input_tokens`` and the gateway alias
  ``POST /openai/v1/responses/input_tokens``: OpenAI's answer by default; the rich view with
  ``?verbose=true`` or the ``Inputtokens-Verbose: true`` header, plus token ids and strings with
  ``?tokens=true``.
- ``GET /v1/models``, ``GET /v1/models/{id}``: the registry in OpenAI's list shape.
- ``GET /healthz``; ``GET /openapi.json``: what the service serves; ``GET /`` its routes and
  documentation, ``GET /docs`` the API reference rendered from that document (api/docs_page.py).
- ``GET /playground``: a page that counts a pasted body as you type and draws the answer
  (api/playground.py).
- OpenAI's Files and Conversations APIs over the store (api/files.py, api/conversations.py).

Every error, ours or Starlette's, leaves through ``on_error`` and core.errors' ``wire_error``, the
mapper the CLI uses too, as OpenAI's envelope; no traceback ever reaches a client.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..core.errors import InputTokensError, NotFoundError, closest_model, wire_error
from ..core.models import ModelInfo
from ..core.tokenizer import get_encoding
from ..settings import Settings
from . import batches as batches_api
from . import conversations as conversations_api
from . import docs_page, playground
from . import files as files_api
from . import responses as responses_api
from .common import ApiContext, JSONResponse
from .count import COUNT_PATHS, CountEndpoint, Receive, Scope, Send
from .metrics import CONTENT_TYPE, UNMATCHED, Metrics, error_code
from .openapi import openapi_document
from .timeouts import timed_receive

log = logging.getLogger("inputtokens")
ERROR_CODE = "inputtokens.error_code"  # the scope key where on_error leaves the error's code


class InputTokensApp(Starlette):
    """Starlette, with POSTs to the count paths sent straight to the count endpoint.

    Routing through the framework costs more than counting a short request; every other
    request, and other methods on the count paths (405), go through Starlette as usual. Every
    route reads the body through ``timed_receive``: a body the server found late is a 408
    (api/timeouts.py).
    """

    def __init__(self, count: CountEndpoint, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.count = count
        self.metrics: Metrics = count.metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
        elif scope["method"] == "POST" and scope["path"] in COUNT_PATHS:
            await self.count(scope, timed_receive(scope, receive), send)  # counts itself
        else:
            await self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Starlette's handling of a request, counted by its route's template (the path of a
        route with parameters would make a label value per id) and status."""
        status = 500  # if nothing was sent: an exception left Starlette

        async def send_status(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await super().__call__(scope, timed_receive(scope, receive), send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.request_done(route, status)
            code = scope.get(ERROR_CODE)
            if code is not None:
                self.metrics.error(code)


def routing_error(request: Request, exc: HTTPException) -> InputTokensError:
    """Starlette's own refusal (no such route, a method not allowed) as one of ours, so it
    leaves in OpenAI's envelope with Starlette's status."""
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
    error = InputTokensError(f"{request.method} {request.url.path}: {exc.detail}", code=code)
    error.status = exc.status_code
    return error


async def on_error(request: Request, exc: Exception) -> Response:
    """Every exception a route raises, answered through ``wire_error``; one that is not ours is
    a bug, logged with its traceback and answered with a bare 500."""
    headers = None
    if isinstance(exc, HTTPException):
        headers = exc.headers  # e.g. the Allow of a 405
        exc = routing_error(request, exc)
    wire = wire_error(exc)
    request.scope[ERROR_CODE] = error_code(wire.envelope)
    if not wire.expected:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(wire.envelope, status_code=wire.status, headers=headers)


def _model_card(model: ModelInfo, name: str | None = None) -> dict[str, Any]:
    """OpenAI's model object; `name` is the id asked for (a snapshot keeps its own id)."""
    return {
        "id": name or model.id,
        "resolved_model": model.id,
        "object": "model",
        "created": 0,
        "owned_by": "openai",
        "context_window": model.context_window,
        # The most input a request may have: the window, or less (gpt-5: 272,000 of 400,000).
        "max_input_tokens": model.input_limit,
        "max_output_tokens": model.max_output_tokens,
        "encoding": model.encoding,
        "prompt_family": model.family,
        "image_input": model.image_rule is not None,
    }


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app for `settings` (default: built-in defaults, not the environment)."""
    settings = settings or Settings()
    ctx = ApiContext(settings)
    authenticate = ctx.authenticate
    count = CountEndpoint(ctx)
    registry = count.options.models

    async def list_models(request: Request) -> Response:
        authenticate(request)
        cards = [_model_card(m) for m in registry.models.values()]
        return JSONResponse({"object": "list", "data": cards})

    async def get_model(request: Request) -> Response:
        authenticate(request)
        name = request.path_params["model"]
        try:
            return JSONResponse(_model_card(registry.lookup(name), name))
        except InputTokensError:
            hint = closest_model(name, registry.models)
            raise NotFoundError(
                f"The model '{name}' does not exist.{hint}", param="model", code="model_not_found"
            ) from None

    async def healthz(request: Request) -> Response:
        # `worker`: the process that answered (which of `serve --workers N` took the connection)
        return JSONResponse({"status": "ok", "worker": os.getpid()})

    async def metrics(request: Request) -> Response:
        return Response(count.metrics.render(), media_type=CONTENT_TYPE)

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def index(request: Request) -> Response:
        return JSONResponse(docs_page.index(openapi_document()))

    reference = docs_page.reference_html(openapi_document())

    async def docs(request: Request) -> Response:
        return HTMLResponse(reference, headers=docs_page.HEADERS)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for name in settings.warm_encodings:
            get_encoding(name)
        flushing = None
        if count.metrics.multiprocess:  # a worker of serve --workers N (api/metrics.py)
            flushing = asyncio.create_task(count.metrics.flush_every())
        yield
        if flushing is not None:
            flushing.cancel()
            count.metrics.flush()  # what this worker counted last, before it exits

    routes = [Route(path, count, methods=["POST"]) for path in COUNT_PATHS]
    routes += [
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model:path}", get_model, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/", index, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        *playground.routes(),
        *files_api.routes(ctx),
        *batches_api.routes(ctx),
        *conversations_api.routes(ctx),
        *responses_api.routes(ctx),
    ]
    return InputTokensApp(
        count,
        routes=routes,
        lifespan=lifespan,
        # Starlette picks a handler by the exception's class, and answers from the one for
        # Exception only as a last resort, outside its routing middleware (and re-raises
        # there): ours and Starlette's errors need their own entries.
        exception_handlers={
            InputTokensError: on_error,
            HTTPException: on_error,
            Exception: on_error,
        },
    )

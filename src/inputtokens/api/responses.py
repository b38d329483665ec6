"""OpenAI's Responses API as far as counting needs it: ``POST /v1/responses`` passed through to
the configured upstream and recorded, so ``previous_response_id`` can name what it made; and
the stored responses read back (``GET /v1/responses/{id}``, ``.../input_items``) or deleted.

The pass-through forwards the body as received with the caller's ``Authorization`` (and
``OpenAI-Organization``/``OpenAI-Project``) and answers with the upstream's status and body
unchanged, errors included; a stream (``"stream": true``) is relayed byte for byte as it
arrives while its events are read on the side. A finished response (the answer, or the
``response.completed``/``response.incomplete`` event's ``response``) is recorded with its
input items unless ``store`` is false, before the client sees its last byte. It is kept under
the caller's owner (``ApiContext.authenticate``: a digest of the caller's key, with or without
configured keys; see upstream.py), and read back by that key alone. Without an upstream,
``POST`` is a 400 ``upstream_not_configured``; an upstream that cannot be reached is a 502,
one too slow a 504.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import anyio
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..core.errors import InvalidRequestError
from ..core.types import JSON
from ..state.responses_import import input_items
from ..state.upstream import UpstreamFallback, ssl_context, transport_error
from .common import ApiContext, JSONResponse, parse_json, read_body
from .upstream import forwarded_headers, upstream_fallback

if TYPE_CHECKING:
    import httpx

    from ..state.store import Store

log = logging.getLogger("inputtokens")
# Stream events that end a response the upstream keeps (a failed one has nothing to count).
FINAL_EVENTS = ("response.completed", "response.incomplete")
# Answer headers relayed from the upstream (hop-by-hop and length headers are the server's).
_RELAYED = ("content-type", "x-request-id", "retry-after")
_RELAYED_PREFIXES = ("openai-", "x-ratelimit-")


def _relayed_headers(answer: httpx.Response) -> dict[str, str]:
    return {
        name: value
        for name, value in answer.headers.items()
        if name in _RELAYED or name.startswith(_RELAYED_PREFIXES)
    }


def recordable(body: JSON, response: Any) -> bool:
    """Whether an upstream answer is a finished response the upstream keeps."""
    return (
        isinstance(response, dict)
        and isinstance(response.get("id"), str)
        and response["id"].startswith("resp")
        and isinstance(response.get("output"), list)
        and response.get("status") not in ("queued", "in_progress")
        and body.get("store") is not False
        and response.get("store") is not False
    )


def record(
    store: Store, owner: str, body: JSON, response: JSON, fallback: UpstreamFallback | None
) -> None:
    """Keep `response` for `owner` with the items `body` gave it. References the store cannot
    resolve are taken from the upstream's own list of the response's input items."""
    given, unresolved = input_items(body.get("input"), store, (owner,))
    if unresolved and fallback is not None:
        listed = fallback.input_items(response["id"])
        if listed is not None:
            given = listed
    store.put_response(owner, response, given)


class SSEEvents:
    """Server-sent events read on the side of a relay: feed it the bytes as they pass, get
    back the finished responses they carry (only those events are decoded)."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[JSON]:
        self._pending = (self._pending + chunk).replace(b"\r\n", b"\n")
        *events, self._pending = self._pending.split(b"\n\n")
        return [found for event in events if (found := self._final(event)) is not None]

    def close(self) -> list[JSON]:
        """What a last event without its blank line carries."""
        event, self._pending = self._pending, b""
        found = self._final(event)
        return [found] if found is not None else []

    @staticmethod
    def _final(event: bytes) -> JSON | None:
        if not any(name.encode() in event for name in FINAL_EVENTS):
            return None
        data = b"\n".join(
            line[5:].removeprefix(b" ") for line in event.split(b"\n") if line.startswith(b"data:")
        )
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None
        if (
            isinstance(payload, dict)
            and payload.get("type") in FINAL_EVENTS
            and isinstance(payload.get("response"), dict)
        ):
            return payload["response"]  # type: ignore[no-any-return]
        return None


def _error_event(code: str, message: str) -> bytes:
    """An OpenAI stream error event, sent when the upstream stream breaks off."""
    return (
        b"event: error\ndata: "
        + orjson.dumps({"type": "error", "code": code, "message": message, "param": None})
        + b"\n\n"
    )


class _Relay(StreamingResponse):
    """An upstream stream relayed as it arrives; the upstream connection and client close
    however the relay ends (finished, failed, or the caller gone)."""

    def __init__(
        self, answer: httpx.Response, client: httpx.AsyncClient, on_response: Callable[[JSON], Any]
    ) -> None:
        self._answer, self._client = answer, client
        super().__init__(
            self._relay(on_response),
            status_code=answer.status_code,
            headers=_relayed_headers(answer),
        )

    async def _relay(self, on_response: Callable[[JSON], Any]) -> AsyncIterator[bytes]:
        import httpx

        events = SSEEvents()
        try:
            async for chunk in self._answer.aiter_bytes():
                for response in events.feed(chunk):
                    await on_response(response)  # kept before the client sees it end
                yield chunk
            for response in events.close():
                await on_response(response)
        except httpx.HTTPError as exc:
            error = transport_error(exc, "reading the response stream")
            log.warning("upstream stream broke off: %s", error.message)
            yield _error_event(error.code or "upstream_error", error.message)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self.body_iterator.aclose()  # type: ignore[attr-defined]
                await self._answer.aclose()
                await self._client.aclose()


def routes(ctx: ApiContext) -> list[Route]:
    settings = ctx.settings

    def identity(request: Request) -> str:
        """The caller's owner: where its responses are kept and the only one it reads (the
        upstream's copies are kept there too, api/upstream.py)."""
        if request.path_params.get("response_id") == "input_tokens":
            # The count's own path: other methods there stay a 405, not a missing response.
            raise HTTPException(405, headers={"Allow": "POST"})
        return ctx.authenticate(request)

    async def create(request: Request) -> Response:
        import httpx

        owner = identity(request)
        if not settings.upstream_base_url:
            raise InvalidRequestError(
                "This service has no upstream to create responses with: it counts tokens "
                "offline. Set INPUTTOKENS_UPSTREAM_URL (e.g. https://api.openai.com/v1) to "
                "pass POST /v1/responses through to it.",
                code="upstream_not_configured",
            )
        raw = await read_body(request, settings.max_body_bytes)
        parsed = parse_json(raw) if raw.strip() else None
        if not isinstance(parsed, dict):
            raise InvalidRequestError(
                "The request body must be a JSON object.", code="invalid_type"
            )
        body: JSON = parsed
        fallback = upstream_fallback(settings, request)

        async def on_response(response: Any) -> None:
            if not recordable(body, response):
                return
            try:
                await run_in_threadpool(record, ctx.store(), owner, body, response, fallback)
            except Exception:  # the upstream made (and billed) it: answer it regardless
                log.exception("could not record response %s", response.get("id"))

        client = httpx.AsyncClient(
            base_url=settings.upstream_base_url.rstrip("/"),
            timeout=settings.upstream_timeout_s,
            verify=ssl_context(),
        )
        headers = {
            **forwarded_headers(request),
            "content-type": "application/json",
            "accept-encoding": "identity",
        }
        try:
            answer = await client.send(
                client.build_request("POST", "/responses", content=raw, headers=headers),
                stream=True,
            )
        except httpx.HTTPError as exc:
            await client.aclose()
            raise transport_error(exc, "POST /responses") from None
        if answer.status_code == 200 and answer.headers.get("content-type", "").startswith(
            "text/event-stream"
        ):
            return _Relay(answer, client, on_response)
        try:
            content = await answer.aread()
        except httpx.HTTPError as exc:
            raise transport_error(exc, "POST /responses") from None
        finally:
            await answer.aclose()
            await client.aclose()
        if answer.status_code == 200:
            try:
                response = orjson.loads(content)
            except orjson.JSONDecodeError:
                response = None
            await on_response(response)
        return Response(content, status_code=answer.status_code, headers=_relayed_headers(answer))

    async def get(request: Request) -> Response:
        owner = identity(request)
        resp_id = request.path_params["response_id"]
        return JSONResponse(
            await ctx.run_stored(owner, lambda objects: objects.get_response(resp_id))
        )

    async def list_input_items(request: Request) -> Response:
        owner = identity(request)
        resp_id = request.path_params["response_id"]
        query = request.query_params
        limit, order, after = query.get("limit"), query.get("order"), query.get("after")
        return JSONResponse(
            await ctx.run_stored(
                owner,
                lambda objects: objects.list_input_items(
                    resp_id, limit=limit, order=order, after=after
                ),
            )
        )

    async def delete(request: Request) -> Response:
        owner = identity(request)
        resp_id = request.path_params["response_id"]
        return JSONResponse(
            await ctx.run_stored(owner, lambda objects: objects.delete_response(resp_id))
        )

    base = "/v1/responses/{response_id}"
    return [
        Route("/v1/responses", create, methods=["POST"]),
        Route(base, get, methods=["GET"]),
        Route(base, delete, methods=["DELETE"]),
        Route(base + "/input_items", list_input_items, methods=["GET"]),
    ]

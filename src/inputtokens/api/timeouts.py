"""How long a client may take to send a request: its headers, then its body (docs/http.md).

Without these, a connection that sends half its headers or trickles its body holds a socket
and a request slot for ever: uvicorn's ``timeout_keep_alive`` covers only the idle time
*between* requests. Two pieces:

- ``http_protocol``: uvicorn's HTTP protocol (httptools, as ``uvicorn[standard]`` picks, or h11
  when httptools is missing) with a header clock. It runs from the connection's start, and
  from the first bytes of each further request on a kept-alive connection (the idle time
  between requests is uvicorn's keep-alive timeout), until a request's headers are complete;
  when it runs out the connection is closed (there is no request to answer yet). It
  also closes a connection still sending a body nobody reads once the body's time is up (a
  route that answered early, e.g. a 401).
- ``BodyDeadline``: the app's ``receive`` with one deadline over the whole body. Past it,
  ``receive`` raises ``RequestTimeoutError`` (``408 request_timeout`` in OpenAI's envelope,
  from whichever route was reading: the bare count route, JSON routes, the Files upload's
  multipart parser) and the answer carries ``Connection: close``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ..core.errors import RequestTimeoutError

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The protocol's fallback for a body nobody reads fires this much after the app's deadline,
# so that a route reading the body answers its 408 first.
_BODY_GRACE_S = 1.0
_CLOSE = (b"connection", b"close")


class BodyDeadline:
    """``receive`` and ``send`` for one request: ``receive`` raises ``RequestTimeoutError`` once
    the body has taken more than `seconds` since the request reached the app; the answer to a
    timed-out request carries ``Connection: close``. Waiting for a disconnect after the whole
    body arrived is not timed."""

    __slots__ = ("_receive", "_send", "_deadline", "_seconds", "_done", "_expired")

    def __init__(self, receive: Receive, send: Send, seconds: float) -> None:
        self._receive, self._send, self._seconds = receive, send, seconds
        self._deadline = asyncio.get_running_loop().time() + seconds
        self._done = self._expired = False

    async def receive(self) -> Message:
        if self._done:
            return await self._receive()
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            self._expired = True
            raise RequestTimeoutError(
                f"The request body took longer than {self._seconds:g} seconds to arrive.",
                code="request_timeout",
            ) from None
        if not message.get("more_body"):
            self._done = True
        return message

    async def send(self, message: Message) -> None:
        if self._expired and message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
        await self._send(message)


class _Deadlines:
    """Mixed into uvicorn's HTTP protocol classes (both keep the request in ``self.cycle``, with
    ``more_body`` and ``response_complete``): the header clock and the body fallback."""

    header_timeout: float = 30.0
    body_timeout: float = 30.0
    # From uvicorn's protocol classes:
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    cycle: Any

    _timer: asyncio.TimerHandle | None = None
    _seen: Any = None  # the request whose headers were last seen complete
    _idle = False  # between a response and the next request's first bytes

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm(self.header_timeout, self._headers_late)

    def data_received(self, data: bytes) -> None:
        if self._idle:  # the first bytes after a response: the next request's headers start
            self._idle = False
            if self._timer is None:
                self._arm(self.header_timeout, self._headers_late)
        super().data_received(data)  # type: ignore[misc]
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if self.transport.is_closing():
            return
        self._follow()
        # Idle until the next bytes: uvicorn's keep-alive timeout closes the connection then.
        self._idle = self.cycle is self._seen and self.cycle.response_complete

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _follow(self) -> None:
        """After parsing: new headers complete stop the header clock and, while their body is
        still coming, start the body's; a complete body stops it."""
        cycle = self.cycle
        if cycle is None:
            return
        if cycle is not self._seen:
            self._seen = cycle
            self._disarm()
            if cycle.more_body:
                self._arm(self.body_timeout + _BODY_GRACE_S, self._body_late)
        elif not cycle.more_body and self._timer is not None and not cycle.response_complete:
            self._disarm()

    def _arm(self, seconds: float, callback: Callable[[], None]) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _headers_late(self) -> None:
        self._timer = None
        if self.cycle is self._seen and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()  # no request in progress, and the next one's headers are late

    def _body_late(self) -> None:
        self._timer = None
        cycle = self.cycle
        if cycle is not self._seen or not cycle.more_body:
            return
        if cycle.response_complete:
            self.transport.close()  # answered already; the rest of the body is not wanted
        else:
            cycle.keep_alive = False  # the app is still at it: close once it has answered


def http_protocol(header_timeout: float, body_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class (for ``uvicorn.Config(http=...)``) with these timeouts:
    httptools', as ``uvicorn[standard]`` selects, else h11's."""
    base: type[asyncio.Protocol]
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as base
    except ImportError:  # pragma: no cover - httptools comes with uvicorn[standard]
        from uvicorn.protocols.http.h11_impl import H11Protocol as base
    return _protocol_class(base, header_timeout, body_timeout)


def _protocol_class(
    base: type[asyncio.Protocol], header_timeout: float, body_timeout: float
) -> type[asyncio.Protocol]:
    attrs = {"header_timeout": header_timeout, "body_timeout": body_timeout}
    return type(f"Timed{base.__name__}", (_Deadlines, base), attrs)

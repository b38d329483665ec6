"""How long a client may take to send a request: its headers, then its body (docs/http.md).

Without these, a connection that sends half its headers or trickles its body holds a socket
and a request slot for ever: uvicorn's ``timeout_keep_alive`` covers only the idle time
*between* requests. Both clocks live in uvicorn's HTTP protocol (``http_protocol``: httptools',
as ``uvicorn[standard]`` picks, or h11's when httptools is missing), so a request whose
headers and body arrive together (the usual case) starts no timer at all:

- The header clock runs from the connection's start, and from the first bytes of each further
  request on a kept-alive connection (the idle time between requests stays uvicorn's
  keep-alive timeout), until the request's headers are complete. When it runs out the
  connection is closed: there is no request to answer yet.
- The body clock runs from the end of the headers until the body is complete. When it runs
  out while the app is still reading, the protocol marks the request (``BODY_LATE`` in its
  scope), wakes the app's ``receive`` and lets the connection close after the answer;
  ``timed_receive``, which the app wraps around ``receive``, then raises
  ``RequestTimeoutError``: ``408 request_timeout`` in OpenAI's envelope, from whichever
  route was reading (the bare count route, the JSON routes, the Files upload's multipart
  parser), with ``Connection: close``. A body still coming after the answer (a route that
  answered early, e.g. a 401) is not read: the connection is closed.

Under another server (``uvicorn --factory inputtokens.server:app_from_env``) neither clock
runs; ``inputtokens serve`` and the test servers use ``http_protocol``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ..core.errors import RequestTimeoutError

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]

# The scope key the protocol sets (to the body timeout, in seconds) when a body is late.
BODY_LATE = "inputtokens.body_late"


def timed_receive(scope: MutableMapping[str, Any], receive: Receive) -> Receive:
    """`receive`, raising ``RequestTimeoutError`` once the protocol has marked the request's
    body late."""

    async def timed() -> Message:
        message = await receive()
        if BODY_LATE in scope:
            raise RequestTimeoutError(
                f"The request body took longer than {scope[BODY_LATE]:g} seconds to arrive.",
                code="request_timeout",
            )
        return message

    return timed


class _Deadlines:
    """Mixed into uvicorn's HTTP protocol classes (both keep the request in ``self.cycle``, with
    ``scope``, ``more_body``, ``response_complete``, ``keep_alive`` and ``message_event``): the
    header clock and the body clock, one timer at a time."""

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
        idle, self._idle = self._idle, False
        super().data_received(data)  # type: ignore[misc]
        self._follow()
        if idle and self._timer is None:
            # The first bytes after a response: the next request's headers started. Their
            # clock runs only when they are not complete already (parsed above): a request
            # that comes whole, the usual case, starts no timer.
            cycle = self.cycle
            if cycle is self._seen and (cycle is None or cycle.response_complete):
                if not self.transport.is_closing():
                    self._arm(self.header_timeout, self._headers_late)

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
                self._arm(self.body_timeout, self._body_late)
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
            return
        cycle.keep_alive = False  # close once the app has answered (uvicorn says so)
        cycle.scope[BODY_LATE] = self.body_timeout
        cycle.message_event.set()  # a reading app wakes up to its 408 (timed_receive)


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

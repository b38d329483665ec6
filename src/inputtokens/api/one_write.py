"""Each response in one write to the socket, not one for its head and one for its body.

uvicorn writes a response's status line and headers when the app sends
``http.response.start`` and the body when it sends ``http.response.body``: two writes, so
two ``send`` system calls, for an answer of 60 bytes. On this kind of machine a small send on a
loopback or LAN socket costs 15-30 µs, as much as counting a short request (the head's write
measured 30 µs and the body's 18 µs per request in the server, against ~48 µs for the whole
count; docs/performance.md, Hot path II).

``OneWriteResponses`` (mixed into uvicorn's HTTP protocol class by ``timeouts.http_protocol``)
hands uvicorn a transport that holds a write back until the next one or the end of the event
loop's current step, whichever comes first, and then writes what it holds in one call. The app
sends the head and the body in one step (nothing awaits in between), so they leave together; a
head followed by a body that takes longer (a streamed or slow response) still leaves at the end
of the step, before anything else runs. Closing writes what is held first.
"""

from __future__ import annotations

import asyncio
from typing import Any


class _HeldWrites:
    """A transport's proxy that joins writes made in one step of the event loop."""

    __slots__ = ("_transport", "_loop", "_held")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is None:
            # Held until the next write or the end of this step.
            self._held = bytes(data)
            self._loop.call_soon(self._flush)
        else:
            self._held = None
            self._transport.write(held + bytes(data))

    def _flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        # Everything else (is_closing, get_extra_info, pause_reading, ...) as the transport.
        return getattr(self._transport, name)


class OneWriteResponses:
    """Mixed in before uvicorn's protocol class: it sees the transport through ``_HeldWrites``."""

    loop: asyncio.AbstractEventLoop  # set by uvicorn's protocol classes

    def connection_made(self, transport: asyncio.Transport) -> None:
        held: Any = _HeldWrites(transport, self.loop)
        super().connection_made(held)  # type: ignore[misc]

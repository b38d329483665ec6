"""api/one_write.py: a response's head and body leave in one write, and nothing is held past
the event loop's current step or a close."""

from __future__ import annotations

import asyncio
import socket

import httpx

from inputtokens.api.one_write import _HeldWrites


class _Recorder:
    """A transport that records its writes."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info {name}"


async def _steps() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


def test_two_writes_in_one_step_leave_as_one() -> None:
    async def scenario() -> list[bytes]:
        recorder = _Recorder()
        held = _HeldWrites(recorder, asyncio.get_running_loop())  # type: ignore[arg-type]
        held.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        assert recorder.writes == []  # held until the body or the end of the step
        held.write(b"{}")
        await _steps()
        return recorder.writes

    assert asyncio.run(scenario()) == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]


def test_a_lone_write_leaves_at_the_end_of_the_step_and_close_flushes() -> None:
    async def scenario() -> tuple[list[bytes], list[bytes], bool, str]:
        recorder = _Recorder()
        held = _HeldWrites(recorder, asyncio.get_running_loop())  # type: ignore[arg-type]
        held.write(b"head")
        await _steps()
        after_step = list(recorder.writes)
        held.write(b"tail")
        held.close()
        return after_step, recorder.writes, recorder.closed, held.get_extra_info("peername")

    after_step, writes, closed, info = asyncio.run(scenario())
    assert after_step == [b"head"]
    assert writes == [b"head", b"tail"] and closed
    assert info == "info peername"  # everything else is the transport's


def test_the_server_answers_in_one_segment_and_keeps_the_connection(live_server) -> None:
    # Over a real socket: the whole answer (head and body) is there after one read, and a
    # second request on the same connection is answered too.
    url = httpx.URL(live_server.base_url)
    host, port = url.host, url.port
    body = b'{"model": "gpt-5", "input": "Tell me a joke."}'
    request = (
        b"POST /v1/responses/input_tokens HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    with socket.create_connection((host, port), timeout=5) as sock:
        for _ in range(2):
            sock.sendall(request)
            data = sock.recv(65536)
            head, _, answer = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200")
            assert answer == b'{"object":"response.input_tokens","input_tokens":11}'
    assert httpx.get(f"{live_server.base_url}/healthz").status_code == 200

"""Stalled clients are let go: half-sent headers are closed, a trickled body gets a 408 and a
close, a slow but steady request still works (api/timeouts.py, docs/http.md). Real sockets
against real servers on loopback: one started in a thread with short timeouts, and
`inputtokens serve` with two workers as a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from uvicorn.protocols.http.h11_impl import H11Protocol

from inputtokens.api import timeouts
from inputtokens.settings import Settings

from . import conftest
from .conftest import API_KEY, LiveServer

HEADER_S = 1.0
BODY_S = 1.5
SLACK_S = 1.5  # scheduling on a busy machine
BODY = b'{"model": "gpt-5", "input": "Hello there, how are you doing today?"}'


@pytest.fixture(scope="module")
def timed(start_server: Callable[[Settings], LiveServer]) -> LiveServer:
    return start_server(Settings(header_timeout_s=HEADER_S, body_timeout_s=BODY_S))


@pytest.fixture(scope="module")
def timed_keyed(start_server: Callable[[Settings], LiveServer]) -> LiveServer:
    settings = Settings(
        header_timeout_s=HEADER_S, body_timeout_s=BODY_S, api_keys=frozenset({API_KEY})
    )
    return start_server(settings)


@pytest.fixture(scope="module")
def timed_h11(start_server: Callable[[Settings], LiveServer]) -> LiveServer:
    """The same, on uvicorn's h11 protocol (what "auto" picks without httptools)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            conftest, "http_protocol", lambda h, b: timeouts._protocol_class(H11Protocol, h, b)
        )
        return start_server(Settings(header_timeout_s=HEADER_S, body_timeout_s=BODY_S))


@pytest.fixture(params=["httptools", "h11"])
def either(request: pytest.FixtureRequest) -> LiveServer:
    """The timed server on each of uvicorn's HTTP implementations."""
    live: LiveServer = request.getfixturevalue(
        "timed" if request.param == "httptools" else "timed_h11"
    )
    return live


def connect(base_url: str) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or the socket's timeout)."""
    out = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return out
        if not chunk:
            return out
        out += chunk


def closed_after(sock: socket.socket) -> tuple[float, bytes]:
    start = time.monotonic()
    data = read_until_closed(sock)
    return time.monotonic() - start, data


def response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def head(path: str, length: int, content_type: str = "application/json", key: str = "") -> bytes:
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\n{auth}"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


@pytest.mark.parametrize(
    "first", [b"", b"POST /v1/responses/input_tokens HTTP/1.1\r\nHost: test\r\nContent-Ty"]
)
def test_a_connection_that_stalls_before_its_headers_end_is_closed(
    either: LiveServer, first: bytes
) -> None:
    sock = connect(either.base_url)
    with sock:
        sock.sendall(first)
        took, data = closed_after(sock)
    assert data == b""  # no request yet, nothing to answer: a close
    assert HEADER_S - 0.2 <= took <= HEADER_S + SLACK_S


def test_headers_that_keep_trickling_are_closed_at_the_header_timeout(either: LiveServer) -> None:
    """A header line every 0.1 s: the clock covers all the headers, not the gap between bytes."""
    sock = connect(either.base_url)
    start = time.monotonic()
    closed = False
    with sock:
        sock.settimeout(0.1)
        for piece in [b"POST /v1/responses/input_tokens HTTP/1.1\r\n", *[b"X-A: b\r\n"] * 50]:
            try:
                sock.sendall(piece)
                closed = sock.recv(1) == b""
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
            if closed:
                break
    took = time.monotonic() - start
    assert closed
    assert HEADER_S - 0.2 <= took <= HEADER_S + SLACK_S


def _trickle(sock: socket.socket, body: bytes, every: float) -> bytes:
    """Sends `body` a byte at a time until the server answers; returns the answer and what
    follows it, up to the close."""
    sock.settimeout(every)
    for i in range(len(body)):
        try:
            sock.sendall(body[i : i + 1])
        except (BrokenPipeError, ConnectionResetError):  # pragma: no cover
            break
        try:
            first = sock.recv(65536)
        except TimeoutError:
            continue
        sock.settimeout(10)
        return first + read_until_closed(sock)
    pytest.fail("the trickled body was never answered")  # pragma: no cover


MULTIPART = (
    b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n'
    b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n" + b"x" * 200 + b"\r\n--b--\r\n"
)


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/v1/responses/input_tokens", BODY, "application/json"),  # the bare count route
        ("/v1/chat/completions/input_tokens", BODY, "application/json"),
        ("/v1/batches/input_tokens", b'{"input_file_id": "file-abc"}', "application/json"),
        ("/v1/conversations", b'{"items": []}', "application/json"),
        ("/v1/files", MULTIPART, "multipart/form-data; boundary=b"),  # the multipart parser
    ],
)
def test_a_trickled_body_gets_a_408_envelope_then_a_close(
    timed: LiveServer, path: str, body: bytes, content_type: str
) -> None:
    sock = connect(timed.base_url)
    start = time.monotonic()
    with sock:
        sock.sendall(head(path, len(body), content_type))
        raw = _trickle(sock, body, every=0.25)
    took = time.monotonic() - start
    status, headers, payload = response(raw)
    assert status == 408
    assert headers["connection"] == "close"
    assert json.loads(payload) == {
        "error": {
            "message": f"The request body took longer than {BODY_S:g} seconds to arrive.",
            "type": "invalid_request_error",
            "param": None,
            "code": "request_timeout",
        }
    }
    assert BODY_S - 0.2 <= took <= BODY_S + SLACK_S


def test_a_trickled_body_gets_a_408_on_h11_too(timed_h11: LiveServer) -> None:
    sock = connect(timed_h11.base_url)
    with sock:
        sock.sendall(head("/v1/responses/input_tokens", len(BODY)))
        status, headers, payload = response(_trickle(sock, BODY, every=0.25))
    # The connection is closed after it (_trickle reads to the close); h11's uvicorn does not
    # say so in a header.
    assert status == 408
    assert json.loads(payload)["error"]["code"] == "request_timeout"


def test_a_stalled_body_after_an_early_answer_is_closed(timed_keyed: LiveServer) -> None:
    """A route that answers before reading the body (here a 401: no key) does not read the
    rest; the connection still closes once the body's time is up."""
    sock = connect(timed_keyed.base_url)
    start = time.monotonic()
    with sock:
        sock.sendall(head("/v1/responses/input_tokens", len(BODY)) + BODY[:10])
        raw = read_until_closed(sock)
    took = time.monotonic() - start
    assert response(raw)[0] == 401
    assert BODY_S - 0.2 <= took <= BODY_S + SLACK_S


def test_a_slow_but_steady_request_within_the_limits_is_counted(either: LiveServer) -> None:
    """Headers over 0.6 s, the body over 1.2 s: each within its limit."""
    sock = connect(either.base_url)
    request = head("/v1/responses/input_tokens", len(BODY))
    with sock:
        for i in range(0, len(request), len(request) // 6 + 1):
            sock.sendall(request[i : i + len(request) // 6 + 1])
            time.sleep(0.1)
        for i in range(0, len(BODY), len(BODY) // 6 + 1):
            sock.sendall(BODY[i : i + len(BODY) // 6 + 1])
            time.sleep(0.2)
        sock.settimeout(5)
        status, headers, payload = response(sock.recv(65536))
    assert status == 200, payload
    assert json.loads(payload)["object"] == "response.input_tokens"
    assert "connection" not in headers


def test_a_slow_multipart_upload_within_the_limit_is_stored(timed: LiveServer) -> None:
    sock = connect(timed.base_url)
    with sock:
        sock.sendall(head("/v1/files", len(MULTIPART), "multipart/form-data; boundary=b"))
        for i in range(0, len(MULTIPART), 40):
            sock.sendall(MULTIPART[i : i + 40])
            time.sleep(0.15)
        sock.settimeout(5)
        status, _, payload = response(sock.recv(65536))
    assert status == 200, payload
    assert json.loads(payload)["bytes"] == 200


def test_keep_alive_idles_as_before_and_the_header_clock_restarts(either: LiveServer) -> None:
    """An idle kept-alive connection is uvicorn's keep-alive business (5 s): idling longer than
    the header timeout between requests is fine; a stall inside the next request's headers is
    closed at the header timeout."""
    with httpx.Client(base_url=either.base_url, trust_env=False) as client:
        assert client.get("/healthz").status_code == 200
        time.sleep(HEADER_S + 0.8)
        assert client.get("/healthz").status_code == 200  # the same connection
    sock = connect(either.base_url)
    with sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        sock.settimeout(5)
        assert response(sock.recv(65536))[0] == 200
        time.sleep(HEADER_S + 0.8)  # idle, longer than the header timeout: still open
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        assert response(sock.recv(65536))[0] == 200
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHo")  # then a stall inside the headers
        took, data = closed_after(sock)
    assert data == b""
    assert HEADER_S - 0.2 <= took <= HEADER_S + SLACK_S


# `inputtokens serve`, two pre-forked workers, the timeouts from the environment.


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INPUTTOKENS_")}
    env = {
        **clean,
        "INPUTTOKENS_WARM_ENCODINGS": "",
        "INPUTTOKENS_DATA_DIR": str(tmp_path_factory.mktemp("serve-data")),
        "INPUTTOKENS_HEADER_TIMEOUT": str(HEADER_S),
        "INPUTTOKENS_BODY_TIMEOUT": str(BODY_S),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "inputtokens", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        yield base_url
    finally:
        proc.terminate()
        proc.wait(timeout=40)


def test_serve_with_two_workers_closes_every_stalled_connection(served: str) -> None:
    """Many stalled sockets at once, spread over both workers: all closed in time; a
    trickled body on each still gets its 408."""
    stalled = [connect(served) for _ in range(40)]
    for sock in stalled:
        sock.sendall(b"POST /v1/responses/input_tokens HTTP/1.1\r\nHost: test\r\nContent-Le")
    start = time.monotonic()
    for sock in stalled:
        sock.settimeout(HEADER_S + SLACK_S + 1)
        assert read_until_closed(sock) == b""
        sock.close()
    assert time.monotonic() - start <= HEADER_S + SLACK_S
    for _ in range(2):
        sock = connect(served)
        with sock:
            sock.sendall(head("/v1/responses/input_tokens", len(BODY)))
            status, headers, payload = response(_trickle(sock, BODY, every=0.25))
        assert (status, headers["connection"]) == (408, "close")
        assert json.loads(payload)["error"]["code"] == "request_timeout"
    assert httpx.post(f"{served}/v1/responses/input_tokens", content=BODY, trust_env=False).json()[
        "input_tokens"
    ]


def test_the_timeouts_are_settings() -> None:
    env = {"INPUTTOKENS_HEADER_TIMEOUT": "2.5", "INPUTTOKENS_BODY_TIMEOUT": "45"}
    settings = Settings.from_env(env)
    assert (settings.header_timeout_s, settings.body_timeout_s) == (2.5, 45.0)
    assert (Settings().header_timeout_s, Settings().body_timeout_s) == (30.0, 30.0)
    with pytest.raises(ValueError, match="INPUTTOKENS_BODY_TIMEOUT"):
        Settings.from_env({"INPUTTOKENS_BODY_TIMEOUT": "0"})


def test_the_servers_run_httptools_with_the_timeouts(timed: LiveServer) -> None:
    """uvicorn[standard] brings httptools, which uvicorn's "auto" would pick too."""
    protocol = timed.server.config.http_protocol_class
    assert protocol.__name__ == "TimedHttpToolsProtocol"
    assert (protocol.header_timeout, protocol.body_timeout) == (HEADER_S, BODY_S)  # type: ignore[attr-defined]

"""Shared fixtures: real uvicorn servers on loopback, an openai client, a clean environment.

The servers are started once per session in background threads (one open, one with an API key
and a small body limit) and are driven over real sockets by httpx and the ``openai`` package.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# Stores (uploaded files) go to a throwaway data directory, never the user's: set before the
# package is imported, because the default settings read it then.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="inputtokens-test-data-")

import httpx  # noqa: E402
import pytest
import uvicorn

from inputtokens.app import create_app
from inputtokens.settings import Settings
from inputtokens.tokenizer import get_encoding

API_KEY = "sk-test-1"
SMALL_LIMIT = 4096


@dataclass
class LiveServer:
    base_url: str
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread


def _start(settings: Settings) -> LiveServer:
    # Bind the socket ourselves and hand it to uvicorn: no race for a "free" port.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        lifespan="on",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    with httpx.Client(base_url=base_url, trust_env=False, timeout=2) as client:
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError(f"uvicorn did not come up on {base_url}")
            time.sleep(0.02)
    return LiveServer(base_url, settings, server, thread)


def _stop(live: LiveServer) -> None:
    live.server.should_exit = True
    live.thread.join(timeout=10)
    assert not live.thread.is_alive(), "uvicorn thread did not stop"


@pytest.fixture(scope="module")
def start_server() -> Iterator[Callable[[Settings], LiveServer]]:
    """Start servers with settings of a test module's own; all stop with the module."""
    started: list[LiveServer] = []

    def start(settings: Settings) -> LiveServer:
        started.append(_start(settings))
        return started[-1]

    yield start
    for live in started:
        _stop(live)


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """The open server (no API keys, default limits)."""
    live = _start(Settings())
    yield live
    _stop(live)


@pytest.fixture(scope="session")
def keyed_server() -> Iterator[LiveServer]:
    """A server that requires `API_KEY` and accepts bodies of at most `SMALL_LIMIT` bytes."""
    live = _start(Settings(api_keys=frozenset({API_KEY}), max_body_bytes=SMALL_LIMIT))
    yield live
    _stop(live)


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    return live_server.base_url


@pytest.fixture(scope="session")
def keyed_base_url(keyed_server: LiveServer) -> str:
    return keyed_server.base_url


@pytest.fixture(scope="session")
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, trust_env=False, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def keyed_http(keyed_base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=keyed_base_url, trust_env=False, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def openai_client(base_url: str):  # type: ignore[no-untyped-def]
    from openai import OpenAI

    client = OpenAI(base_url=f"{base_url}/v1", api_key="sk-anything", max_retries=0)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """Run every test without INPUTTOKENS_* (or OPENAI_*) variables; restore the environment
    afterwards, including anything the code under test exported."""
    original = os.environ.copy()
    for key in list(os.environ):
        if key.startswith(("INPUTTOKENS_", "OPENAI_")):
            del os.environ[key]
    yield
    os.environ.clear()
    os.environ.update(original)


# ---- independent expected counts -------------------------------------------------------------


class Expected:
    """Expected counts derived from the tokenizer and the documented framing rule, not from
    the counter: reasoning models cost 4 + n(content) per user, system or developer message,
    6 + n per assistant message and 2 to prime the reply; chat models cost 4 + n per message and
    3 to prime."""

    @staticmethod
    def n(text: str, encoding: str = "o200k_base") -> int:
        return len(get_encoding(encoding).encode_ordinary(text))

    @classmethod
    def reasoning(cls, messages: list[tuple[str, str]], encoding: str = "o200k_base") -> int:
        total = 2
        for role, content in messages:
            total += (6 if role == "assistant" else 4) + cls.n(content, encoding)
        return total

    @classmethod
    def chat(cls, messages: list[tuple[str, str]], encoding: str = "o200k_base") -> int:
        return 3 + sum(4 + cls.n(content, encoding) for _, content in messages)


@pytest.fixture(scope="session")
def expected() -> type[Expected]:
    return Expected

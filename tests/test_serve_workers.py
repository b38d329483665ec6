"""`inputtokens serve --workers N` spreads one client's connections over the workers: on Linux
each worker accepts on its own socket bound with SO_REUSEPORT, and the kernel hashes new
connections over them. A real process tree (``python -m inputtokens serve``); the worker that
answered is the ``worker`` field of ``/healthz``. Plus the busy-port check SO_REUSEPORT needs."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from inputtokens import server
from inputtokens.server import StartupError

linux_only = pytest.mark.skipif(not server.REUSEPORT, reason="SO_REUSEPORT balances on Linux")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def two_workers() -> Iterator[str]:
    """`serve --workers 2` on a free port: its base URL once both workers answer."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INPUTTOKENS_")}
    env["INPUTTOKENS_WARM_ENCODINGS"] = ""
    proc = subprocess.Popen(
        [sys.executable, "-m", "inputtokens", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=base, trust_env=False, timeout=2) as client:
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


@linux_only
def test_one_client_opening_a_connection_per_request_is_served_by_both_workers(
    two_workers: str,
) -> None:
    """40 requests of one client without keep-alive: 40 connections, hashed over two sockets;
    each worker answers a share (fewer than 5 of 40 by chance: ~1 in 10^7; with one shared
    socket, one worker answered 38 to 40 of them in two of three runs)."""
    no_keep_alive = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=two_workers, trust_env=False, limits=no_keep_alive) as client:
        served = Counter(client.get("/healthz").json()["worker"] for _ in range(40))
    assert len(served) == 2, served
    assert min(served.values()) >= 5, served


def _one_pool_of_8(base: str) -> list[tuple[int, int]]:
    """(client port, worker) of each /healthz that 8 threads sharing one client ask 5 times."""
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    start = threading.Barrier(8)
    seen: list[tuple[int, int]] = []
    with httpx.Client(base_url=base, trust_env=False, limits=limits) as client:

        def use() -> None:
            start.wait()
            for _ in range(5):
                answer = client.get("/healthz")
                stream = answer.extensions["network_stream"]
                seen.append((stream.get_extra_info("client_addr")[1], answer.json()["worker"]))

        threads = [threading.Thread(target=use) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return seen


@linux_only
def test_the_connections_of_one_keep_alive_pool_land_on_both_workers(two_workers: str) -> None:
    """A pool of 8 keep-alive connections, opened together by 8 threads sharing one client, four
    times over: each connection stays on one worker, and each worker holds a share of the 32
    connections (fewer than 4 by chance: ~1 in 10^6)."""
    held: dict[tuple[int, int], int] = {}  # (pool, client port) -> worker
    for pool in range(4):
        for port, worker in _one_pool_of_8(two_workers):
            assert held.setdefault((pool, port), worker) == worker  # a connection stays put
    per_worker = Counter(held.values())
    assert len(per_worker) == 2, per_worker
    assert min(per_worker.values()) >= 4, per_worker


@linux_only
def test_connections_opened_back_to_back_land_on_both_workers(two_workers: str) -> None:
    """A pool opening its connections back to back, as a load generator or a compiled client
    does: with one shared socket, whichever worker woke first accepted the whole burst (11 of 20
    pools of 8, and every pool of 20, entirely on one worker). Now each of four pools of 20
    keep-alive connections reaches both workers (one pool on one worker by chance: 2 in 10^6)."""
    port = int(two_workers.rsplit(":", 1)[1])
    for _ in range(4):
        pool = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(20)]
        try:
            for conn in pool:
                conn.connect()
            workers = []
            for conn in pool:
                for _ in range(2):  # keep-alive: the same worker answers again
                    conn.request("GET", "/healthz")
                    workers.append(json.loads(conn.getresponse().read())["worker"])
                assert workers[-1] == workers[-2]
        finally:
            for conn in pool:
                conn.close()
        assert len(set(workers)) == 2, Counter(workers)


# ---- the busy-port check ---------------------------------------------------------------------


def _reuseport_listener(port: int = 0, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen()
    return sock


@linux_only
def test_a_port_another_socket_shares_by_so_reuseport_is_in_use() -> None:
    """SO_REUSEPORT lets a socket of this user join a port: the bind that probes the port does
    not set it, so a listener that does is still a port in use."""
    with _reuseport_listener() as other:
        port = other.getsockname()[1]
        with pytest.raises(StartupError, match=f"port {port} is already in use"):
            server._listen("127.0.0.1", port, 2)


@linux_only
def test_a_listener_that_joins_between_the_probe_and_the_binds_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process binding the port with SO_REUSEPORT right after the probe let it go would
    share the workers' connections: the kernel's table of listeners shows it, and the sockets
    bound so far are closed."""
    bind = server._bind
    intruders: list[socket.socket] = []
    bound: list[socket.socket] = []

    def racing_bind(host: str, port: int, *, reuseport: bool = False) -> socket.socket:
        if reuseport and not intruders:
            intruders.append(_reuseport_listener(port, host))
        sock = bind(host, port, reuseport=reuseport)
        bound.append(sock)
        return sock

    monkeypatch.setattr(server, "_bind", racing_bind)
    try:
        with pytest.raises(StartupError, match="is already in use"):
            server._listen("127.0.0.1", 0, 2)
    finally:
        for sock in intruders:
            sock.close()
    assert len(bound) == 3  # the probe and both workers' sockets, all closed
    assert all(sock.fileno() == -1 for sock in bound)


@linux_only
def test_listeners_on_the_same_port_elsewhere_are_not_ours_to_mind() -> None:
    """Our own sockets, and another listener on the same port but another address (127.0.0.2),
    are not a port in use; the same address, or a wildcard one, is."""
    sockets = server._listen("127.0.0.1", 0, 2)
    try:
        assert len(sockets) == 2
        port = sockets[0].getsockname()[1]
        assert not server._others_listen(sockets)
        with _reuseport_listener(port, "127.0.0.2"):
            assert not server._others_listen(sockets)
        with _reuseport_listener(port, "0.0.0.0"):
            assert server._others_listen(sockets)
        with _reuseport_listener(port, "127.0.0.1"):
            assert server._others_listen(sockets)
    finally:
        for sock in sockets:
            sock.close()


def test_one_worker_or_no_so_reuseport_is_one_shared_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (one,) = server._listen("127.0.0.1", 0, 1)
    one.close()
    monkeypatch.setattr(server, "REUSEPORT", False)  # as on macOS or Windows
    (shared,) = server._listen("127.0.0.1", 0, 4)
    shared.close()

"""A server killed mid-write loses nothing it acknowledged, on both store backends.

The real server runs as a subprocess (``python -m inputtokens serve``) on a fresh database of
each backend (the `database_url` fixture). A thread appends batches of items to a conversation
as fast as the server answers, recording each acknowledged batch; the server is SIGKILLed in
the middle of that stream, and a new server on the same store must list every acknowledged
item (in order, each batch whole: the one in flight is all there or not at all), open cleanly,
and accept new writes.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from inputtokens.state.store import MIGRATIONS, Store

ACKED_BEFORE_KILL = 40  # acknowledged batches to wait for before the kill
BATCH_SIZES = (1, 3, 7, 20, 2)  # items per call (OpenAI allows at most 20)


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        """SIGKILL the server (its whole process group): no shutdown code runs."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(database_url: str, log: Path) -> ServerProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INPUTTOKENS_")}
    env.update(
        INPUTTOKENS_DATABASE_URL=database_url, INPUTTOKENS_WARM_ENCODINGS="", PYTHONUNBUFFERED="1"
    )
    for _ in range(3):  # a port found free can be taken before the server binds it
        port = _free_port()
        with log.open("ab") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "inputtokens",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    "1",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        server = ServerProcess(process, f"http://127.0.0.1:{port}", log)
        deadline = time.monotonic() + 30
        with httpx.Client(trust_env=False, timeout=2) as client:
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    if client.get(f"{server.base_url}/healthz").status_code == 200:
                        return server
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        server.kill()
    raise RuntimeError(f"the server did not come up:\n{server.log_tail()}")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """Servers a test starts; any still running are stopped afterwards."""
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


class Writer(threading.Thread):
    """Appends batches of items to one conversation until a request fails."""

    def __init__(self, base_url: str, conv_id: str) -> None:
        super().__init__(name="crash-writer", daemon=True)
        self.base_url, self.conv_id = base_url, conv_id
        self.acked: list[list[str]] = []  # batches answered 200, in order
        self.unconfirmed: list[str] | None = None  # the batch whose request broke off
        self.failures: list[str] = []  # anything but a broken connection

    def run(self) -> None:
        url = f"{self.base_url}/v1/conversations/{self.conv_id}/items"
        try:
            with httpx.Client(trust_env=False, timeout=10) as client:
                for n in range(1_000_000):
                    ids = [
                        f"msg_crash{n:06d}_{k:02d}"
                        for k in range(BATCH_SIZES[n % len(BATCH_SIZES)])
                    ]
                    body = {
                        "items": [
                            {
                                "type": "message",
                                "role": "user",
                                "id": item_id,
                                "content": [{"type": "input_text", "text": f"{item_id} " * 50}],
                            }
                            for item_id in ids
                        ]
                    }
                    try:
                        response = client.post(url, json=body)
                    except httpx.TransportError:
                        self.unconfirmed = ids
                        return
                    if response.status_code != 200:
                        self.failures.append(f"{response.status_code} {response.text[:500]}")
                        return
                    returned = [item["id"] for item in response.json()["data"]]
                    if returned != ids:
                        self.failures.append(f"sent {ids}, acknowledged {returned}")
                        return
                    self.acked.append(ids)
        except Exception as exc:  # reported by the test, not lost in the thread
            self.failures.append(repr(exc))


def _all_items(client: httpx.Client, conv_id: str) -> list[str]:
    """Every item id of a conversation, oldest first, a page at a time."""
    ids: list[str] = []
    params: dict[str, Any] = {"limit": 100, "order": "asc"}
    while True:
        response = client.get(f"/v1/conversations/{conv_id}/items", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [item["id"] for item in page["data"]]
        if not page["has_more"]:
            return ids
        params["after"] = page["last_id"]


def test_sigkill_mid_write_loses_no_acknowledged_item(
    database_url: str, servers: list[ServerProcess], tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    servers.append(_start_server(database_url, log))
    first = servers[-1]
    with httpx.Client(base_url=first.base_url, trust_env=False, timeout=10) as client:
        created = client.post(
            "/v1/conversations",
            json={
                "metadata": {"run": "crash"},
                "items": [
                    {
                        "type": "message",
                        "role": "user",
                        "id": "msg_initial",
                        "content": [{"type": "input_text", "text": "before the stream"}],
                    }
                ],
            },
        )
        assert created.status_code == 200, created.text
    conv_id = created.json()["id"]

    writer = Writer(first.base_url, conv_id)
    writer.start()
    deadline = time.monotonic() + 30
    while (
        len(writer.acked) < ACKED_BEFORE_KILL and writer.is_alive() and time.monotonic() < deadline
    ):
        time.sleep(0.005)
    first.kill()  # mid-stream: the writer has a request in flight or about to be
    writer.join(timeout=15)
    assert not writer.is_alive(), "the writer did not notice the server die"
    assert writer.failures == [], f"{writer.failures}\n{first.log_tail()}"
    assert len(writer.acked) >= ACKED_BEFORE_KILL, first.log_tail()
    assert writer.unconfirmed is not None  # it stopped because the server died

    if database_url.startswith("sqlite"):  # the file as the crash left it (and its WAL)
        path = sa.make_url(database_url).database
        assert path is not None and Path(path + "-wal").exists()
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            version = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        finally:
            conn.close()
        assert version == (MIGRATIONS[-1][0],)

    servers.append(_start_server(database_url, log))
    second = servers[-1]
    acked = [item_id for batch in writer.acked for item_id in batch]
    with httpx.Client(base_url=second.base_url, trust_env=False, timeout=10) as client:
        listed = _all_items(client, conv_id)
        missing = sorted(set(acked) - set(listed))
        assert missing == [], f"{len(missing)} acknowledged items lost: {missing[:10]}"
        # In order, each batch whole: the one in flight was committed entirely or not at all.
        assert listed in (["msg_initial", *acked], ["msg_initial", *acked, *writer.unconfirmed]), (
            f"{len(listed)} listed, {len(acked)} acknowledged; unexpected: "
            f"{sorted(set(listed) - set(acked) - {'msg_initial'})[:10]}"
        )
        conv = client.get(f"/v1/conversations/{conv_id}")
        assert conv.status_code == 200 and conv.json()["metadata"] == {"run": "crash"}

        # New writes work, to the old conversation and to a new one.
        more = client.post(
            f"/v1/conversations/{conv_id}/items",
            json={
                "items": [
                    {
                        "type": "message",
                        "role": "user",
                        "id": "msg_after_restart",
                        "content": [{"type": "input_text", "text": "after"}],
                    }
                ]
            },
        )
        assert more.status_code == 200, more.text
        assert _all_items(client, conv_id) == [*listed, "msg_after_restart"]
        fresh = client.post(
            "/v1/conversations", json={"items": [{"role": "user", "content": "a new conversation"}]}
        )
        assert fresh.status_code == 200, fresh.text
        assert len(_all_items(client, fresh.json()["id"])) == 1

    store = Store(database_url)  # opens cleanly: nothing to migrate, the schema is current
    try:
        assert store.schema_version() == MIGRATIONS[-1][0]
        items = store.conversation_items("", conv_id)
        assert items is not None and [item["id"] for item in items][-1] == "msg_after_restart"
    finally:
        store.close()

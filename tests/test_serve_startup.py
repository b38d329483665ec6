"""`inputtokens serve` under settings it cannot serve with: one line saying what to change, exit
status 2, no traceback. Real processes (``python -m inputtokens serve``), as `make run` runs it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INPUTTOKENS_")}
    if "--port" not in args and not (env and "INPUTTOKENS_PORT" in env):
        args = ("--port", "0", *args)  # should the check pass, never the default port
    return subprocess.run(
        [sys.executable, "-m", "inputtokens", "serve", *args],
        env={**clean, "INPUTTOKENS_WARM_ENCODINGS": "", **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    (line,) = lines
    assert line.startswith("Error: ")
    return line


@pytest.fixture(params=["plain", "SO_REUSEPORT"])
def busy_port(request: pytest.FixtureRequest) -> Iterator[int]:
    """A port some other process (here: this one) is listening on; also with SO_REUSEPORT set,
    which lets the workers' sockets (SO_REUSEPORT too, same user) join it unless checked."""
    sock = socket.socket()
    if request.param == "SO_REUSEPORT":
        if not hasattr(socket, "SO_REUSEPORT"):
            pytest.skip("no SO_REUSEPORT here")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_one_line_naming_the_port_and_the_way_out(
    busy_port: int, workers: str, tmp_path: Path
) -> None:
    proc = serve(
        "--port", str(busy_port), "--workers", workers, env={"INPUTTOKENS_DATA_DIR": str(tmp_path)}
    )
    line = one_line_error(proc)
    assert f"port {busy_port} is already in use" in line
    assert "--port" in line and "INPUTTOKENS_PORT" in line


def test_the_port_from_the_environment_is_named_too(busy_port: int, tmp_path: Path) -> None:
    env = {"INPUTTOKENS_PORT": str(busy_port), "INPUTTOKENS_DATA_DIR": str(tmp_path)}
    assert f"port {busy_port} is already in use" in one_line_error(serve(env=env))


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "not a database URL"),
        ("mysql://user:s3cret@db/x", "unsupported database 'mysql'"),
        ("nosuch+driver://x/y", "unsupported database 'nosuch+driver'"),
        ("postgresql+pg8000://user@db/x", "the driver of 'postgresql+pg8000' is not available"),
    ],
)
def test_a_bad_database_url_is_one_line(url: str, says: str) -> None:
    line = one_line_error(serve(env={"INPUTTOKENS_DATABASE_URL": url}))
    assert line.startswith("Error: INPUTTOKENS_DATABASE_URL: ")
    assert says in line
    assert "s3cret" not in line


def test_an_unusable_data_directory_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = one_line_error(serve(env={"INPUTTOKENS_DATA_DIR": str(blocker / "data")}))
    assert line.startswith("Error: INPUTTOKENS_DATA_DIR: ")
    assert str(blocker) in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to any directory")
def test_a_read_only_data_directory_is_one_line(tmp_path: Path) -> None:
    tmp_path.chmod(0o555)
    try:
        line = one_line_error(serve(env={"INPUTTOKENS_DATA_DIR": str(tmp_path)}))
    finally:
        tmp_path.chmod(0o755)
    assert "is not writable" in line


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_passes_port_through() -> None:
    plan = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "run", "PORT=8001", "VENV=/nonexistent-venv"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "/nonexistent-venv/bin/inputtokens serve --port 8001" in plan
    default = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "run", "VENV=/nonexistent-venv"],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PORT"},
    ).stdout
    assert "--port" not in default

"""Shared fixtures: real uvicorn servers on loopback, an openai client, a clean environment.

The servers are started once per session in background threads (one open, one with an API key
and a small body limit) and are driven over real sockets by httpx and the ``openai`` package.

Store tests run on both backends through ``database_url``: a fresh, empty SQLite file or
PostgreSQL database per test module. The PostgreSQL server is the one whose admin URL is
``INPUTTOKENS_TEST_POSTGRES_URL`` (``postgresql://postgres@127.0.0.1:5432/postgres``), else a
throwaway cluster started here with ``initdb``/``pg_ctl`` (from PATH or
/usr/lib/postgresql/*/bin). Without either, the postgresql cases are skipped, and under ``CI``
they fail.
"""

from __future__ import annotations

import atexit
import gc
import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Stores (uploaded files) go to a throwaway data directory, never the user's: set before the
# package is imported, because the default settings read it then.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="inputtokens-test-data-")

import httpx  # noqa: E402
import pytest
import sqlalchemy as sa
import uvicorn

from inputtokens.api.app import create_app
from inputtokens.api.timeouts import http_protocol
from inputtokens.core.tokenizer import get_encoding
from inputtokens.settings import Settings

# Read once: `clean_environ` removes INPUTTOKENS_* variables around every test.
POSTGRES_ADMIN_URL = os.environ.get("INPUTTOKENS_TEST_POSTGRES_URL", "").strip()
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")

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
        http=http_protocol(settings.header_timeout_s, settings.body_timeout_s),
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


@pytest.fixture(scope="module", autouse=True)
def _close_openai_clients() -> Iterator[None]:
    """Close the clients a module made with tests/clients.py when it ends."""
    yield
    from tests.clients import close_all

    close_all()


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """Run every test without INPUTTOKENS_* (or OPENAI_*) variables; restore the environment
    afterwards, including anything the code under test exported."""
    original = os.environ.copy()
    for key in list(os.environ):
        if key.startswith(("INPUTTOKENS_", "OPENAI_")):
            del os.environ[key]
    yield
    multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    os.environ.clear()
    os.environ.update(original)
    if multiprocess_dir != original.get("PROMETHEUS_MULTIPROC_DIR"):
        # A test ran `serve`'s parent in this process (server.run), which switched
        # prometheus_client to multi-process values: switch back, or every app built later in
        # this process would share its figures through that directory.
        from inputtokens.api.metrics import use_multiprocess

        use_multiprocess(original.get("PROMETHEUS_MULTIPROC_DIR"))


# ---- store backends: SQLite and PostgreSQL ------------------------------------------------------


class PostgresUnavailable(Exception):
    """No PostgreSQL server to test against (and none could be started)."""


@dataclass
class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary directory: 127.0.0.1 only, trust authentication,
    no fsync (it lives for one session), removed by `stop`."""

    bin_dir: Path
    user: str | None  # run the binaries as this user: postgres refuses to run as root
    # In /tmp: the user can reach it (TMPDIR may be under /root), and the socket path is short.
    base: Path = field(
        default_factory=lambda: Path(
            tempfile.mkdtemp(
                prefix="inputtokens-pg-", dir="/tmp" if os.path.isdir("/tmp") else None
            )
        )
    )
    port: int = 0
    running: bool = False

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        try:
            done = subprocess.run(
                command,
                cwd=self.base,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**os.environ, "LC_ALL": "C"},
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailable(f"{' '.join(command)}: {exc}") from None
        if done.returncode != 0:
            log = self.base / "postgres.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(
                f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}{tail}"
            )

    def start(self) -> None:
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        atexit.register(self.stop)  # also if the session ends without running finalizers
        data = str(self.base / "data")
        self._run(
            "initdb",
            "-D",
            data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        for attempt in range(3):  # a port found free can be taken before the server binds it
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=300"
            )
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    data,
                    "-l",
                    str(self.base / "postgres.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                    timeout=90,
                )
            except PostgresUnavailable:
                self._stop_server()
                if attempt == 2:
                    raise
            else:
                self.running = True
                return

    def _stop_server(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop")
        except PostgresUnavailable:
            pass

    def stop(self) -> None:
        if self.running:
            self.running = False
            self._stop_server()
        shutil.rmtree(self.base, ignore_errors=True)


def _postgres_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: PATH first, then Debian's versioned directories."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(initdb).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(re.sub(r"\D", "", p) or 0),
        reverse=True,
    )
    for candidate in map(Path, versions):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _throwaway_cluster() -> ThrowawayCluster:
    """A started throwaway cluster, or PostgresUnavailable saying why there is none."""
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        raise PostgresUnavailable(
            "set INPUTTOKENS_TEST_POSTGRES_URL to an admin URL of a server, or install "
            "PostgreSQL (initdb and pg_ctl) for the tests to start one"
        )
    user = None
    if os.geteuid() == 0:
        user = next((name for name in ("postgres", "nobody") if _user_exists(name)), None)
        if user is None or shutil.which("runuser") is None:
            raise PostgresUnavailable(
                "running as root without runuser and an unprivileged "
                "user (postgres or nobody) to start PostgreSQL as"
            )
    cluster = ThrowawayCluster(bin_dir, user)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _psycopg_url(url: str) -> sa.URL:
    """`url` with the psycopg (3) driver, the one the postgres extra installs."""
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


class PostgresServer:
    """Creates and drops uniquely named databases on one server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = _psycopg_url(admin_url)
        self.engine = sa.create_engine(
            self.admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
        )
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def create(self, label: str) -> str:
        name = (
            f"inputtokens_{re.sub(r'[^a-z0-9]+', '_', label.lower())[:30]}_{secrets.token_hex(4)}"
        )
        with self.engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = sa.make_url(url).database
        with self.engine.connect() as conn:  # FORCE: ends the connections still open to it
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server of this session: INPUTTOKENS_TEST_POSTGRES_URL's, or a throwaway
    cluster. Skips (fails under CI) when there is none."""
    cluster: ThrowawayCluster | None = None
    try:
        if POSTGRES_ADMIN_URL:
            try:
                server = PostgresServer(POSTGRES_ADMIN_URL)
            except Exception as exc:  # a configured server must work, in CI or not
                pytest.fail(f"INPUTTOKENS_TEST_POSTGRES_URL is set but unusable: {exc}")
        else:
            cluster = _throwaway_cluster()
            try:
                server = PostgresServer(cluster.admin_url)
            except (ImportError, sa.exc.SQLAlchemyError) as exc:
                raise PostgresUnavailable(f"the throwaway cluster: {exc}") from None
    except (PostgresUnavailable, ImportError) as exc:
        if cluster is not None:
            cluster.stop()
        reason = f"PostgreSQL unavailable: {exc}"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    yield server
    server.close()
    if cluster is not None:
        cluster.stop()


class Databases:
    """Fresh, empty databases of one backend; all are removed by `close`."""

    def __init__(
        self,
        backend: str,
        tmp_path_factory: pytest.TempPathFactory,
        postgres: PostgresServer | None,
    ) -> None:
        self.backend = backend
        self.tmp_path_factory = tmp_path_factory
        self.postgres = postgres
        self.urls: list[str] = []

    def new(self, label: str) -> str:
        if self.postgres is not None:
            url = self.postgres.create(label)
        else:
            url = f"sqlite:///{self.tmp_path_factory.mktemp('sqlite') / 'inputtokens.db'}"
        self.urls.append(url)
        return url

    def close(self) -> None:
        # Stores left open on these databases (the app's cached ones included) let go of their
        # connections now, rather than when garbage collected in some later test.
        from inputtokens.state.store import Store

        urls = set(self.urls)
        for obj in gc.get_objects():
            if isinstance(obj, Store) and obj.url in urls:
                obj.close()
        if self.postgres is not None:
            for url in self.urls:
                self.postgres.drop(url)


_DATABASES = pytest.StashKey[Databases]()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty store database for this test module, on each backend in turn
    (ids ``sqlite`` and ``postgresql``): a SQLite file URL or a PostgreSQL URL."""
    postgres = request.getfixturevalue("postgres_server") if request.param == "postgresql" else None
    databases = Databases(request.param, tmp_path_factory, postgres)
    request.node.stash[_DATABASES] = databases
    try:
        yield databases.new(request.module.__name__.rpartition(".")[2])
    finally:
        databases.close()


@pytest.fixture
def new_database_url(request: pytest.FixtureRequest, database_url: str) -> Callable[[str], str]:
    """Make more fresh databases on the backend of `database_url` (removed with it)."""
    return request.node.getparent(pytest.Module).stash[_DATABASES].new


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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The docs' samples: how many ran and were compared, and each one marked skip, with why
    (tests/test_docs_samples.py)."""
    module = sys.modules.get("test_docs_samples") or sys.modules.get("tests.test_docs_samples")
    report = getattr(module, "REPORT", None)
    if not report or not (report["run"] or report["skipped"]):
        return
    terminalreporter.section("doc samples")
    terminalreporter.write_line(
        f"{report['run']} samples run, {report['checked']} outputs compared, "
        f"{report['prose']} prose comments not compared, {len(report['skipped'])} skipped:"
    )
    for line in report["skipped"]:
        terminalreporter.write_line(f"  skipped {line}")

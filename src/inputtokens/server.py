"""Run the HTTP service under uvicorn: one process, or pre-forked workers on one address.

Start-up is importing the stack (~0.3 s) and loading vocabularies (~0.1 s for o200k with the
engine). With several workers, uvicorn's own supervisor *spawns* each one, so every worker
imports everything and builds its vocabularies again. Here the parent builds the app, loads the
warm encodings and uvicorn's configuration (its protocol and event loop modules) once, then
forks: a worker is ready as soon as its event loop runs, and the pages stay shared between
workers (copy-on-write; nothing writes to them after the load).

On Linux each worker accepts on a socket of its own, all bound to the same address with
``SO_REUSEPORT``: the kernel spreads new connections over them by a hash of the client's address
and port, so the connections one client's pool opens land on different workers. Elsewhere the
workers share one listening socket, and whichever wakes first accepts (asyncio accepts a whole
burst at once, so one worker can take every connection of a pool).

The parent only supervises: it replaces a worker that dies, and on SIGINT/SIGTERM passes the
signal on, waits for the workers' graceful shutdown, and exits.

``GET /metrics`` is the whole server's: with several workers, prometheus_client runs in
multi-process mode in a fresh temporary directory the parent makes before forking and removes
when it exits; a worker that dies is marked dead there (api/metrics.py).
"""

from __future__ import annotations

import errno
import gc
import logging
import logging.config
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from .api import metrics
from .api.app import create_app
from .api.playground import PATH as PLAYGROUND_PATH
from .api.timeouts import http_protocol
from .core.tokenizer import get_encoding
from .settings import Settings

log = logging.getLogger("uvicorn.error")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_GRACE_S = 30.0  # how long workers get to finish their requests at shutdown
_RESTART_PAUSE_S = 1.0  # between replacing workers that keep dying (no busy loop)
_POLL_S = 0.1  # how often the parent looks for exited workers and stop requests
_BACKLOG = 2048
# One socket per worker where the kernel balances connections over SO_REUSEPORT sockets (Linux;
# the BSDs and macOS accept the option but give every connection to one of the sockets).
REUSEPORT = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def app_from_env() -> Starlette:
    """App factory for ASGI servers run by hand (``uvicorn --factory
    inputtokens.server:app_from_env``): settings from the environment."""
    return create_app(Settings.from_env())


class StartupError(Exception):
    """The server cannot start under these settings: the port is taken, the store's database
    URL or data directory is unusable. The message is one line saying what to change."""


def run(settings: Settings) -> None:
    """Serve until interrupted; ``StartupError`` when the settings cannot serve, raised before
    anything slow loads."""
    try:
        settings.check_store()
    except ValueError as exc:
        raise StartupError(str(exc)) from None
    sockets = _listen(settings.host, settings.port, settings.workers)
    # Several workers: their metrics in files of a directory of this server's own (never one
    # inherited, which another server may be using); one worker: in its memory.
    metrics_dir = None
    if settings.workers > 1:
        metrics_dir = tempfile.mkdtemp(prefix="inputtokens-metrics-")
    try:
        metrics.use_multiprocess(metrics_dir)
        _serve(settings, sockets)
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _serve(settings: Settings, sockets: list[socket.socket]) -> None:
    try:
        app = create_app(settings)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    for name in settings.warm_encodings:  # before any fork: loaded once, shared by workers
        get_encoding(name)
    # Everything loaded so far lives as long as the process: keep the collector from walking
    # it again and again (and, in forked workers, from writing to and un-sharing its pages).
    gc.freeze()
    _say_keys(settings)
    if settings.workers <= 1:
        config = uvicorn_config(app, settings, host=settings.host, port=settings.port)
        try:
            _Server(config).run(sockets=sockets)
        except KeyboardInterrupt:
            pass
        return
    Prefork(app, sockets, settings.workers, settings).run()


def uvicorn_config(app: Starlette, settings: Settings, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for `app`: its HTTP protocol with the header and body timeouts
    of `settings` (api/timeouts.py). Idle connections between requests still close after
    uvicorn's keep-alive timeout (5 s)."""
    http = http_protocol(settings.header_timeout_s, settings.body_timeout_s)
    return uvicorn.Config(app, http=http, log_level="info", access_log=False, **options)


def keys_mode(settings: Settings) -> str:
    """How callers are told apart, as ``serve`` says at start-up (docs/http.md,
    Authentication)."""
    count = len(settings.api_keys)
    if not count:
        return "keys: isolated per bearer key (no INPUTTOKENS_API_KEYS set)"
    return f"keys: {count} allowed key{'' if count == 1 else 's'}"


def _say_keys(settings: Settings) -> None:
    """Log `keys_mode` once, in uvicorn's format, before any worker starts."""
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
    log.info("%s", keys_mode(settings))


def playground_line(base_url: str) -> str:
    """What ``serve`` says at start-up about the playground page (api/playground.py): where to
    point a browser to see a request's tokens."""
    return f"Playground: {base_url}{PLAYGROUND_PATH} (paste a request body to see its tokens)"


class _Server(uvicorn.Server):
    """uvicorn's server, which says where it listens also when given the socket."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if sockets and not self.should_exit:
            host, port = sockets[0].getsockname()[:2]
            where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            log.info("Uvicorn running on http://%s (Press CTRL+C to quit)", where)
            log.info("%s", playground_line(f"http://{where}"))


def _listen(host: str, port: int, workers: int = 1) -> list[socket.socket]:
    """The listening sockets, bound here (also for one worker) so that a port in use is one
    ``StartupError`` rather than a traceback from inside uvicorn: one socket, or with several
    workers and ``REUSEPORT`` one per worker, all on the same address."""
    probe = _bind(host, port)  # without SO_REUSEPORT: fails if anyone else listens on the port
    if workers <= 1 or not REUSEPORT:
        probe.listen(_BACKLOG)
        probe.set_inheritable(True)
        return [probe]
    port = probe.getsockname()[1]  # for port 0, the port the kernel chose
    probe.close()
    sockets: list[socket.socket] = []
    try:
        for _ in range(workers):
            sockets.append(_bind(host, port, reuseport=True))
            sockets[-1].listen(_BACKLOG)
            sockets[-1].set_inheritable(True)
        # SO_REUSEPORT lets another process of this user join the port: one that bound it
        # between the probe and our sockets would now share our connections.
        if _others_listen(sockets):
            raise _in_use(host, port)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _bind(host: str, port: int, *, reuseport: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise _in_use(host, port) from None
        reason = exc.strerror or str(exc)
        raise StartupError(
            f"cannot listen on {_where(host, port)}: {reason}; choose another address with "
            "--host/--port or INPUTTOKENS_HOST/INPUTTOKENS_PORT"
        ) from None
    return sock


def _in_use(host: str, port: int) -> StartupError:
    return StartupError(
        f"port {port} is already in use ({_where(host, port)}); choose another with --port or "
        "INPUTTOKENS_PORT"
    )


def _where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _others_listen(sockets: list[socket.socket]) -> bool:
    """Whether a socket other than `sockets` listens on their port and an address that overlaps
    theirs (the same, or either a wildcard), from the kernel's table (/proc/net/tcp{,6})."""
    family = sockets[0].family
    host, port = sockets[0].getsockname()[:2]
    ours = {os.fstat(sock.fileno()).st_ino for sock in sockets}
    v6 = family == socket.AF_INET6
    wildcard = "::" if v6 else "0.0.0.0"
    try:
        rows = Path("/proc/net/tcp6" if v6 else "/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return False  # no table to read: the probe bind checked all it could
    for row in rows:
        fields = row.split()
        address, _, hex_port = fields[1].partition(":")
        if fields[3] != "0A" or int(hex_port, 16) != port or int(fields[9]) in ours:
            continue  # not listening (0A), another port, or ours
        # the kernel prints the address as 32-bit words in host (little-endian) order
        raw = b"".join(bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, len(address), 8))
        theirs = socket.inet_ntop(family, raw)
        if wildcard in (host, theirs) or theirs == host:
            return True
    return False


class Prefork:
    """A parent that keeps `count` forked uvicorn workers serving `sockets`: all of them one
    shared socket, or (one socket per worker) each its own. The parent keeps every socket open,
    so a worker that dies is replaced on its socket and the connections queued there wait for
    the replacement rather than being refused."""

    def __init__(
        self,
        app: Starlette,
        sockets: list[socket.socket],
        count: int,
        settings: Settings | None = None,
    ) -> None:
        self.app, self.sockets, self.count = app, sockets, count
        self.settings = settings or Settings()
        self.workers: dict[int, int] = {}  # pid -> the worker's slot (its socket, if its own)
        self.stopping: int | None = None  # the signal that asked us to stop
        self.config: uvicorn.Config | None = None  # loaded once, before the first fork

    def run(self) -> None:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
        log.info(
            "Started parent process [%d], %d workers on %s (%s)",
            os.getpid(),
            self.count,
            self._address(),
            "a socket each, SO_REUSEPORT" if len(self.sockets) > 1 else "one shared socket",
        )
        log.info("%s", playground_line(self._address()))
        for sig in _STOP_SIGNALS:
            signal.signal(sig, self._on_stop)
        self.config = self._loaded_config()
        for slot in range(self.count):
            self._fork(slot)
        while self.stopping is None:
            # Polled: a signal handler that only sets a flag does not interrupt os.wait().
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid, status = 0, 0
            if not pid:
                time.sleep(_POLL_S)
                continue
            slot = self.workers.pop(pid, -1)  # -1: not a worker of ours
            metrics.mark_process_dead(pid)  # its counters stay in the totals, its gauges go
            if self.stopping is None and slot >= 0:
                log.warning("Worker [%d] exited (%s); starting another", pid, _exit_reason(status))
                time.sleep(_RESTART_PAUSE_S)
                if self.stopping is None:
                    self._fork(slot)
        self._stop_workers()

    def _fork(self, slot: int) -> None:
        pid = os.fork()
        if pid:
            self.workers[pid] = slot
            return
        # The worker: default signal handling until uvicorn installs its own.
        code = 0
        try:
            for sig in _STOP_SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
            sock = self._socket_of(slot)
            config = self.config or self._loaded_config()
            uvicorn.Server(config).run(sockets=[sock])
        except BaseException:  # noqa: BLE001 - a worker must never return into the parent's loop
            log.exception("Worker [%d] failed", os.getpid())
            code = 1
        finally:
            os._exit(code)

    def _loaded_config(self) -> uvicorn.Config:
        """The workers' uvicorn configuration, loaded: what uvicorn imports as it starts (the
        HTTP and WebSocket protocols, the lifespan, the event loop) is imported here, once,
        rather than in every worker after the fork, where it costs each worker's start ~50 ms
        and pages of its own."""
        config = uvicorn_config(self.app, self.settings)
        config.load()
        config.get_loop_factory()  # imports the loop (uvloop); each worker makes its own loop
        return config

    def _socket_of(self, slot: int) -> socket.socket:
        """In a worker: its socket, the others' closed (the parent keeps them)."""
        if len(self.sockets) == 1:
            return self.sockets[0]
        for i, other in enumerate(self.sockets):
            if i != slot:
                other.close()
        return self.sockets[slot]

    def _on_stop(self, signum: int, frame: object) -> None:
        self.stopping = signum

    def _stop_workers(self) -> None:
        for pid in self.workers:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + _GRACE_S
        while self.workers and time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                self.workers.pop(pid, -1)
            else:
                time.sleep(0.05)
        for pid in self.workers:  # past the grace period
            _signal(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        log.info("Stopped parent process [%d]", os.getpid())

    def _address(self) -> str:
        host, port = self.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"

"""Run the HTTP service under uvicorn: one process, or pre-forked workers sharing one socket.

Start-up is dominated by loading vocabularies (~0.3-0.5 s and ~100 MiB for o200k). With several
workers, uvicorn's own supervisor *spawns* each one, so every worker imports everything and
builds its vocabularies again. Here the parent builds the app and loads the warm encodings once,
then forks: a worker is ready as soon as its event loop runs, and the vocabulary pages stay
shared between workers (copy-on-write; nothing writes to them after the load).

The parent only supervises: it replaces a worker that dies, and on SIGINT/SIGTERM passes the
signal on, waits for the workers' graceful shutdown, and exits.
"""

from __future__ import annotations

import errno
import gc
import logging
import logging.config
import os
import signal
import socket
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette

from .api.app import create_app
from .api.timeouts import http_protocol
from .core.tokenizer import get_encoding
from .settings import Settings

log = logging.getLogger("uvicorn.error")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_GRACE_S = 30.0  # how long workers get to finish their requests at shutdown
_RESTART_PAUSE_S = 1.0  # between replacing workers that keep dying (no busy loop)
_POLL_S = 0.1  # how often the parent looks for exited workers and stop requests


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
    sock = _listen(settings.host, settings.port)
    try:
        app = create_app(settings)
    except BaseException:
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
            _Server(config).run(sockets=[sock])
        except KeyboardInterrupt:
            pass
        return
    Prefork(app, sock, settings.workers, settings).run()


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


class _Server(uvicorn.Server):
    """uvicorn's server, which says where it listens also when given the socket."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if sockets and not self.should_exit:
            host, port = sockets[0].getsockname()[:2]
            where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            log.info("Uvicorn running on http://%s (Press CTRL+C to quit)", where)


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here (also for one worker) so that a port in use is one
    ``StartupError`` rather than a traceback from inside uvicorn."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {port} is already in use ({where}); choose another with --port or "
                "INPUTTOKENS_PORT"
            ) from None
        reason = exc.strerror or str(exc)
        raise StartupError(
            f"cannot listen on {where}: {reason}; choose another address with --host/--port or "
            "INPUTTOKENS_HOST/INPUTTOKENS_PORT"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Prefork:
    """A parent that keeps `count` forked uvicorn workers serving `sock`."""

    def __init__(
        self, app: Starlette, sock: socket.socket, count: int, settings: Settings | None = None
    ) -> None:
        self.app, self.sock, self.count = app, sock, count
        self.settings = settings or Settings()
        self.workers: set[int] = set()
        self.stopping: int | None = None  # the signal that asked us to stop

    def run(self) -> None:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
        log.info(
            "Started parent process [%d], %d workers on %s",
            os.getpid(),
            self.count,
            self._address(),
        )
        for sig in _STOP_SIGNALS:
            signal.signal(sig, self._on_stop)
        while len(self.workers) < self.count:
            self._fork()
        while self.stopping is None:
            # Polled: a signal handler that only sets a flag does not interrupt os.wait().
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid, status = 0, 0
            if not pid:
                time.sleep(_POLL_S)
                continue
            self.workers.discard(pid)
            if self.stopping is None:
                log.warning("Worker [%d] exited (%s); starting another", pid, _exit_reason(status))
                time.sleep(_RESTART_PAUSE_S)
                if self.stopping is None:
                    self._fork()
        self._stop_workers()

    def _fork(self) -> None:
        pid = os.fork()
        if pid:
            self.workers.add(pid)
            return
        # The worker: default signal handling until uvicorn installs its own.
        code = 0
        try:
            for sig in _STOP_SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
            config = uvicorn_config(self.app, self.settings)
            uvicorn.Server(config).run(sockets=[self.sock])
        except BaseException:  # noqa: BLE001 - a worker must never return into the parent's loop
            log.exception("Worker [%d] failed", os.getpid())
            code = 1
        finally:
            os._exit(code)

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
                self.workers.discard(pid)
            else:
                time.sleep(0.05)
        for pid in self.workers:  # past the grace period
            _signal(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        log.info("Stopped parent process [%d]", os.getpid())

    def _address(self) -> str:
        host, port = self.sock.getsockname()[:2]
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

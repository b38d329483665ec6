#!/usr/bin/env python
"""Benchmark: the inputtokens HTTP server against a bare uvicorn app, under the same load.

Run from the repository root with the project's interpreter::

    python bench/bench_http.py                 # full run (under 2 minutes)
    python bench/bench_http.py --quick         # short run (about 45 s)
    python bench/bench_http.py --workers 2 --connections 64 --duration 10

In one run the script starts three servers as subprocesses on free loopback ports, with the
same number of workers and uvicorn's defaults (loop/http "auto", i.e. uvloop and httptools when
installed, access log off):

- **bare**: a raw ASGI app (no framework) whose one endpoint reads the whole body and answers a
  small JSON object. It is the floor: what uvicorn alone costs per request on this machine.
- **cold**: ``python -m inputtokens serve`` with the content cache off: every request tokenized.
- **cached**: ``python -m inputtokens serve`` as shipped (a repeated body is answered from the
  answer cache, repeated texts from the content cache).
- **uncached**: the cached server again, but every request a different body and every text in
  it different (the request's number is written into each text), so neither the answer cache
  nor the content cache can answer: the per-request cost of a server that sees no repeats.

All are driven by the same load generator: ``wrk`` if it is on PATH (a Lua script sends the
POST body), otherwise the client bundled below (asyncio protocols, keep-alive connections, a
fixed duration, the same code for every server so that the ratios are fair). Then:

- throughput and latency for three bodies (tiny, small, ~1 MiB); the 1 MiB body uses one
  connection, so its p50 is the end-to-end time of one request (not run uncached);
- a paced run at 80% of each inputtokens mode's peak for tiny and small: with wrk, a Lua
  schedule (a request due every 1/rate s, sent by the next free one of 64 connections; latency
  from each send, and apart from it how often and how late a request waited for a free
  connection); without wrk, the Python client in open loop (latency from when each was due,
  but at 5-8k req/s its own lag dominates);
- an agent loop: a growing conversation whose whole body is counted before every turn;
- in process, ``count_input_tokens(body)`` against raw tiktoken ``encode_ordinary`` on the same
  strings (timed with bench_count.py's helpers);
- start-up: import plus o200k in a fresh interpreter, time to the first answer, memory.

The load generator shares the machine with the server: on 2 cores, one client process and one
worker use both. The Python client costs CPU per request too, so on the tiny body it may be the
bottleneck for the bare server, which makes the ratio look *better* than it is; wrk is lighter.
The script reports targets; it never gates: the exit code is 0 unless the script itself fails.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Reuse the request bodies, machine info and timing helpers of the in-process benchmark.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_count  # noqa: E402

from inputtokens import count_input_tokens  # noqa: E402
from inputtokens.core.tokenizer import get_encoding  # noqa: E402

COUNT_PATH = "/v1/responses/input_tokens"

# Targets (reported, not enforced).
TARGET_TINY_RPS_RATIO = 0.70  # inputtokens req/s >= 70% of bare on the tiny body
TARGET_SMALL_RPS_RATIO = 0.25  # ... >= 25% on the small body
TARGET_LARGE_E2E_RATIO = 1.10  # 1 MiB end-to-end p50 <= 1.10x raw encode_ordinary of the text
TARGET_P99_MS = 5.0  # p99 at 80% of peak load, tiny and small
# Uncached (issue 16): every body and every text new, so no cache answers.
TARGET_UNCACHED_TINY_RATIO = 0.60  # uncached req/s >= 60% of bare on the tiny body
TARGET_UNCACHED_SMALL_RATIO = 0.40  # ... >= 40% on the small body
TARGET_INPROC_TINY_RATIO = 1.5  # in process, tiny count <= 1.5x raw encode_ordinary
TARGET_STARTUP_S = 0.5  # import inputtokens + build o200k, in a fresh interpreter
TARGET_STARTUP_MIB = 150.0  # ... peak resident memory of that interpreter
TARGET_READY_S = 1.0  # spawn to first answer, per worker

# --------------------------------------------------------------------------------------------
# Request bodies
# --------------------------------------------------------------------------------------------


def bodies() -> dict[str, tuple[dict[str, Any], list[str]]]:
    """case -> (request body, the strings a raw tokenizer would encode)."""
    tiny = bench_count.tiny_request("gpt-5")
    # bench_count's small request, with its instructions as a system message instead, so the
    # items are system/user/assistant messages, a function_call + output, and one function tool.
    small, small_texts = bench_count.small_request("gpt-5")
    small = dict(small)
    system = {"type": "message", "role": "system", "content": small.pop("instructions")}
    small["input"] = [system, *small["input"]]
    # ~1 MiB of mixed text (prose, code, JSON, tables) as the plain string `input`.
    text = bench_count.mixed_text(bench_count.LARGE_BYTES)
    large = ({"model": "gpt-5", "input": text}, [text])
    return {"tiny": tiny, "small": (small, small_texts), "large": large}


# In a numbered body's template, where the request's number goes (no JSON escape, no Lua
# pattern character).
MARK = b"@@N@@"
# The keys whose string values are texts a count tokenizes (and a cache could key on).
_TEXT_KEYS = frozenset({"input", "instructions", "content", "text", "description", "arguments",
                        "output"})  # fmt: skip


def _numbered(value: Any) -> Any:
    """`value` with MARK in every text: JSON objects kept valid (a function call's arguments,
    its output) get a ``"request"`` member, other strings a prefix."""
    if isinstance(value, dict):
        return {
            k: _numbered_text(v) if k in _TEXT_KEYS and isinstance(v, str) else _numbered(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_numbered(v) for v in value]
    return value


def _numbered_text(text: str) -> str:
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return json.dumps({"request": MARK.decode(), **parsed})
    return f"({MARK.decode()}) {text}"


def numbered_template(body: dict[str, Any]) -> bytes:
    """The JSON of `body` with MARK in each of its texts (instructions, message texts, call
    arguments and outputs, tool descriptions): with a new number in place of each MARK, a body
    that neither the answer cache nor the content cache has seen."""
    template = json.dumps(_numbered(body)).encode()
    assert MARK in template
    return template


class NumberedRequests:
    """The Python client's requests for the uncached mode: each the template with the next
    number (from `start`) in place of MARK."""

    def __init__(self, port: int, path: str, template: bytes, start: int) -> None:
        self.port, self.path, self.template, self.n = port, path, template, start

    def __call__(self) -> bytes:
        self.n += 1
        return http_request(self.port, self.path, self.template.replace(MARK, b"%d" % self.n))


def http_request(port: int, path: str, payload: bytes) -> bytes:
    """The raw HTTP/1.1 keep-alive POST the Python client sends."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


# --------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------

# The start of a bare ASGI app's `app(scope, receive, send)`: the lifespan protocol answered
# (bench_startup.py's bare pre-forked server begins the same way).
BARE_APP_LIFESPAN = r"""
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
"""

# The bare app: raw ASGI, reads the body, answers a JSON object about as big as the real one.
BARE_APP = (
    "import json\n"
    + BARE_APP_LIFESPAN
    + r"""    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = json.dumps({"object": "response.input_tokens", "input_tokens": size}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
"""
)

# Started like server.py starts the real one (same uvicorn.run arguments but the app).
BARE_RUN = (
    "import sys, uvicorn; uvicorn.run('bench_http_bare:app', host='127.0.0.1', "
    "port=int(sys.argv[1]), workers=int(sys.argv[2]), log_level='info', "
    "access_log=False)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    path: str
    proc: subprocess.Popen[bytes]
    log: Path
    ready_s: float = 0.0  # from spawn to the first 200 answer

    def rss_mib(self) -> list[float]:
        """Resident memory of each serving process (the workers, or the one process)."""
        pids = [self.proc.pid]
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
            pids = [int(p) for p in children.split()] or pids
        except OSError:
            pass
        sizes = []
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
        return sizes


SERVER_NAMES = ("bare", "cold", "cached")  # cold: INPUTTOKENS_CACHE_ENTRIES=0


def clean_env(tmp: Path) -> dict[str, str]:
    """The servers' environment: no INPUTTOKENS_* from the caller (API keys would make us
    401), the store in a temp dir, remote fetching off, and only the encoding gpt-5 uses warmed
    (the default also warms cl100k, which only slows start-up; warming happens before the port
    accepts requests)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INPUTTOKENS_")}
    env.update(
        INPUTTOKENS_DATA_DIR=str(tmp / "data"),
        INPUTTOKENS_WARM_ENCODINGS="o200k_base",
        INPUTTOKENS_REMOTE_FETCH="0",
    )
    return env


def serve_command() -> list[str]:
    return [sys.executable, "-m", "inputtokens", "serve", "--host", "127.0.0.1"]


def start_server(
    name: str, cmd: list[str], env: dict[str, str], tmp: Path, workers: int, path: str = COUNT_PATH
) -> Server:
    """Start one server on a free port and wait for its first 200 (timed from spawn)."""
    port = free_port()
    if name == "bare":
        args = [str(port), str(workers)]
    else:
        args = ["--port", str(port), "--workers", str(workers)]
    log = tmp / f"{name}.log"
    started = time.perf_counter()
    # Own session: stop() signals this process group only (uvicorn's workers too). The child
    # keeps its copy of the log's descriptor; ours is closed at once.
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd + args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, port, path, proc, log)
    try:
        wait_ready(server)
    except BaseException:
        stop_servers({name: server})
        raise
    server.ready_s = time.perf_counter() - started
    return server


def start_servers(workers: int, tmp: Path) -> dict[str, Server]:
    """Start the three servers one after another, timing each from spawn to its first 200."""
    (tmp / "bench_http_bare.py").write_text(BARE_APP)
    env = clean_env(tmp)
    bare_env = dict(env, PYTHONPATH=str(tmp))  # worker processes import the bare module too
    serve = serve_command()
    specs = {
        "bare": ([sys.executable, "-c", BARE_RUN], bare_env, "/"),
        # Every request tokenized: what a server sees when no text repeats.
        "cold": (serve, dict(env, INPUTTOKENS_CACHE_ENTRIES="0"), COUNT_PATH),
        # As shipped: repeated texts are counted from the content cache.
        "cached": (serve, env, COUNT_PATH),
    }
    servers: dict[str, Server] = {}
    try:
        for name, (cmd, cmd_env, path) in specs.items():
            servers[name] = start_server(name, cmd, cmd_env, tmp, workers, path)
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    """Poll with a tiny POST until the server answers 200 (after its lifespan start-up)."""
    deadline = time.monotonic() + timeout
    payload = json.dumps({"model": "gpt-5", "input": "hi"}).encode()
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log.read_text()[-2000:]}")
        try:
            req = urllib.request.Request(
                f"http://127.0.0.1:{server.port}{server.path}",
                data=payload,
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{server.name} not ready after {timeout} s:\n{server.log.read_text()}")


def stop_servers(servers: dict[str, Server]) -> None:
    for s in servers.values():
        if s.proc.poll() is None:
            os.killpg(s.proc.pid, signal.SIGTERM)
    for s in servers.values():
        try:
            s.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(s.proc.pid, signal.SIGKILL)
            s.proc.wait()


# --------------------------------------------------------------------------------------------
# Load generator 1: the bundled Python client (asyncio protocols, keep-alive)
# --------------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    requests: int  # responses received inside the measurement window
    seconds: float  # length of that window
    latencies_ms: list[float] = field(default_factory=list)  # sorted
    errors: int = 0  # non-200 answers or lost connections
    p50_ms: float | None = None  # set directly by wrk (no latency list)
    p99_ms: float | None = None
    p999_ms: float | None = None
    # wrk paced only: the share of requests sent more than 1 ms after their slot (every
    # connection busy), and that client-side lag's p99 and max (not in the latencies).
    late: float | None = None
    lag_p99_ms: float | None = None
    lag_max_ms: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        return self.latencies_ms[min(len(self.latencies_ms) - 1, int(q * len(self.latencies_ms)))]

    @property
    def p50(self) -> float:
        return self.p50_ms if self.p50_ms is not None else self.pct(0.50)

    @property
    def p99(self) -> float:
        return self.p99_ms if self.p99_ms is not None else self.pct(0.99)

    @property
    def p999(self) -> float:
        return self.p999_ms if self.p999_ms is not None else self.pct(0.999)


class _Run:
    """Shared state of one load run: its clock window and what was measured."""

    def __init__(self, warmup: float, duration: float, n_conns: int) -> None:
        now = time.perf_counter()
        self.start = now + warmup  # measurement window: [start, end)
        self.end = self.start + duration
        self.latencies: list[float] = []
        self.count = 0
        self.errors = 0
        self.open = n_conns
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def finished_one(self) -> None:
        self.open -= 1
        if self.open == 0 and not self.done.done():
            self.done.set_result(None)


# One request sent again and again, or a factory of a new one each time (NumberedRequests).
Requests = bytes | Callable[[], bytes]


class _Conn(asyncio.Protocol):
    """One keep-alive connection sending `request` again as soon as (or, when paced, as soon
    after its due time as) the previous answer is complete."""

    def __init__(self, run: _Run, request: Requests, interval: float | None, offset: float) -> None:
        self.run, self.request, self.interval = run, request, interval
        self.buf = bytearray()
        self.need = -1  # total bytes of the response being read, once its head is in
        self.due = 0.0  # when the request in flight was due (paced) or sent (closed loop)
        self.next_due = time.perf_counter() + offset
        self.loop = asyncio.get_running_loop()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.schedule()

    def schedule(self) -> None:
        now = time.perf_counter()
        if now >= self.run.end:
            self.finish()
        elif self.interval is None:  # closed loop: next request at once
            self.send(now)
        else:  # paced: due at fixed intervals; if late, send now but count from the due time
            due, self.next_due = self.next_due, self.next_due + self.interval
            if due > now:
                self.loop.call_later(due - now, self.send, due)
            else:
                self.send(due)

    def send(self, due: float) -> None:
        if self.closed:
            return
        self.due = due
        request = self.request if isinstance(self.request, bytes) else self.request()
        self.transport.write(request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if self.need < 0:
            head_end = buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(buf[:head_end]).lower()
            i = head.find(b"content-length:")
            length = int(head[i + 15 : head.find(b"\r\n", i) if b"\r\n" in head[i:] else None])
            self.need = head_end + 4 + length
            self.ok = head[9:12] == b"200"
        if len(buf) < self.need:
            return
        del buf[: self.need]
        self.need = -1
        now = time.perf_counter()
        run = self.run
        if not self.ok:
            run.errors += 1
        elif run.start <= now < run.end:
            run.count += 1
            if self.due >= run.start:
                run.latencies.append((now - self.due) * 1e3)
        self.schedule()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.run.errors += 1
            self.finish()

    def finish(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()  # type: ignore[attr-defined]
            self.run.finished_one()


async def _python_load(
    port: int, request: Requests, conns: int, warmup: float, duration: float, rate: float | None
) -> LoadResult:
    run = _Run(warmup, duration, conns)
    loop = asyncio.get_running_loop()
    interval = conns / rate if rate else None  # each connection carries rate/conns req/s
    for k in range(conns):
        offset = interval * k / conns if interval else 0.0  # spread the paced connections
        await loop.create_connection(
            lambda o=offset: _Conn(run, request, interval, o), "127.0.0.1", port
        )
    await asyncio.wait_for(run.done, timeout=warmup + duration + 120)
    return LoadResult(run.count, duration, sorted(run.latencies), run.errors)


def python_load(
    port: int,
    request: Requests,
    conns: int,
    warmup: float,
    duration: float,
    rate: float | None = None,
) -> LoadResult:
    coro = _python_load(port, request, conns, warmup, duration, rate)
    try:
        import uvloop  # same event loop as the servers: a lighter client

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


# --------------------------------------------------------------------------------------------
# Load generator 2: wrk, when installed
# --------------------------------------------------------------------------------------------

WRK_BODY_LUA = r"""
local f = assert(io.open("%(body)s", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
"""

WRK_DONE_LUA = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %%d %%d %%d %%d %%d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""

WRK_LUA = WRK_BODY_LUA + WRK_DONE_LUA

# The uncached mode: the body file is a template; each request writes the next number (from
# `start`) in place of its MARKs. wrk's -t1 runs one Lua state, so every number is new.
WRK_NUMBER_LUA = r"""
local template, n = wrk.body, %(start)d
wrk.body = nil
function request()
  n = n + 1
  return wrk.format(nil, nil, nil, (template:gsub("%(mark)s", tostring(n))))
end
"""

WRK_NUMBERED_LUA = WRK_LUA + WRK_NUMBER_LUA

# Paced: one schedule per wrk thread (-t1: one), a slot every `interval` ms from the first
# call. wrk calls delay() when a connection is free for its next request (after its previous
# answer, and before its first); the connection takes the next slot and waits until it is due
# (wrk's timers count whole ms, so a send is within ~1 ms of its slot; the schedule, not the
# rounding, sets the rate). A slot already past when a connection takes it was due while every
# connection was busy: that wait (lag) happens in the client, before wrk's latency clock starts
# at the send, so it is counted apart (late = more than 1 ms behind, its p99 and max).
WRK_PACED_LUA = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local interval, due = %(interval_ms).6f, nil
slots, late, lag_max, lags = 0, 0, 0, {}
function delay()
  local now = now_ms()
  if due == nil then due = now end
  local wait = due - now
  due = due + interval
  slots = slots + 1
  if wait >= 0 then return math.ceil(wait) end
  local lag = -wait
  if lag > 1 then late = late + 1 end
  if lag > lag_max then lag_max = lag end
  local b = math.floor(lag * 10)
  lags[b] = (lags[b] or 0) + 1
  return 0
end

local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local n, nlate, lmax, hist = 0, 0, 0, {}
  for _, t in ipairs(threads) do
    n, nlate = n + t:get("slots"), nlate + t:get("late")
    lmax = math.max(lmax, t:get("lag_max"))
    for b, c in pairs(t:get("lags")) do hist[b] = (hist[b] or 0) + c end
  end
  local keys = {}
  for b in pairs(hist) do table.insert(keys, b) end
  table.sort(keys, function(a, b) return a > b end)
  local above, lag99 = 0, 0
  for _, b in ipairs(keys) do
    above = above + hist[b]
    if above > 0.01 * n then lag99 = (b + 1) / 10; break end
  end
  local e = summary.errors
  io.write(string.format("PACED %%d %%d %%d %%d %%d %%d %%d %%d %%.3f %%.3f\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), e.connect + e.read + e.write + e.status + e.timeout,
    n, nlate, lag99, lmax))
end
"""


def wrk_load(
    wrk: str,
    port: int,
    path: str,
    payload: bytes,
    conns: int,
    duration: float,
    tmp: Path,
    numbered_from: int | None = None,
    rate: float | None = None,
) -> LoadResult:
    """wrk's figures for `payload` sent on `conns` connections for `duration` seconds; with
    `numbered_from`, `payload` is a template (numbered_template) and every request is new;
    with `rate`, requests are paced to `rate` req/s in all (WRK_PACED_LUA)."""
    body_file, lua = tmp / "wrk_body.json", tmp / "wrk_post.lua"
    body_file.write_bytes(payload)
    args = {"body": body_file, "start": numbered_from, "mark": MARK.decode()}
    script = WRK_BODY_LUA
    if numbered_from is not None:
        script += WRK_NUMBER_LUA
    if rate is None:
        script += WRK_DONE_LUA
    else:
        script += WRK_PACED_LUA
        args["interval_ms"] = 1e3 / rate
    lua.write_text(script % args)
    out = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{conns}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "30s",
            "-s",
            str(lua),
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if rate is not None:
        line = next(x for x in out.splitlines() if x.startswith("PACED "))
        fields = line.split()[1:]
        n, dur_us, p50_us, p99_us, p999_us, errors, slots, late = (int(v) for v in fields[:8])
        return LoadResult(
            n,
            dur_us / 1e6,
            errors=errors,
            p50_ms=p50_us / 1e3,
            p99_ms=p99_us / 1e3,
            p999_ms=p999_us / 1e3,
            late=late / slots if slots else 0.0,
            lag_p99_ms=float(fields[8]),
            lag_max_ms=float(fields[9]),
        )
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    n, dur_us, p50_us, p99_us, errors = (int(v) for v in line.split()[1:])
    return LoadResult(n, dur_us / 1e6, errors=errors, p50_ms=p50_us / 1e3, p99_ms=p99_us / 1e3)


# --------------------------------------------------------------------------------------------
# The agent loop: one conversation, re-sent after every turn
# --------------------------------------------------------------------------------------------

_AGENT_RULES = [
    "Read the files you change before you change them, and keep each change small.",
    "Run the tests after every change; if one fails, read its output before you retry.",
    "Never print secrets; environment variables that look like keys stay unread.",
    "Prefer the project's own helpers over new code, and say why when you add a dependency.",
    "When a command takes longer than a minute, say what it is waiting for.",
]


def agent_tools() -> list[dict[str, Any]]:
    """Ten function tools, the size of a coding agent's tool list."""
    names = [
        "read_file",
        "write_file",
        "list_dir",
        "search_code",
        "run_command",
        "run_tests",
        "git_diff",
        "git_commit",
        "fetch_url",
        "ask_user",
    ]
    return [
        {
            "type": "function",
            "name": name,
            "description": f"{name.replace('_', ' ').capitalize()}: " + " ".join(_AGENT_RULES[:3]),
            "parameters": {
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "A path inside the workspace."},
                    "query": {"type": "string", "description": "What to look for, as a regex."},
                    "limit": {"type": "integer", "description": "At most this many results."},
                },
                "required": ["path"],
            },
        }
        for name in names
    ]


def agent_turn_items(turn: int) -> list[dict[str, Any]]:
    """What one turn adds: a user message, a tool call and its ~1.5 KB output, an answer."""
    output = bench_count.mixed_text(1500, seed=turn)
    return [
        {
            "role": "user",
            "content": f"Step {turn}: look at module_{turn}.py and fix the failing "
            "test; explain what was wrong in two sentences.",
        },
        {
            "type": "function_call",
            "call_id": f"call_{turn}",
            "name": "read_file",
            "arguments": json.dumps({"path": f"src/module_{turn}.py"}),
        },
        {"type": "function_call_output", "call_id": f"call_{turn}", "output": output},
        {
            "role": "assistant",
            "content": f"In module_{turn}.py the loop stopped one element "
            "early, so the last record was never written. I "
            "changed the bound and the test passes now.",
        },
    ]


def agent_bodies(turns: int) -> list[bytes]:
    """The request body before each turn's model call: everything so far, every time."""
    instructions = "\n".join(_AGENT_RULES * 12)  # ~4 KB of agent instructions
    tools = agent_tools()
    items: list[dict[str, Any]] = []
    out = []
    for turn in range(turns):
        items = items + agent_turn_items(turn)
        out.append(
            json.dumps(
                {"model": "gpt-5", "instructions": instructions, "tools": tools, "input": items}
            ).encode()
        )
    return out


def agent_loop(port: int, payloads: list[bytes]) -> dict[str, Any]:
    """Send each turn's body once, in order, on one keep-alive connection."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times, tokens = [], []
    try:
        for payload in payloads:
            t0 = time.perf_counter()
            conn.request(
                "POST", COUNT_PATH, body=payload, headers={"Content-Type": "application/json"}
            )
            answer = conn.getresponse().read()
            times.append(time.perf_counter() - t0)
            tokens.append(json.loads(answer)["input_tokens"])
    finally:
        conn.close()
    return {"total_s": sum(times), "last_ms": times[-1] * 1e3, "tokens": tokens}


# --------------------------------------------------------------------------------------------
# Start-up: import plus the o200k vocabulary, in a fresh interpreter
# --------------------------------------------------------------------------------------------


def startup_probe(runs: int) -> dict[str, float]:
    """bench_count's cold start of the library (median of `runs` fresh interpreters, peak RSS
    from VmHWM), in seconds and MiB.

    The package's bytecode is compiled first, as ``pip install`` does: a source checkout run
    with PYTHONDONTWRITEBYTECODE would otherwise compile every module on every start.
    """
    import compileall

    import inputtokens

    compileall.compile_dir(Path(inputtokens.__file__).parent, quiet=1)
    cold = bench_count.library_cold_start(runs)
    return {
        "import_s": cold["import_ms"] / 1e3,
        "load_s": cold["load_ms"] / 1e3,
        "total_s": cold["total_ms"] / 1e3,
        "max_rss_mib": cold["peak_rss_mb"],
    }


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

# The load modes: a server, and whether every request is a new body (MARK numbered).
MODES = ("bare", "cold", "cached", "uncached")
SERVER_OF = {"bare": "bare", "cold": "cold", "cached": "cached", "uncached": "cached"}
# The bare app is sent numbered bodies too: the client then does the same work for it as for
# the uncached mode (wrk's Lua per request), and bare answers any body alike.
NUMBERED = ("bare", "uncached")
COUNTERS = MODES[1:]
PYTHON_GENERATOR = "python (asyncio, bundled)"
# A paced run is flagged when it fell short of its rate, or when requests waited for a free
# connection (wrk's latency starts at the send, so that wait would be missing from its p99).
PACED_MIN_ACHIEVED = 0.95  # achieved req/s / target
PACED_MAX_LATE = 0.01  # share of requests sent more than 1 ms after they were due


def paced_warning(p: dict[str, Any]) -> str:
    """Why a paced row's percentiles cannot be taken at face value, or ''."""
    why = []
    if p["achieved_rps"] < PACED_MIN_ACHIEVED * p["target_rps"]:
        why.append(f"achieved {p['achieved_rps'] / p['target_rps']:.0%} of the target rate")
    if p.get("late") is not None and p["late"] > PACED_MAX_LATE:
        why.append(f"{p['late']:.0%} sent late, up to {p['lag_max_ms']:.0f} ms")
    return "; ".join(why)


def run(args: argparse.Namespace) -> dict[str, Any]:
    t_start = time.perf_counter()
    quick = args.quick
    duration = args.duration or (1.5 if quick else 3.0)  # measured seconds per load run
    warmup = 0.3 if quick else 0.5  # unmeasured seconds before each window
    wrk = shutil.which("wrk")
    cases = bodies()
    payloads = {name: json.dumps(body).encode() for name, (body, _) in cases.items()}
    # The uncached mode's bodies: each request numbered from a range no other run uses.
    templates = {name: numbered_template(cases[name][0]) for name in ("tiny", "small")}
    numbers = itertools.count(0, 10**8)
    turns = args.turns or (12 if quick else 40)
    agent = agent_bodies(turns)
    load_before = os.getloadavg()

    results: dict[str, Any] = {"throughput": {}, "paced": {}, "in_process": {}, "agent": {}}
    results["startup"] = startup_probe(3 if quick else 5)
    with tempfile.TemporaryDirectory(prefix="bench_http_") as tmp_name:
        tmp = Path(tmp_name)
        servers = start_servers(args.workers, tmp)
        results["ready_s"] = {name: s.ready_s for name, s in servers.items()}
        try:
            # Sanity: every server answers 200 to every body (numbered ones too), and both
            # counters agree.
            checks = {**payloads}
            for name, template in templates.items():
                checks[f"{name} numbered"] = template.replace(MARK, b"0")
            for name, payload in checks.items():
                for s in servers.values():
                    req = urllib.request.Request(
                        f"http://127.0.0.1:{s.port}{s.path}",
                        data=payload,
                        headers={"Content-Type": "application/json"},
                    )
                    with urllib.request.urlopen(req, timeout=60) as r:
                        answer = json.loads(r.read())
                    if s.name != "bare":
                        tokens = results.setdefault("tokens", {}).setdefault(
                            name, answer["input_tokens"]
                        )
                        if tokens != answer["input_tokens"]:
                            raise RuntimeError(f"{s.name} counted {name} differently")

            def load(
                mode: str, name: str, conns: int, seconds: float, rate: float | None = None
            ) -> LoadResult:
                """One load run of `mode` on body `name`: wrk when installed (paced by
                WRK_PACED_LUA when `rate` is given), else the Python client (open loop when
                paced); numbered modes send a new body every time."""
                s = servers[SERVER_OF[mode]]
                numbered = mode in NUMBERED and name in templates
                request: Requests = http_request(s.port, s.path, payloads[name])
                if numbered:
                    request = NumberedRequests(s.port, s.path, templates[name], next(numbers))
                if not wrk:
                    return python_load(s.port, request, conns, warmup, seconds, rate=rate)
                python_load(s.port, request, conns, warmup, 0.0)  # warm-up only
                if numbered:
                    first = next(numbers)
                    body = templates[name]
                    return wrk_load(wrk, s.port, s.path, body, conns, seconds, tmp, first, rate)
                return wrk_load(
                    wrk, s.port, s.path, payloads[name], conns, seconds, tmp, None, rate
                )

            # Throughput: the modes back to back, case by case (same conditions).
            for name, payload in payloads.items():
                large = name == "large"
                conns = 1 if large else args.connections  # large: one request at a time
                row = results["throughput"][name] = {"bytes": len(payload), "connections": conns}
                modes = [m for m in MODES if not (large and m == "uncached")]
                # Each mode twice, interleaved; the better run counts (a noisy neighbour
                # on a shared machine only ever makes a run slower). The 1 MiB body once: one
                # connection, a few requests a second, its p50 steadier than a peak.
                rounds: list[dict[str, float]] = []
                for _ in range(1 if large else args.rounds):
                    rounds.append({})
                    for mode in modes:
                        res = load(mode, name, conns, duration)
                        rounds[-1][mode] = res.rps
                        if mode not in row or res.rps > row[mode]["rps"]:
                            row[mode] = {
                                "rps": res.rps,
                                "p50_ms": res.p50,
                                "p99_ms": res.p99,
                                "requests": res.requests,
                                "errors": res.errors,
                            }
                for counter in modes[1:]:
                    row[counter]["ratio"] = row[counter]["rps"] / row["bare"]["rps"]
                    # Each round's run against the bare run of the same round, the median
                    # over rounds: steadier than the best of each when the machine's speed
                    # drifts between runs seconds apart.
                    row[counter]["paired_ratio"] = statistics.median(
                        r[counter] / r["bare"] for r in rounds if r["bare"]
                    )

            # Paced: 80% of each counter's own peak just measured (wrk paced by a Lua
            # schedule, latency from each send; or the Python client, open loop).
            for counter in COUNTERS:
                for name in ("tiny", "small"):
                    rate = 0.8 * results["throughput"][name][counter]["rps"]
                    res = load(counter, name, args.paced_connections, duration, rate=rate)
                    results["paced"].setdefault(counter, {})[name] = {
                        "target_rps": rate,
                        "achieved_rps": res.rps,
                        "p50_ms": res.p50,
                        "p99_ms": res.p99,
                        "p999_ms": res.p999,
                        "errors": res.errors,
                        "late": res.late,
                        "lag_p99_ms": res.lag_p99_ms,
                        "lag_max_ms": res.lag_max_ms,
                    }

            # The agent loop, cold then cached (the cached server starts it with an empty
            # cache for these texts: none of them was sent before).
            for counter in ("cold", "cached"):
                results["agent"][counter] = agent_loop(servers[counter].port, agent)
            if results["agent"]["cold"]["tokens"] != results["agent"]["cached"]["tokens"]:
                raise RuntimeError("the agent loop counted differently with the cache")
            results["rss_mib"] = {name: s.rss_mib() for name, s in servers.items()}
        finally:
            stop_servers(servers)

    # In process, servers stopped: count_input_tokens(body) vs raw encode_ordinary.
    from inputtokens.settings import Settings

    cold_settings = Settings(cache_entries=0)
    encode = get_encoding(bench_count.ENCODING).encode_ordinary
    for name, (body, texts) in cases.items():
        big = name == "large"
        pair = bench_count.measure_pair(
            lambda texts=texts: sum(len(encode(t)) for t in texts),
            lambda body=body: count_input_tokens(body, settings=cold_settings).input_tokens,
            seconds=(0.5 if big else 0.2) if quick else (2.0 if big else 0.8),
            repeats=3 if big else 5,
            warmup=0 if big else 20,
        )
        st = pair.stats()
        results["in_process"][name] = {
            "raw_encode_us": st["baseline_us"],
            "count_us": st["inputtokens_us"],
            "ratio": st["ratio"],
        }

    tp, paced, inproc = results["throughput"], results["paced"], results["in_process"]
    targets = []
    for counter in COUNTERS:
        uncached = counter == "uncached"
        tiny_target = TARGET_UNCACHED_TINY_RATIO if uncached else TARGET_TINY_RPS_RATIO
        small_target = TARGET_UNCACHED_SMALL_RATIO if uncached else TARGET_SMALL_RPS_RATIO
        targets += [
            (f"{counter}: tiny req/s / bare", tp["tiny"][counter]["ratio"], ">=", tiny_target),
            (f"{counter}: small req/s / bare", tp["small"][counter]["ratio"], ">=", small_target),
        ]
        if not uncached:
            e2e = tp["large"][counter]["p50_ms"] * 1e3 / inproc["large"]["raw_encode_us"]
            targets.append(
                (f"{counter}: 1 MiB end-to-end / raw encode", e2e, "<=", TARGET_LARGE_E2E_RATIO)
            )
        for name in ("tiny", "small"):
            p = paced[counter][name]
            label = f"{counter}: {name} p99 at 80% load (ms)"
            targets.append((label, p["p99_ms"], "<=", TARGET_P99_MS, paced_warning(p)))
    targets.append(
        (
            "in process: tiny count / raw encode",
            inproc["tiny"]["ratio"],
            "<=",
            TARGET_INPROC_TINY_RATIO,
        )
    )
    startup = results["startup"]
    targets += [
        ("import + o200k load (s)", startup["total_s"], "<=", TARGET_STARTUP_S),
        ("import + o200k load peak RSS (MiB)", startup["max_rss_mib"], "<=", TARGET_STARTUP_MIB),
        (
            "ready after spawn, cached server (s)",
            results["ready_s"]["cached"],
            "<=",
            TARGET_READY_S * args.workers,
        ),
    ]
    results["targets"] = targets
    results.update(
        machine=bench_count.machine_info(),
        generator=wrk or PYTHON_GENERATOR,
        paced_connections=args.paced_connections,
        workers=args.workers,
        duration_s=duration,
        warmup_s=warmup,
        turns=turns,
        rounds=args.rounds,
        load_average={"before": load_before, "after": os.getloadavg()},
        wall_s=time.perf_counter() - t_start,
    )
    return results


def print_report(res: dict[str, Any]) -> None:
    m = res["machine"]
    print(
        f"inputtokens {m['inputtokens']} HTTP vs bare uvicorn ASGI app "
        f"(workers {res['workers']}, load generator: {res['generator']}, "
        f"{res['duration_s']:g} s per run after {res['warmup_s']:g} s warm-up, best of "
        f"{res['rounds']} runs)"
    )
    print(
        f"machine: {m['platform']}; {m['cpu']}; {m['cpu_count']} CPUs ({m['affinity']} usable);"
        f" {m['implementation']} {m['python']}"
    )
    before, after = res["load_average"]["before"], res["load_average"]["after"]
    busy = max(before[0], after[0]) > 0.5 * (m["affinity"] or m["cpu_count"] or 1)
    print(
        f"load average (1/5/15 min) before: {before[0]:.2f}/{before[1]:.2f}/{before[2]:.2f}, "
        f"after: {after[0]:.2f}/{after[1]:.2f}/{after[2]:.2f}"
        + ("  <- machine busy: expect noise" if busy else "")
    )

    print(
        f"\n{'case':<6} {'JSON':>9} {'conns':>5} {'bare req/s':>10} {'cold req/s':>17} "
        f"{'cached req/s':>17} {'uncached req/s':>17}   p50/p99 ms: {'bare':>11} {'cold':>13} "
        f"{'cached':>13} {'uncached':>13}"
    )
    print("-" * 152)
    for name, r in res["throughput"].items():
        b = r["bare"]
        size = r["bytes"]
        size_s = f"{size / (1 << 20):.2f} MiB" if size >= 1 << 20 else f"{size:,} B"
        rates = "".join(
            f" {r[k]['rps']:>9,.1f} ({r[k]['ratio']:.2f}x)" if k in r else f" {'-':>17}"
            for k in COUNTERS
        )
        times = "".join(
            f" {r[k]['p50_ms']:>6.2f}/{r[k]['p99_ms']:<6.2f}" if k in r else f" {'-':>13}"
            for k in COUNTERS
        )
        print(
            f"{name:<6} {size_s:>9} {r['connections']:>5} {b['rps']:>10,.0f}{rates}"
            f"{'':>15}{b['p50_ms']:>5.2f}/{b['p99_ms']:<5.2f}{times}"
        )
    paired = "; ".join(
        f"{name} " + ", ".join(f"{k} {r[k]['paired_ratio']:.2f}x" for k in COUNTERS if k in r)
        for name, r in res["throughput"].items()
        if name != "large"
    )
    print(f"paired (median over rounds of each run / the bare run of its round): {paired}")
    errors = sum(r[k]["errors"] for r in res["throughput"].values() for k in MODES if k in r)
    print(
        "cold: INPUTTOKENS_CACHE_ENTRIES=0, every request parsed and tokenized; cached: as "
        "shipped, the same body repeated is answered from the answer cache; uncached: as "
        "shipped, every body and every text in it new (numbered; bare gets numbered bodies "
        "too); (ratio) = req/s / bare req/s; "
        f"errors: {errors}; tokens counted: "
        + ", ".join(f"{k} {v:,}" for k, v in res.get("tokens", {}).items())
    )

    wrk_paced = res["generator"] != PYTHON_GENERATOR
    if wrk_paced:
        print(
            f"\npaced at 80% of each mode's peak (wrk, {res['paced_connections']} connections, "
            "one Lua schedule: a request due every 1/rate s, sent by the next free connection; "
            "latency from each request's send, so a wait for a free connection is not in it: "
            "that is 'late' (sent > 1 ms after due) and 'lag' (how late), client side):"
        )
    else:
        print(
            f"\npaced at 80% of each mode's peak (Python client, open loop, "
            f"{res['paced_connections']} connections; latency from the due time):"
        )
    print(
        f"  {'mode':<8} {'case':<6} {'target req/s':>12} {'achieved':>9} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'p99.9 ms':>8}"
        + (f" {'late':>6} {'lag p99/max ms':>15}" if wrk_paced else "")
    )
    for counter, cases in res["paced"].items():
        for name, p in cases.items():
            lag = ""
            if p.get("late") is not None:
                lag = f" {p['late']:>6.1%} {p['lag_p99_ms']:>7.1f}/{p['lag_max_ms']:<7.1f}"
            warning = paced_warning(p)
            print(
                f"  {counter:<8} {name:<6} {p['target_rps']:>12,.0f} {p['achieved_rps']:>9,.0f} "
                f"{p['p50_ms']:>7.2f} {p['p99_ms']:>7.2f} {p['p999_ms']:>8.2f}{lag}"
                + (f"  <- {warning}" if warning else "")
            )

    a = res["agent"]
    last = a["cold"]["tokens"][-1]
    print(
        f"\nagent loop: {res['turns']} turns of one conversation (4 items per turn, ~4 KB "
        f"instructions, 10 tools), each turn's whole body counted once, in order "
        f"(last body {last:,} tokens):"
    )
    for counter in ("cold", "cached"):
        print(
            f"  {counter:<7} total {a[counter]['total_s'] * 1e3:>8.1f} ms   last turn "
            f"{a[counter]['last_ms']:>7.2f} ms"
        )
    print(f"  cached/cold total time: {a['cached']['total_s'] / a['cold']['total_s']:.2f}x")

    print(
        "\nin process (cache off): count_input_tokens(body) vs raw encode_ordinary of the "
        "same strings:"
    )
    print(f"  {'case':<6} {'raw encode':>12} {'count':>12} {'ratio':>6}")
    for name, p in res["in_process"].items():
        print(
            f"  {name:<6} {bench_count._fmt_us(p['raw_encode_us']):>12} "
            f"{bench_count._fmt_us(p['count_us']):>12} {p['ratio']:>5.2f}x"
        )

    st = res["startup"]
    print(
        f"\nstart-up: import {st['import_s'] * 1e3:.0f} ms + o200k load "
        f"{st['load_s'] * 1e3:.0f} ms, peak RSS {st['max_rss_mib']:.0f} MiB (fresh interpreter,"
        " median of several); ready after spawn: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in res["ready_s"].items())
    )
    print(
        "resident memory after the runs (MiB, per serving process): "
        + "; ".join(
            f"{k} " + "/".join(f"{x:.0f}" for x in v) for k, v in res.get("rss_mib", {}).items()
        )
    )

    print("\ntargets (reported, not enforced):")
    for label, value, op, target, *note in res["targets"]:
        ok = value >= target if op == ">=" else value <= target
        verdict = "PASS" if ok else "FAIL"
        if note and note[0]:
            verdict += f" (flagged: {note[0]})"
        print(f"  {label:<40} {value:>7.2f}  target {op} {target:<5} {verdict}")
    print(f"\n(wall time {res['wall_s']:.1f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (about 20-30 s total)")
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="measured seconds per load run (default 5, --quick 1.5)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=32,
        help="concurrent keep-alive connections (default 32; large uses 1)",
    )
    parser.add_argument(
        "--paced-connections",
        type=int,
        default=64,
        help="connections of the paced runs (default 64: enough that a request rarely waits "
        "for a free one; see 'late' in the output)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn workers of each server (default 1)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="throughput runs per server and body; the best counts (default 2)",
    )
    parser.add_argument(
        "--turns", type=int, default=None, help="turns of the agent loop (default 40, --quick 12)"
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)
    res = run(args)
    if args.json:
        print(json.dumps(res, indent=2, ensure_ascii=False))
    else:
        print_report(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())

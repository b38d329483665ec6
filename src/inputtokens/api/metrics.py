"""``GET /metrics``: the server's figures in Prometheus' text format, through prometheus_client.

One process (``serve --workers 1``, a test's in-thread server, the app under another ASGI
server) keeps them in a registry of the app's own. ``serve --workers N`` runs prometheus_client
in multi-process mode: before forking it points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
directory (``use_multiprocess``), every worker writes its values to files there, and a scrape,
whichever worker takes it, reads all the files: the whole server's totals.

The request path never touches prometheus_client: a value update costs ~1 µs in one process
and ~2-3.5 µs in multi-process mode (a lock and a write to a memory-mapped file), several per
request, more than the rest of a cached count. ``Metrics.count_done`` adds to plain ints
instead, and ``flush`` hands them over: before each scrape, and every ``FLUSH_S`` in
multi-process mode (so another worker's figures are at most that old) and at a worker's
shutdown. The caches' figures are read at the same moments.
"""

from __future__ import annotations

import asyncio
import os
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

from ..core.token_cache import TokenCountCache

ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FLUSH_S = 1.0
UNMATCHED = "unmatched"  # the route label of a request no route matched (a 404)
# Latency of the count route: ~10 µs (an answer-cache hit) to a second (a huge body, a fetch).
COUNT_BUCKETS = (
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
)  # fmt: skip

_CACHE_METRICS = (
    ("hits", "counter", "Texts whose token count came from the content cache."),
    ("misses", "counter", "Texts tokenized because the content cache did not have them."),
    ("evictions", "counter", "Entries dropped from the content cache to stay in bounds."),
    ("entries", "gauge", "Texts the content caches hold."),
    ("max_entries", "gauge", "The content caches' bound (INPUTTOKENS_CACHE_ENTRIES each)."),
    ("bytes", "gauge", "Estimated bytes the content caches hold (keys, counts, overhead)."),
    (
        "max_bytes",
        "gauge",
        "The content caches' byte budget (half of INPUTTOKENS_CACHE_BYTES each).",
    ),
)
_ANSWER_METRICS = (
    ("hits", "counter", "Requests answered from the answer cache (the same body again)."),
    ("misses", "counter", "Plain requests whose body was not in the answer cache."),
    ("evictions", "counter", "Answers dropped from the answer cache to stay in bounds."),
    ("entries", "gauge", "Answers the answer caches hold."),
    ("max_entries", "gauge", "The answer caches' bound (INPUTTOKENS_CACHE_ENTRIES each)."),
    ("bytes", "gauge", "Estimated bytes the answer caches hold (keys, counts, overhead)."),
    (
        "max_bytes",
        "gauge",
        "The answer caches' byte budget (half of INPUTTOKENS_CACHE_BYTES each).",
    ),
)


def use_multiprocess(directory: str | None) -> None:
    """Before the app is built: prometheus_client's values in files under `directory`, shared by
    the workers forked afterwards, or (None) in this process' memory. prometheus_client reads
    ``PROMETHEUS_MULTIPROC_DIR`` when it is imported; this sets both the variable and the kind
    of value it chose then."""
    if directory:
        os.environ[ENV] = directory
    else:
        os.environ.pop(ENV, None)
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def mark_process_dead(pid: int) -> None:
    """A worker exited: its live gauges (cache sizes) leave the sums; its counters stay, so the
    server's totals keep what it counted."""
    directory = os.environ.get(ENV)
    if directory:
        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def error_code(envelope: dict[str, Any]) -> str:
    """The ``code`` label of an error answer: OpenAI's code, or its type when it has none."""
    error = envelope.get("error") or {}
    return str(error.get("code") or error.get("type") or "unknown")


class Metrics:
    """The figures of one app: counted as plain ints per request, flushed to prometheus_client.

    Used from the event loop only (the count route, the scrape, the flush task), hence no lock.
    """

    def __init__(self, cache: TokenCountCache | None, answers: TokenCountCache) -> None:
        self.multiprocess = bool(os.environ.get(ENV))
        self.cache, self.answers = cache, answers
        # The app's own: several apps in one process (tests) count apart.
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "inputtokens_requests",
            "Requests answered, by route (the route's template) and status.",
            ["route", "status"],
            registry=registry,
        )
        self.errors = Counter(
            "inputtokens_errors",
            "Error answers, by OpenAI error code (the error type when it has no code).",
            ["code"],
            registry=registry,
        )
        self.count_seconds = Histogram(
            "inputtokens_count_seconds",
            "Time the count routes took, from the request to the answer's last byte sent.",
            buckets=COUNT_BUCKETS,
            registry=registry,
        )
        self.tokens = Counter(
            "inputtokens_tokens", "Input tokens counted (answered by the count routes).",
            registry=registry,
        )  # fmt: skip
        self._cache_metrics: list[tuple[str, Callable[[], dict[str, int]], str, Any]] = []
        for prefix, table, source in (
            ("inputtokens_count_cache_", _CACHE_METRICS, self._cache_stats),
            ("inputtokens_answer_cache_", _ANSWER_METRICS, answers.stats),
        ):
            for name, kind, help_text in table:
                metric: Any
                if kind == "counter":
                    metric = Counter(prefix + name, help_text, registry=registry)
                else:  # the live workers' sum: a dead worker's cache is gone with it
                    metric = Gauge(
                        prefix + name, help_text, registry=registry, multiprocess_mode="livesum"
                    )
                self._cache_metrics.append((prefix + name, source, name, metric))
        self._synced: dict[str, int] = {}  # the cache counters as last flushed
        self._children: dict[tuple[str, int], Any] = {}
        self._error_children: dict[str, Any] = {}
        # Pending, since the last flush:
        self._requests: dict[tuple[str, int], int] = {}
        self._errors: dict[str, int] = {}
        self._buckets = [0] * (len(COUNT_BUCKETS) + 1)  # the last one: +Inf
        self._seconds = 0.0
        self._tokens = 0

    def _cache_stats(self) -> dict[str, int]:
        if self.cache is None:
            return dict.fromkeys(("hits", "misses", "evictions", "entries", "max_entries",
                                  "bytes", "max_bytes"), 0)  # fmt: skip
        return self.cache.stats()

    def count_done(self, route: str, status: int, tokens: int, seconds: float) -> None:
        """One answer of the count route (the hot path: a few dict and list updates)."""
        key = (route, status)
        requests = self._requests
        requests[key] = requests.get(key, 0) + 1
        self._tokens += tokens
        self._buckets[bisect_left(COUNT_BUCKETS, seconds)] += 1
        self._seconds += seconds

    def request_done(self, route: str, status: int) -> None:
        """One answer of another route."""
        key = (route, status)
        self._requests[key] = self._requests.get(key, 0) + 1

    def error(self, code: str) -> None:
        self._errors[code] = self._errors.get(code, 0) + 1

    def flush(self) -> None:
        """Hand what was counted since the last flush to prometheus_client."""
        requests, self._requests = self._requests, {}
        for key, n in requests.items():
            child = self._children.get(key)
            if child is None:
                child = self._children[key] = self.requests.labels(key[0], str(key[1]))
            child.inc(n)
        errors, self._errors = self._errors, {}
        for code, n in errors.items():
            child = self._error_children.get(code)
            if child is None:
                child = self._error_children[code] = self.errors.labels(code)
            child.inc(n)
        if self._tokens:
            self.tokens.inc(self._tokens)
            self._tokens = 0
        if any(self._buckets):
            # prometheus_client has no bulk observe: its buckets' and sum's values, directly
            # (per-bucket counts, made cumulative when collected, as observe() keeps them).
            histogram: Any = self.count_seconds
            for i, n in enumerate(self._buckets):
                if n:
                    histogram._buckets[i].inc(n)
            histogram._sum.inc(self._seconds)
            self._buckets = [0] * len(self._buckets)
            self._seconds = 0.0
        stats: dict[Any, dict[str, int]] = {}
        for full_name, source, name, metric in self._cache_metrics:
            figures = stats.get(source)
            if figures is None:
                figures = stats[source] = source()
            value = figures[name]
            if isinstance(metric, Counter):
                before = self._synced.get(full_name, 0)
                # a cleared cache starts again from 0: all it counted since is new
                delta = value - before if value >= before else value
                if delta:
                    metric.inc(delta)
                self._synced[full_name] = value
            else:
                metric.set(value)

    def render(self) -> bytes:
        """The text of ``GET /metrics``: this process' figures, or every worker's."""
        self.flush()
        if not self.multiprocess:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    async def flush_every(self, seconds: float = FLUSH_S) -> None:
        """In multi-process mode, the worker's task: flush now and then, so that a scrape that
        another worker answers sees this one's figures too."""
        while True:
            await asyncio.sleep(seconds)
            self.flush()

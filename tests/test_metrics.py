"""``GET /metrics`` through prometheus_client: requests by route template and status, errors by
code, the count route's latency and tokens, the caches. With ``serve --workers 2`` (a real
process tree) one scrape, whichever worker takes it, shows the whole server's totals, and a
worker killed and replaced neither loses nor doubles them; one process keeps its own registry."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from inputtokens import server
from inputtokens.api.metrics import FLUSH_S
from inputtokens.settings import Settings

linux_only = pytest.mark.skipif(not server.REUSEPORT, reason="SO_REUSEPORT balances on Linux")
RESPONSES = "/v1/responses/input_tokens"
CHAT = "/v1/chat/completions/input_tokens"
TMP = Path(tempfile.gettempdir())
NO_KEEP_ALIVE = httpx.Limits(max_keepalive_connections=0)  # a connection per request


def scrape(client: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of one scrape: (name, labels) -> value."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests_total(samples: dict[Any, float], route: str, status: int) -> float:
    return value(samples, "inputtokens_requests_total", route=route, status=str(status))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    def __init__(self, proc: subprocess.Popen[bytes], base: str) -> None:
        self.proc, self.base = proc, base


@pytest.fixture(scope="module")
def two_workers() -> Iterator[Served]:
    """`serve --workers 2` on a free port, once both workers answer."""
    port = _free_port()
    before = set(TMP.glob("inputtokens-metrics-*"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("INPUTTOKENS_")}
    env["INPUTTOKENS_WARM_ENCODINGS"] = ""
    env["PROMETHEUS_MULTIPROC_DIR"] = "/nonexistent/ignored"  # serve makes its own
    proc = subprocess.Popen(
        [sys.executable, "-m", "inputtokens", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert len(_workers(base, proc, want=2)) == 2
        made = set(TMP.glob("inputtokens-metrics-*")) - before
        assert len(made) == 1 and list(made.pop().glob("*.db"))  # serve's own directory
        yield Served(proc, base)
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    assert set(TMP.glob("inputtokens-metrics-*")) <= before  # removed at exit


def _workers(base: str, proc: subprocess.Popen[bytes], want: int) -> set[int]:
    """The workers /healthz names, asked over new connections until `want` answered."""
    seen: set[int] = set()
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=base, trust_env=False, timeout=2, limits=NO_KEEP_ALIVE) as c:
        while len(seen) < want:
            try:
                seen.add(c.get("/healthz").json()["worker"])
            except httpx.TransportError:
                time.sleep(0.1)
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, f"workers seen: {seen}"
    return seen


def _send(base: str, tag: str) -> tuple[Counter[tuple[str, int]], int, Counter[str]]:
    """Count requests over a connection each (spread over both workers): 200s on two routes,
    repeats (answer-cache hits) and 400s. (route, status) -> requests, the tokens answered,
    error code -> errors."""
    sent: Counter[tuple[str, int]] = Counter()
    errors: Counter[str] = Counter()
    tokens = 0
    with httpx.Client(base_url=base, trust_env=False, timeout=30, limits=NO_KEEP_ALIVE) as c:
        for i in range(30):
            body = {"model": "gpt-4o", "input": f"Request {i % 20} of {tag}: count these words."}
            response = c.post(RESPONSES, json=body)
            sent[RESPONSES, response.status_code] += 1
            tokens += response.json()["input_tokens"]
        for i in range(10):
            text = f"{tag} {i}: a message long enough for the content cache"
            body = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}
            response = c.post(CHAT, json=body)
            sent[CHAT, response.status_code] += 1
            tokens += response.json()["input_tokens"]
        for i in range(6):
            bad = (
                {"model": "no-such-model", "input": "hi"}
                if i % 2
                else {"model": "gpt-4o", "input": 5}
            )
            response = c.post(RESPONSES, json=bad)
            sent[RESPONSES, response.status_code] += 1
            errors[response.json()["error"]["code"]] += 1
    assert sent[RESPONSES, 200] == 30 and sent[CHAT, 200] == 10 and sum(errors.values()) == 6
    return sent, tokens, errors


def _check_totals(
    before: dict[Any, float],
    after: dict[Any, float],
    sent: Counter[tuple[str, int]],
    tokens: int,
    errors: Counter[str],
) -> None:
    for (route, status), n in sent.items():
        grown = requests_total(after, route, status) - requests_total(before, route, status)
        assert grown == n, (route, status)
    grown = value(after, "inputtokens_tokens_total") - value(before, "inputtokens_tokens_total")
    assert grown == tokens
    for code, n in errors.items():
        grown = value(after, "inputtokens_errors_total", code=code) - value(
            before, "inputtokens_errors_total", code=code
        )
        assert grown == n, code
    counted = sum(n for (route, _), n in sent.items())
    histogram = "inputtokens_count_seconds_count"
    assert value(after, histogram) - value(before, histogram) == counted


def _settled_scrape(base: str) -> dict[Any, float]:
    """One scrape once every worker has flushed (each does every FLUSH_S)."""
    time.sleep(FLUSH_S * 1.5)
    with httpx.Client(base_url=base, trust_env=False, timeout=30) as client:
        return scrape(client)


@linux_only
def test_one_scrape_shows_the_totals_of_both_workers(two_workers: Served) -> None:
    before = _settled_scrape(two_workers.base)
    sent, tokens, errors = _send(two_workers.base, uuid.uuid4().hex)
    assert len(errors) == 2, errors  # model_not_found and a wrong input type
    after = _settled_scrape(two_workers.base)
    _check_totals(before, after, sent, tokens, errors)
    # 20 distinct bodies sent 30 times: 10 answered from a cache, on whichever worker had it
    hits = "inputtokens_answer_cache_hits_total"
    assert 0 < value(after, hits) - value(before, hits) <= 10
    # the gauges: the live workers' sum, each within its own budget
    for cache in ("count", "answer"):
        held = value(after, f"inputtokens_{cache}_cache_bytes")
        assert 0 < held <= value(after, f"inputtokens_{cache}_cache_max_bytes")


@linux_only
def test_a_worker_killed_and_replaced_neither_loses_nor_doubles_the_totals(
    two_workers: Served,
) -> None:
    base, proc = two_workers.base, two_workers.proc
    sent, tokens, errors = _send(base, uuid.uuid4().hex)
    settled = _settled_scrape(base)  # the killed worker's figures were flushed
    budget = value(settled, "inputtokens_answer_cache_max_entries")
    victim = min(_workers(base, proc, want=2))
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while victim in (seen := _workers(base, proc, want=2)):
        assert time.monotonic() < deadline, "the killed worker was not replaced"
    assert len(seen) == 2
    after = _settled_scrape(base)
    empty: Counter[Any] = Counter()
    # nothing lost, nothing doubled: the dead worker's counters stay in the totals
    _check_totals(settled, after, empty, 0, Counter())
    for (route, status), n in sent.items():
        assert requests_total(after, route, status) >= n
    # its gauges left the sums (mark_process_dead): two live workers' budgets, not three
    assert value(after, "inputtokens_answer_cache_max_entries") == budget
    more, more_tokens, more_errors = _send(base, uuid.uuid4().hex)
    _check_totals(after, _settled_scrape(base), more, more_tokens, more_errors)


def test_one_process_serves_its_own_figures(start_server: Callable[[Settings], Any]) -> None:
    live = start_server(Settings(cache_entries=1000))
    with httpx.Client(base_url=live.base_url, trust_env=False, timeout=30) as client:
        before = scrape(client)
        body = {"model": "gpt-4o", "input": f"One process {uuid.uuid4().hex}"}
        answers = [client.post(RESPONSES, json=body).json()["input_tokens"] for _ in range(3)]
        assert client.post(RESPONSES, content=b"{").status_code == 400
        for model in ("gpt-4o", "gpt-5", "gpt-nothing"):
            client.get(f"/v1/models/{model}")
        client.get("/no/such/route")
        after = scrape(client)
    assert requests_total(after, RESPONSES, 200) - requests_total(before, RESPONSES, 200) == 3
    assert requests_total(after, RESPONSES, 400) - requests_total(before, RESPONSES, 400) == 1
    # the route's template, not each id: one series for every model asked for
    template = "/v1/models/{model:path}"
    assert requests_total(after, template, 200) - requests_total(before, template, 200) == 2
    assert requests_total(after, template, 404) - requests_total(before, template, 404) == 1
    assert requests_total(after, "unmatched", 404) - requests_total(before, "unmatched", 404) == 1
    assert not any("gpt-5" in str(labels) for _, labels in after)
    tokens = value(after, "inputtokens_tokens_total") - value(before, "inputtokens_tokens_total")
    assert tokens == sum(answers)
    for code in ("model_not_found", "not_found"):
        grown = value(after, "inputtokens_errors_total", code=code) - value(
            before, "inputtokens_errors_total", code=code
        )
        assert grown == 1, code
    # every count lands in a bucket of the latency histogram: 10 µs .. 1 s, then +Inf
    inf = value(after, "inputtokens_count_seconds_bucket", le="+Inf")
    assert inf - value(before, "inputtokens_count_seconds_bucket", le="+Inf") == 4
    assert value(after, "inputtokens_count_seconds_bucket", le="1e-05") <= inf
    assert value(after, "inputtokens_count_seconds_sum") > 0
    hits = "inputtokens_answer_cache_hits_total"
    assert value(after, hits) - value(before, hits) == 2

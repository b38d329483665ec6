"""``GET /metrics`` through prometheus_client: requests by route template and status, errors by
code, the count route's latency and tokens, the caches; one process keeps its own registry."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from inputtokens import server
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

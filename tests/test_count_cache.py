"""The content cache (token_cache.py): repeated texts are counted once, counts never change,
and what the cache did shows in the rich view and at /metrics."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from inputtokens import count_input_tokens
from inputtokens.core.token_cache import (
    COUNT_ENTRY_BYTES,
    DEFAULT_CACHE_BYTES,
    CacheUse,
    TokenCountCache,
)
from inputtokens.library import cache_for
from inputtokens.settings import Settings

COUNT_PATH = "/v1/responses/input_tokens"
OFF = Settings(cache_entries=0)


def unique(words: int = 30) -> str:
    """A text no other test counts, long enough to be cached."""
    tag = uuid.uuid4().hex
    return f"Note {tag}: " + " ".join(f"word{i}" for i in range(words))


def conversation(turns: int, tag: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for turn in range(turns):
        items.append({"role": "user", "content": f"{tag} question {turn}: " + "why? " * 20})
        items.append({"role": "assistant", "content": f"{tag} answer {turn}: " + "because. " * 20})
    return items


def tools() -> list[dict[str, Any]]:
    """A tool list no other test counts."""
    return [
        {
            "type": "function",
            "name": "lookup",
            "description": unique(8),
            "parameters": {"type": "object", "properties": {"word": {"type": "string"}}},
        }
    ]


@pytest.mark.parametrize("model", ["gpt-5", "gpt-4o", "gpt-4.1", "o3", "gpt-oss-120b"])
def test_cached_counts_equal_uncached_counts(model: str) -> None:
    body = {
        "model": model,
        "instructions": unique(),
        "tools": tools(),
        "input": conversation(3, uuid.uuid4().hex),
    }
    cold = count_input_tokens(body, settings=OFF).input_tokens
    first = count_input_tokens(body)
    second = count_input_tokens(body)
    assert first.input_tokens == second.input_tokens == cold
    assert first.cache_use is not None and second.cache_use is not None
    assert first.cache_use.hits == 0 and first.cache_use.misses > 0
    assert second.cache_use.misses == 0
    assert second.cache_use.hits == first.cache_use.misses
    assert 0 < second.cache_use.tokens_from_cache < second.input_tokens


@hsettings(max_examples=60, deadline=None)
@given(st.text(min_size=49, max_size=400))
def test_any_text_counts_the_same_through_the_cache(text: str) -> None:
    body = {"model": "gpt-4o", "input": [{"role": "user", "content": text}]}
    cold = count_input_tokens(body, settings=OFF).input_tokens
    assert count_input_tokens(body).input_tokens == cold
    assert count_input_tokens(body).input_tokens == cold  # the second one is a hit


def test_same_text_in_another_encoding_is_another_entry() -> None:
    text = unique()
    o200k = count_input_tokens({"model": "gpt-4o", "input": text})
    cl100k = count_input_tokens({"model": "gpt-4", "input": text})
    assert cl100k.cache_use is not None and cl100k.cache_use.hits == 0
    assert (
        cl100k.input_tokens
        == count_input_tokens({"model": "gpt-4", "input": text}, settings=OFF).input_tokens
    )
    assert o200k.input_tokens != cl100k.input_tokens or o200k.encoding != cl100k.encoding


def test_token_ids_are_never_taken_from_the_cache() -> None:
    body = {"model": "gpt-5", "input": unique()}
    count_input_tokens(body)
    with_ids = count_input_tokens(body, return_tokens=True)
    assert with_ids.tokens is not None and len(with_ids.tokens) == with_ids.input_tokens
    assert with_ids.cache_use is not None and with_ids.cache_use.hits == 0


def test_a_growing_conversation_reuses_every_earlier_turn() -> None:
    tag = uuid.uuid4().hex
    instructions, tool_list = unique(), tools()
    hits = []
    for turns in range(1, 6):
        body = {
            "model": "gpt-5",
            "instructions": instructions,
            "tools": tool_list,
            "input": conversation(turns, tag),
        }
        result = count_input_tokens(body)
        assert result.input_tokens == count_input_tokens(body, settings=OFF).input_tokens
        assert result.cache_use is not None
        hits.append(result.cache_use.hits)
        # Only the newest turn's two messages are new.
        if turns > 1:
            assert result.cache_use.misses == 2
    assert hits == sorted(hits) and hits[-1] > hits[0]


def test_the_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    cache = TokenCountCache(2)
    use = CacheUse()
    a, b, c = (cache.key("o200k_base", t) for t in ("a" * 60, "b" * 60, "c" * 60))
    cache.put(a, 1)
    cache.put(b, 2)
    assert cache.get(a, use) == 1  # a is now the most recently used
    cache.put(c, 3)  # so b goes
    assert cache.get(b, use) is None
    assert cache.get(a, use) == 1 and cache.get(c, use) == 3
    assert cache.stats() == {
        "entries": 2,
        "max_entries": 2,
        "bytes": 2 * COUNT_ENTRY_BYTES,
        "max_bytes": DEFAULT_CACHE_BYTES // 2,
        "hits": 3,
        "misses": 1,
        "evictions": 1,
    }
    assert (use.hits, use.misses, use.tokens_from_cache) == (3, 1, 5)


def test_zero_entries_turns_the_cache_off() -> None:
    assert cache_for(0) is None
    body = {"model": "gpt-5", "input": unique()}
    count_input_tokens(body, settings=OFF)
    result = count_input_tokens(body, settings=OFF)
    assert result.cache_use is not None and result.cache_use.hits == 0
    assert result.cache_use.misses == 0  # nothing was even looked up


def test_concurrent_counts_through_one_cache_agree() -> None:
    bodies = [{"model": "gpt-5", "input": conversation(4, uuid.uuid4().hex)} for _ in range(4)]
    expected = [count_input_tokens(b, settings=OFF).input_tokens for b in bodies]
    errors: list[str] = []

    def work() -> None:
        for _ in range(25):
            for body, want in zip(bodies, expected, strict=True):
                got = count_input_tokens(body).input_tokens
                if got != want:
                    errors.append(f"{got} != {want}")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# ---------------------------------------------------------------------------------------------
# Through the server
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cached_http(start_server: Callable[[Settings], Any]) -> httpx.Client:
    live = start_server(Settings(cache_entries=1000))
    with httpx.Client(base_url=live.base_url, trust_env=False, timeout=30) as client:
        yield client


def metric(client: httpx.Client, name: str) -> int:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    for line in response.text.splitlines():
        if line.startswith((name + "{", name + " ")):
            return int(float(line.rsplit(" ", 1)[1]))
    raise AssertionError(f"{name} not in /metrics:\n{response.text}")


def test_rich_view_and_metrics_show_hits_and_misses(cached_http: httpx.Client) -> None:
    body = {"model": "gpt-5", "instructions": unique(), "input": conversation(2, uuid.uuid4().hex)}
    hits_before = metric(cached_http, "inputtokens_count_cache_hits_total")
    misses_before = metric(cached_http, "inputtokens_count_cache_misses_total")
    first = cached_http.post(COUNT_PATH, json=body, params={"verbose": "true"}).json()
    second = cached_http.post(COUNT_PATH, json=body, params={"verbose": "true"}).json()
    plain = cached_http.post(COUNT_PATH, json=body).json()
    assert first["input_tokens"] == second["input_tokens"] == plain["input_tokens"]
    assert first["count_cache"]["hits"] == 0 and first["count_cache"]["misses"] == 5
    assert (second["count_cache"]["hits"], second["count_cache"]["misses"]) == (5, 0)
    assert second["count_cache"]["tokens_from_cache"] > 0
    assert plain == {"object": "response.input_tokens", "input_tokens": first["input_tokens"]}
    assert metric(cached_http, "inputtokens_count_cache_hits_total") == hits_before + 10
    assert metric(cached_http, "inputtokens_count_cache_misses_total") == misses_before + 5
    assert metric(cached_http, "inputtokens_count_cache_max_entries") == 1000
    assert 0 < metric(cached_http, "inputtokens_count_cache_entries") <= 1000


@pytest.fixture(scope="module")
def stateful_http(
    start_server: Callable[[Settings], Any], tmp_path_factory: pytest.TempPathFactory
) -> httpx.Client:
    data_dir = tmp_path_factory.mktemp("answer_cache")
    live = start_server(Settings(cache_entries=1000, data_dir=str(data_dir)))
    with httpx.Client(base_url=live.base_url, trust_env=False, timeout=30) as client:
        yield client


def test_the_same_plain_body_again_is_answered_from_the_answer_cache(
    stateful_http: httpx.Client,
) -> None:
    body = {"model": "gpt-4o", "input": unique()}
    hits = metric(stateful_http, "inputtokens_answer_cache_hits_total")
    first = stateful_http.post(COUNT_PATH, json=body)
    second = stateful_http.post(COUNT_PATH, json=body)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert second.json()["input_tokens"] == count_input_tokens(body, settings=OFF).input_tokens
    assert metric(stateful_http, "inputtokens_answer_cache_hits_total") == hits + 1
    # The verbose view is never a stored answer: its cache figures are this request's.
    verbose = stateful_http.post(COUNT_PATH, json=body, params={"verbose": "true"}).json()
    assert verbose["input_tokens"] == first.json()["input_tokens"]
    assert metric(stateful_http, "inputtokens_answer_cache_hits_total") == hits + 1


def test_a_short_plain_text_skips_the_content_cache_a_long_one_is_kept(
    stateful_http: httpx.Client,
) -> None:
    """Behind the answer cache, a plain text is found in the content cache only when another
    body repeats it: worth it for a long text, not for a short one (count/plain_text.py)."""
    misses = "inputtokens_count_cache_misses_total"
    hits = "inputtokens_count_cache_hits_total"
    before = metric(stateful_http, misses), metric(stateful_http, hits)
    short = {"model": "gpt-4o", "input": unique() + " " + "short words " * 10}
    assert stateful_http.post(COUNT_PATH, json=short).status_code == 200
    assert (metric(stateful_http, misses), metric(stateful_http, hits)) == before
    long_text = unique() + " " + "a long plain text " * 150  # over 2,048 characters
    for model in ("gpt-4o", "gpt-4.1"):  # one text, two bodies, one encoding
        answer = stateful_http.post(COUNT_PATH, json={"model": model, "input": long_text})
        assert answer.status_code == 200
    assert metric(stateful_http, misses) == before[0] + 1
    assert metric(stateful_http, hits) == before[1] + 1


def test_errors_are_not_kept(stateful_http: httpx.Client) -> None:
    body = {"model": "no-such-model", "input": unique()}
    hits = metric(stateful_http, "inputtokens_answer_cache_hits_total")
    for _ in range(2):
        assert stateful_http.post(COUNT_PATH, json=body).status_code == 400
    assert metric(stateful_http, "inputtokens_answer_cache_hits_total") == hits


def test_a_body_naming_a_conversation_is_counted_again_after_the_conversation_grows(
    stateful_http: httpx.Client,
) -> None:
    conv = stateful_http.post(
        "/v1/conversations",
        json={"items": [{"type": "message", "role": "user", "content": unique()}]},
    ).json()
    body = {"model": "gpt-5", "conversation": conv["id"], "input": "And then?"}
    before = stateful_http.post(COUNT_PATH, json=body).json()["input_tokens"]
    added = stateful_http.post(
        f"/v1/conversations/{conv['id']}/items",
        json={"items": [{"type": "message", "role": "assistant", "content": unique()}]},
    )
    assert added.status_code == 200, added.text
    after = stateful_http.post(COUNT_PATH, json=body).json()["input_tokens"]
    assert after > before

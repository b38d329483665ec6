"""The caches' byte budgets (INPUTTOKENS_CACHE_BYTES): entries are costed honestly, dropped
least recently used first to stay within the budget, and the budget shows at /metrics."""

from __future__ import annotations

import gc
import tracemalloc
import uuid
from collections.abc import Callable
from hashlib import blake2b
from typing import Any

import httpx
import pytest

from inputtokens.api.count import AnswerCache
from inputtokens.core.token_cache import (
    COUNT_ENTRY_BYTES,
    DEFAULT_CACHE_BYTES,
    SHARDS,
    CacheUse,
    TokenCountCache,
)
from inputtokens.library import cache_for
from inputtokens.settings import Settings

COUNT_PATH = "/v1/responses/input_tokens"
CHAT_PATH = "/v1/chat/completions/input_tokens"


def key(i: int | str) -> bytes:
    return blake2b(str(i).encode(), digest_size=16).digest()


def test_eviction_keeps_the_byte_budget_least_recently_used_first() -> None:
    table = AnswerCache(max_entries=1_000_000, max_bytes=20_000)
    capacity = 20_000 // COUNT_ENTRY_BYTES  # every entry costs the same
    for i in range(1000):
        table.put(key(i), i)
        assert table.stats()["bytes"] <= table.max_bytes
        if i == 10:
            assert table.get(key(0)) == 0  # key 0 is now the most recently used
    stats = table.stats()
    assert stats["entries"] == capacity and stats["evictions"] == 1000 - capacity
    assert stats["bytes"] == capacity * COUNT_ENTRY_BYTES
    assert table.max_bytes - stats["bytes"] < COUNT_ENTRY_BYTES  # the budget is used
    assert table.get(key(999)) == 999  # the newest are kept...
    assert table.get(key(1)) is None  # ...the oldest are gone


def test_the_least_recently_used_goes_first() -> None:
    table = AnswerCache(max_entries=100, max_bytes=3 * COUNT_ENTRY_BYTES)
    for i in range(3):
        table.put(key(i), i)
    assert table.get(key(0)) == 0
    table.put(key(3), 3)  # 1 is the least recently used
    assert table.get(key(1)) is None
    assert [table.get(key(i)) for i in (0, 2, 3)] == [0, 2, 3]
    assert table.stats()["evictions"] == 1 and table.stats()["entries"] == 3


def test_the_entry_bound_still_holds_and_a_replaced_value_is_counted_once() -> None:
    table = AnswerCache(max_entries=2, max_bytes=1 << 20)
    for i in range(5):
        table.put(key(i), 1000 + i)
    assert table.stats()["entries"] == 2 and table.get(key(4)) == 1004
    table.put(key(4), 7)
    assert table.stats()["entries"] == 2 and table.get(key(4)) == 7 and table.get(key(3)) == 1003


def test_a_budget_below_one_entry_keeps_nothing() -> None:
    table = AnswerCache(max_entries=10, max_bytes=COUNT_ENTRY_BYTES - 1)
    assert not table.enabled
    assert AnswerCache(max_entries=10, max_bytes=COUNT_ENTRY_BYTES).enabled


def _traced_growth(fill: Callable[[], object]) -> tuple[int, object]:
    """What `fill` leaves allocated, by this file, the cache modules and the standard library
    (the keys, values and OrderedDict), as traced by tracemalloc: other threads of the test
    session (servers) are left out."""
    import collections

    files = [__file__, AnswerCache.put.__code__.co_filename]
    files.append(collections.__file__)
    gc.collect()
    tracemalloc.start()
    try:
        kept = fill()
        gc.collect()
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    mine = snapshot.filter_traces([tracemalloc.Filter(True, f) for f in files])
    return sum(stat.size for stat in mine.statistics("filename")), kept


@pytest.mark.parametrize("kind", ["answers", "content cache"])
def test_the_estimate_covers_what_tracemalloc_sees(kind: str) -> None:
    """The reported bytes are not less than the memory the entries really take (keys, values
    and the OrderedDict), with entries dropped as new ones come, as in a busy worker."""

    def fill() -> TokenCountCache:
        if kind == "content cache":
            cache = TokenCountCache(max_entries=1_000_000, max_bytes=1_000_000)
            for i in range(20_000):
                cache.put(TokenCountCache.key("o200k_base", f"text {i}"), 100_000 + i)
            return cache
        table = AnswerCache(max_entries=1_000_000, max_bytes=1_000_000)
        for i in range(20_000):
            table.put(key(i), 100_000 + i)
        return table

    traced, table = _traced_growth(fill)
    assert isinstance(table, TokenCountCache)
    stats = table.stats()
    assert stats["evictions"] > 10_000
    assert traced <= stats["bytes"] <= table.max_bytes
    assert stats["bytes"] < 2.5 * traced  # an estimate, not a wild over-count


def test_settings_parse_and_validate_the_byte_budget() -> None:
    assert Settings().cache_bytes == DEFAULT_CACHE_BYTES == 32 * 1024 * 1024
    for text, size in [
        ("1048576", 1 << 20),
        ("32MiB", 32 << 20),
        ("512 KiB", 512 << 10),
        ("2g", 2 << 30),
        ("64M", 64 << 20),
        ("0", 0),
    ]:
        assert Settings.from_env({"INPUTTOKENS_CACHE_BYTES": text}).cache_bytes == size
    for bad in ("-1", "lots", "1.5MiB", "12 TB", ""):
        with pytest.raises(ValueError, match="INPUTTOKENS_CACHE_BYTES: must be a number of bytes"):
            Settings.from_env({"INPUTTOKENS_CACHE_BYTES": bad})
    settings = Settings(cache_bytes=10 << 20, cache_entries=500)
    assert Settings.from_env(settings.to_env()).cache_bytes == 10 << 20
    assert settings.cache_bounds() == (500, 5 << 20)  # half each
    assert Settings(cache_bytes=0).cache_bounds() == (0, 0)
    assert Settings(cache_entries=0).cache_bounds() == (0, 0)


def test_a_zero_budget_turns_the_library_cache_off() -> None:
    from inputtokens import count_input_tokens

    assert cache_for(100, 0) is None
    body = {"model": "gpt-5", "input": f"Note {uuid.uuid4().hex}: " + "word " * 30}
    result = count_input_tokens(body, settings=Settings(cache_bytes=0))
    assert result.cache_use is not None and result.cache_use.misses == 0
    cache = cache_for(100, 50_000)
    assert isinstance(cache, TokenCountCache) and cache.stats()["max_bytes"] == 50_000


# ---------------------------------------------------------------------------------------------
# Through the server
# ---------------------------------------------------------------------------------------------

BUDGET = 64 * 1024  # 32 KiB per cache: about a hundred entries each


@pytest.fixture(scope="module")
def small_budget(start_server: Callable[[Settings], Any]) -> httpx.Client:
    live = start_server(Settings(cache_bytes=BUDGET))
    with httpx.Client(base_url=live.base_url, trust_env=False, timeout=30) as client:
        yield client


def metrics(client: httpx.Client) -> dict[str, int]:
    response = client.get("/metrics")
    assert response.status_code == 200
    figures = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            figures[name.split("{", 1)[0]] = int(float(value))
    return figures


def test_after_many_distinct_bodies_the_cache_bytes_stay_within_the_budget(
    small_budget: httpx.Client,
) -> None:
    tag = uuid.uuid4().hex
    for i in range(600):
        text = f"Body {i} of {tag}: " + "words to count " * 5
        # two messages, not one: a short plain text skips the content cache
        greeting = {"role": "assistant", "content": "Hello."}
        body = {"model": "gpt-5", "input": [greeting, {"role": "user", "content": text}]}
        response = small_budget.post(COUNT_PATH, json=body)
        assert response.status_code == 200
    figures = metrics(small_budget)
    for cache in ("count", "answer"):
        prefix = f"inputtokens_{cache}_cache_"
        assert figures[prefix + "max_bytes"] == BUDGET // 2
        assert 0.8 * BUDGET // 2 < figures[prefix + "bytes"] <= BUDGET // 2
        assert figures[prefix + "evictions_total"] > 400
        assert figures[prefix + "entries"] < 200


def test_the_answer_cache_still_answers_a_repeated_body(small_budget: httpx.Client) -> None:
    body = {"model": "gpt-4o", "input": f"Again {uuid.uuid4().hex}: " + "same words " * 8}
    hits = metrics(small_budget)["inputtokens_answer_cache_hits_total"]
    first = small_budget.post(COUNT_PATH, json=body)
    second = small_budget.post(COUNT_PATH, json=body)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert metrics(small_budget)["inputtokens_answer_cache_hits_total"] == hits + 1


def _route_body(route: str, tag: str) -> tuple[str, dict[str, Any], str]:
    """A body for `route` naming `tag` (new to the cache): its path, body and answer's object."""
    if route == "chat":
        messages = [{"role": "user", "content": f"Hi there, twice ({tag})"}]
        return CHAT_PATH, {"model": "gpt-4o", "messages": messages}, "chat.completion.input_tokens"
    if route == "embeddings":
        body = {"model": "text-embedding-3-small", "input": ["one line", tag]}
        return "/openai/v1/embeddings/input_tokens", body, "embedding.input_tokens"
    part = {"type": "input_text", "text": f"A part, not a plain string ({tag})"}
    body = {"model": "gpt-5", "input": [{"role": "user", "content": [part]}]}
    return COUNT_PATH, body, "response.input_tokens"


@pytest.mark.parametrize("route", ["chat", "embeddings", "responses"])
def test_a_kept_answer_is_the_route_s_own_answer(small_budget: httpx.Client, route: str) -> None:
    """The answer cache keeps counts: the answer it gives again is built with the route's own
    ``object`` and is byte for byte the first one."""
    path, body, object_ = _route_body(route, uuid.uuid4().hex)
    hits = metrics(small_budget)["inputtokens_answer_cache_hits_total"]
    first = small_budget.post(path, json=body)
    second = small_budget.post(path, json=body)
    assert first.status_code == second.status_code == 200, first.text
    assert first.content == second.content
    assert first.json()["object"] == object_ and first.json()["input_tokens"] > 0
    assert metrics(small_budget)["inputtokens_answer_cache_hits_total"] == hits + 1


@pytest.mark.parametrize("table_class", [AnswerCache, TokenCountCache])
def test_a_large_table_is_split_and_keeps_both_bounds(table_class: type[TokenCountCache]) -> None:
    """A default-sized table is split in shards (a rebuild stalls a sixteenth of it); the
    whole still holds its byte and entry bounds, and a kept key is found again."""
    table = table_class(max_entries=1_000_000, max_bytes=DEFAULT_CACHE_BYTES // 2)
    assert len(table._shards) == SHARDS
    for i in range(80_000):
        table.put(key(i), i)
    assert table.get(key(79_999), CacheUse()) == 79_999
    stats = table.stats()
    assert stats["bytes"] <= stats["max_bytes"] and stats["entries"] <= stats["max_entries"]
    assert stats["evictions"] == 80_000 - stats["entries"] > 0
    small = table_class(max_entries=100, max_bytes=1 << 20)
    assert len(small._shards) == 1  # small tables keep one exact LRU order

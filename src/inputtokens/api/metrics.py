"""``GET /metrics``: this worker's counters in Prometheus' text format.

Each worker process has its own cache, so the numbers are per process; the ``pid`` label tells
workers apart when a scraper reaches several through one port.
"""

from __future__ import annotations

import os

from ..core.token_cache import TokenCountCache

_CACHE_METRICS = (
    ("hits", "counter", "Texts whose token count came from the content cache."),
    ("misses", "counter", "Texts tokenized because the content cache did not have them."),
    ("evictions", "counter", "Entries dropped from the content cache to stay in bounds."),
    ("entries", "gauge", "Texts whose counts the content cache holds."),
    ("max_entries", "gauge", "The content cache's bound (INPUTTOKENS_CACHE_ENTRIES)."),
    ("bytes", "gauge", "Estimated bytes the content cache holds (keys, counts, overhead)."),
    ("max_bytes", "gauge", "The content cache's byte budget (half of INPUTTOKENS_CACHE_BYTES)."),
)


_ANSWER_METRICS = (
    ("hits", "counter", "Requests answered from the answer cache (the same body again)."),
    ("misses", "counter", "Plain requests whose body was not in the answer cache."),
    ("evictions", "counter", "Answers dropped from the answer cache to stay in bounds."),
    ("entries", "gauge", "Answers the answer cache holds."),
    ("max_entries", "gauge", "The answer cache's bound (INPUTTOKENS_CACHE_ENTRIES)."),
    ("bytes", "gauge", "Estimated bytes the answer cache holds (keys, answers, overhead)."),
    ("max_bytes", "gauge", "The answer cache's byte budget (half of INPUTTOKENS_CACHE_BYTES)."),
)
_EMPTY = dict.fromkeys(
    ("entries", "max_entries", "bytes", "max_bytes", "hits", "misses", "evictions"), 0
)


def metrics_text(cache: TokenCountCache | None, answers: dict[str, int]) -> str:
    """The text of ``GET /metrics``: the count route's content cache (None when off) and its
    answer-cache figures."""
    label = f'{{pid="{os.getpid()}"}}'
    lines: list[str] = []
    for prefix, table, stats in (
        ("inputtokens_count_cache_", _CACHE_METRICS, cache.stats() if cache else _EMPTY),
        ("inputtokens_answer_cache_", _ANSWER_METRICS, answers),
    ):
        for name, kind, help_text in table:
            metric = prefix + name + ("_total" if kind == "counter" else "")
            lines += [
                f"# HELP {metric} {help_text}",
                f"# TYPE {metric} {kind}",
                f"{metric}{label} {stats[name]}",
            ]
    return "\n".join(lines) + "\n"

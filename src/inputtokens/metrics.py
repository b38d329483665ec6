"""``GET /metrics``: this worker's counters in Prometheus' text format.

Each worker process has its own cache, so the numbers are per process; the ``pid`` label tells
workers apart when a scraper reaches several through one port.
"""

from __future__ import annotations

import os

from .settings import Settings
from .token_cache import cache_for

_CACHE_METRICS = (
    ("hits", "counter", "Texts whose token count came from the content cache."),
    ("misses", "counter", "Texts tokenized because the content cache did not have them."),
    ("evictions", "counter", "Entries dropped from the content cache to stay in bounds."),
    ("entries", "gauge", "Texts whose counts the content cache holds."),
    ("max_entries", "gauge", "The content cache's bound (INPUTTOKENS_CACHE_ENTRIES)."),
)


def metrics_text(settings: Settings) -> str:
    cache = cache_for(settings.cache_entries)
    stats = cache.stats() if cache is not None else dict.fromkeys(
        ("entries", "max_entries", "hits", "misses", "evictions"), 0)
    label = f'{{pid="{os.getpid()}"}}'
    lines: list[str] = []
    for name, kind, help_text in _CACHE_METRICS:
        metric = f"inputtokens_count_cache_{name}" + ("_total" if kind == "counter" else "")
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} {kind}",
                  f"{metric}{label} {stats[name]}"]
    return "\n".join(lines) + "\n"

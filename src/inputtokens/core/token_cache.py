"""A bounded cache of token counts, keyed by a hash of the text and the encoding.

Agents re-send the same system prompt, tool list and conversation prefix before every model
call; each turn adds a little at the end. Tokenizing is the dominant cost of a count, so each
text run (one message, the tools section, ...) is counted once and later found by its content.

- The key is a 128-bit digest of the UTF-8 text in the encoding's domain (core/digest.py):
  the text itself is not kept (a cached 1 MiB message costs ~300 bytes, not a megabyte) and an
  accidental collision is out of reach (2^-64 at a billion entries).
- Least recently used entries are dropped past ``max_bytes`` (every entry costs the same,
  ``COUNT_ENTRY_BYTES``) or past ``max_entries``, whichever is reached first; 0 turns the
  cache off.
- Only counts are kept: a request that asks for token ids is tokenized in full.
- Texts of at most ``MIN_CHARS`` characters are not hashed: tokenizer.count_cached keeps their
  counts already (encode_cached their ids), and hashing would cost about as much as encoding
  them.

A cache is a plain object its owner hands to the pipeline: the HTTP app keeps one per worker,
the library one per process for each size (library.cache_for).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from xxhash import xxh3_128_digest

from .digest import seed

MIN_CHARS = 48
# The second bound, in entries; the byte budget below is reached first with the defaults.
DEFAULT_MAX_ENTRIES = 1_048_576
# What a worker's two caches may hold together (settings.py INPUTTOKENS_CACHE_BYTES): half each.
DEFAULT_CACHE_BYTES = 32 * 1024 * 1024

# What one entry costs besides its key and value objects: its share of the OrderedDict (the
# dict's hash index and entry table, the ordering node), measured with tracemalloc on CPython
# 3.11 (bench/bench_cache_memory.py --overhead): the traced growth of an OrderedDict of 16-byte
# keys and int values, divided by its length, taken at its worst, when the table has just
# grown, 116 bytes; when least recently used entries are dropped as new ones come (the
# table then also holds deleted slots until it is rebuilt), up to 200. The worst is kept.
ENTRY_OVERHEAD = 200


# One entry of a table of counts (TokenCountCache, the count route's AnswerCache): a 16-byte
# digest and an int (any count: below 2**60 an int object is 28 or 32 bytes, one 32-byte block
# either way).
COUNT_ENTRY_BYTES = ENTRY_OVERHEAD + 64 + 32


class CacheUse:
    """What one count took from the cache (shown in the rich view)."""

    __slots__ = ("hits", "misses", "tokens_from_cache")

    def __init__(self) -> None:
        self.hits = self.misses = self.tokens_from_cache = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "tokens_from_cache": self.tokens_from_cache,
        }

    def __repr__(self) -> str:
        return (
            f"CacheUse(hits={self.hits}, misses={self.misses}, "
            f"tokens_from_cache={self.tokens_from_cache})"
        )


# A large table is split in SHARDS tables by its keys' first byte (keys are uniform digests),
# each least-recently-used on its own: a dict that has had many entries dropped is rebuilt
# when it runs out of room, in one go, and an OrderedDict of 56k entries takes 5-13 ms to
# rebuild here, a stall of every request waiting behind it (seen as the p99 of paced load).
# A sixteenth of the table rebuilds in under 1 ms. Small tables stay whole (exact LRU order).
SHARDS = 16
_SHARD_FROM_ENTRIES = 16 * 1024  # entries of the whole table from which it is split


def _new_shards(entries: int) -> list[OrderedDict[bytes, Any]]:
    """The empty shards of a table of `entries` entries: SHARDS, or one for a small table. A
    key's shard is ``shards[key[0] & (len(shards) - 1)]``."""
    return [OrderedDict() for _ in range(SHARDS if entries >= _SHARD_FROM_ENTRIES else 1)]


_seeds: dict[str, int] = {}  # encoding name -> its key domain's seed (digest.seed)


class TokenCountCache:
    """Text -> token count for one process; thread-safe, bounded, least recently used out.

    Every entry costs the same (a 16-byte key and a small int: ``COUNT_ENTRY_BYTES``), so the
    byte budget is a number of entries, and a put is an insert and at most one drop: this runs
    for every text of every request, found or not (docs/performance.md, Hot path II). A large
    table is split in ``SHARDS`` (see ``_new_shards``).
    """

    def __init__(self, max_entries: int, max_bytes: int = DEFAULT_CACHE_BYTES // 2) -> None:
        self.max_entries = max(max_entries, 0)
        self.max_bytes = max(max_bytes, 0)
        capacity = min(self.max_entries, self.max_bytes // COUNT_ENTRY_BYTES)
        self._shards: list[OrderedDict[bytes, int]] = _new_shards(capacity)
        self._mask = len(self._shards) - 1
        self._capacity = capacity // len(self._shards)  # of each shard
        self._lock = threading.Lock()
        self.hits = self.misses = self.evictions = 0

    @staticmethod
    def key(encoding: str, text: str) -> bytes:
        """The content key of `text` under `encoding` (digest.digest, inlined: once per text)."""
        found = _seeds.get(encoding)
        if found is None:
            found = _seeds[encoding] = seed(encoding.encode())
        return xxh3_128_digest(text.encode("utf-8", "surrogatepass"), found)

    @property
    def enabled(self) -> bool:
        return self._capacity > 0

    def get(self, key: bytes, use: CacheUse | None = None) -> int | None:
        """The kept count for `key`, or None (a miss, to be followed by ``put``); `use`, when
        given, counts the hit or miss for one request."""
        entries = self._shards[key[0] & self._mask]
        with self._lock:
            tokens = entries.get(key)
            if tokens is None:
                self.misses += 1
            else:
                entries.move_to_end(key)
                self.hits += 1
        if use is None:
            return tokens
        if tokens is None:
            use.misses += 1
        else:
            use.hits += 1
            use.tokens_from_cache += tokens
        return tokens

    def put(self, key: bytes, tokens: int) -> None:
        """Keep a count (the text is encoded outside the lock, so others' hits never wait)."""
        entries = self._shards[key[0] & self._mask]
        with self._lock:
            entries[key] = tokens
            if len(entries) > self._capacity:
                entries.popitem(last=False)
                self.evictions += 1

    def stats(self) -> dict[str, int]:
        with self._lock:
            held = sum(len(entries) for entries in self._shards)
            return {
                "entries": held,
                "max_entries": self.max_entries,
                "bytes": held * COUNT_ENTRY_BYTES,
                "max_bytes": self.max_bytes,
                "hits": self.hits,
                "misses": self.misses,
                "evictions": self.evictions,
            }

    def clear(self) -> None:
        with self._lock:
            for entries in self._shards:
                entries.clear()
            self.hits = self.misses = self.evictions = 0

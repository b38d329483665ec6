"""The caches' keys: a 128-bit XXH3 digest of bytes, seeded per process and per domain.

Both caches (core/token_cache.py, the count route's answer cache) hash on every request:
each text of a prompt, the whole raw body. BLAKE2b took about 0.9 µs for a 270-byte text and
3.7 µs for a 2.5 KB body here, a tenth of the Python cost of a small count; XXH3-128 takes
0.08 and 0.15 µs. A key is never kept beyond the process, so it need not be stable:

- 128 bits, as before: an accidental collision stays out of reach (about 2^-64 at a billion
  entries).
- XXH3 is not a cryptographic hash. Its seed is drawn at random per process, and derived from
  it per domain (the encoding of a content-cache key, the route of an answer), so nobody
  outside the process can compute a key, and a key of one domain says nothing of another.
  The caches are shared by every caller of a process, so what a pair of texts crafted to
  collide whatever the seed could do is give the second of them, whoever counts it, the count of
  the first: a caller can spoil the count of a text it wrote itself, not of one it never saw.
  No such seed-independent 128-bit collision is published; if one is, BLAKE2b (keyed with the
  same secret) is the drop-in replacement here.
"""

from __future__ import annotations

import secrets
from hashlib import blake2b

from xxhash import xxh3_128_digest

_SECRET = secrets.token_bytes(32)
_seeds: dict[bytes, int] = {}


def seed(domain: bytes) -> int:
    """The XXH3 seed of `domain` in this process (a keyed BLAKE2b of it, made once)."""
    found = _seeds.get(domain)
    if found is None:
        made = blake2b(domain, key=_SECRET, digest_size=8).digest()
        found = _seeds[domain] = int.from_bytes(made, "little")
    return found


def digest(data: bytes, domain: bytes = b"") -> bytes:
    """The 16-byte key of `data` in `domain`.

    >>> len(digest(b"hello", b"o200k_base"))
    16
    >>> digest(b"hello", b"o200k_base") == digest(b"hello", b"cl100k_base")
    False
    """
    return xxh3_128_digest(data, seed(domain))

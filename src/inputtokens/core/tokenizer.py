"""Encoding registry: tokenizer definitions as data, loaded offline, lazily and once.

The BPE rank files ship inside the package (``inputtokens/vocab``) with pinned SHA-256 hashes;
they are never fetched. Each encoding is built the first time it is asked for, under a lock, so
concurrent first calls build it once; a failed build is not cached and raises again next time.

Besides each vocabulary's public special tokens, an encoding knows the *framing* tokens the
prompt renderers use (ChatML's ``<|im_start|>`` family for chat models, harmony's ``<|start|>``
family for reasoning models). Only their count matters for billing; their ids are listed so
that a rendered prompt can be shown as token ids.

Text is encoded by the fast engine of ``engine.py`` (rs_bpe) when it is installed and passes
its self-check, else by tiktoken; both give exactly ``encode_ordinary``'s ids. With the engine,
tiktoken's own core (the rank file parsed, its Rust ``CoreBPE`` built) is made only when
something needs it: decoding ids to text for the verbose view, or the splitter's fallback.
"""

from __future__ import annotations

import binascii
import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import tiktoken

from .engine import Engine, load_engine, without_surrogates
from .errors import TokenizationError

T = TypeVar("T")

# The pre-tokenizer patterns below are the published definitions of these vocabularies: they
# must match the originals exactly or counts drift on whitespace, digits and contractions.
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

# ChatML framing used by the chat (non-reasoning) models. OpenAI has not published these ids
# for o200k; they are placed just past the vocabulary's named specials and only serve display.
_CHATML_O200K = {"<|im_start|>": 200264, "<|im_end|>": 200265, "<|im_sep|>": 200266}
_CHATML_CL100K = {"<|im_start|>": 100264, "<|im_end|>": 100265, "<|im_sep|>": 100266}
# Harmony's special tokens (published with the gpt-oss models' o200k_harmony encoding).
_HARMONY = {
    "<|startoftext|>": 199998,
    "<|return|>": 200002,
    "<|constrain|>": 200003,
    "<|channel|>": 200005,
    "<|start|>": 200006,
    "<|end|>": 200007,
    "<|message|>": 200008,
    "<|call|>": 200012,
}


@dataclass(frozen=True)
class EncodingSpec:
    """How to build one encoding: rank file, its pinned hash, pattern and special tokens."""

    name: str
    rank_file: str
    sha256: str
    pattern: str
    special_tokens: dict[str, int] = field(default_factory=dict)


ENCODING_SPECS: dict[str, EncodingSpec] = {
    spec.name: spec
    for spec in (
        EncodingSpec(
            "o200k_base",
            "o200k_base.tiktoken",
            "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
            _O200K_PATTERN,
            {"<|endoftext|>": 199999, "<|endofprompt|>": 200018, **_HARMONY, **_CHATML_O200K},
        ),
        EncodingSpec(
            "o200k_harmony",
            "o200k_base.tiktoken",
            "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
            _O200K_PATTERN,
            {"<|endoftext|>": 199999, "<|endofprompt|>": 200018, **_HARMONY},
        ),
        EncodingSpec(
            "cl100k_base",
            "cl100k_base.tiktoken",
            "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
            _CL100K_PATTERN,
            {
                "<|endoftext|>": 100257,
                "<|fim_prefix|>": 100258,
                "<|fim_middle|>": 100259,
                "<|fim_suffix|>": 100260,
                "<|endofprompt|>": 100276,
                **_CHATML_CL100K,
            },
        ),
    )
}

_VOCAB_DIR = Path(__file__).resolve().parent.parent / "vocab"  # shipped at the package root
# Texts up to this many characters are encoded by tiktoken in one call (the splitter's chunk size):
# below it tiktoken neither panics (that takes ~1,000,000 whitespace characters) nor gets slow.
_DIRECT_MAX = 65536
# The engine takes texts up to this many characters in one call, longer ones in spans of about
# this size (``_engine_spans``): ~2 ms of holding the GIL per span of prose here, and ~3% over
# one call on 1 MiB (spans of 64K cost ~8%: a call has a fixed cost of its own).
_ENGINE_SPAN = 131072
_lock = threading.RLock()
_encodings: dict[str, EngineEncoding] = {}
_ranks_by_file: dict[str, dict[bytes, int]] = {}
# What tiktoken.Encoding.__init__ computes from the rank file: made on first access.
_LAZY = frozenset({"_core_bpe", "_mergeable_ranks", "max_token_value", "_special_token_values"})


def _verified_token_bytes(rank_file: str, sha256: str) -> list[bytes]:
    """Each token's bytes by rank, read from a packaged rank file after checking its hash."""
    # A plain path read: importlib.resources would add ~18 ms of imports to every start-up.
    data = (_VOCAB_DIR / rank_file).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise RuntimeError(
            f"vocabulary file {rank_file} is corrupt: sha256 {digest}, expected {sha256}"
        )
    # Lines are "<base64 token> <rank>"; splitting the whole file once is twice as fast as a
    # per-line loop, which matters for worker start-up time. In both pinned files the ranks are
    # 0, 1, 2, ... in line order (the hash above proves the file is that file, and
    # test_tokenizer checks the order), so the rank column is not parsed: a third less time.
    return list(map(binascii.a2b_base64, data.split()[0::2]))


def _read_ranks(rank_file: str, sha256: str) -> dict[bytes, int]:
    """tiktoken's rank table of a packaged rank file (files are shared between encodings)."""
    cached = _ranks_by_file.get(rank_file)
    if cached is not None:
        return cached
    tokens = _verified_token_bytes(rank_file, sha256)
    ranks = dict(zip(tokens, range(len(tokens)), strict=True))
    _ranks_by_file[rank_file] = ranks
    return ranks


_token_bytes_by_file: dict[str, list[bytes]] = {}


def _read_token_bytes(rank_file: str, sha256: str) -> list[bytes]:
    """Each token's bytes by id (rank), kept per rank file.

    What showing tokens needs, without tiktoken's core: building that parses the file into a
    dict and a Rust table (~0.3 s and ~70 MB for o200k); this list takes about a third of the
    time and ~10 MB.
    """
    cached = _token_bytes_by_file.get(rank_file)
    if cached is not None:
        return cached
    with _lock:
        cached = _token_bytes_by_file.get(rank_file)
        if cached is not None:
            return cached
        table = _token_bytes_by_file[rank_file] = _verified_token_bytes(rank_file, sha256)
        return table


def token_strings(enc: tiktoken.Encoding, ids: list[int]) -> tuple[str, ...]:
    """Each token of `ids` as text (a token that ends inside a UTF-8 character shows U+FFFD).

    Special and framing tokens show their names; an id of neither kind shows "". With the
    engine, tiktoken's core is not built for this (``_read_token_bytes``).
    """
    if type(enc) is EngineEncoding and "_core_bpe" not in enc.__dict__:
        table = _read_token_bytes(enc.spec.rank_file, enc.spec.sha256)
        names = {i: name for name, i in enc._special_tokens.items()}
        n = len(table)
        return tuple(
            table[t].decode("utf-8", errors="replace") if t < n else names.get(t, "") for t in ids
        )
    n_vocab = enc.n_vocab
    return tuple(
        enc.decode_single_token_bytes(t).decode("utf-8", errors="replace") if t < n_vocab else ""
        for t in ids
    )


class EngineEncoding(tiktoken.Encoding):
    """A ``tiktoken.Encoding`` whose Rust core is built on first use, with the fast engine.

    ``engine`` (or None) is what ``encode_text`` and ``count_text`` use. Every method of
    ``tiktoken.Encoding`` works unchanged (``encode_ordinary`` stays tiktoken's, the reference):
    the attributes they read beyond the cheap ones set here are built on first access, which
    parses the rank file (~0.3 s for o200k). With the engine in use that happens only when ids
    are decoded (the verbose view) or tiktoken itself must encode.
    """

    def __init__(self, spec: EncodingSpec, engine: Engine | None) -> None:
        # tiktoken's __init__ is deliberately not called: it would parse the ranks now.
        self.name = spec.name
        self._pat_str = spec.pattern
        self._special_tokens = dict(spec.special_tokens)
        self.spec = spec
        self.engine = engine

    def __getattr__(self, attr: str) -> Any:  # only called for attributes not yet set
        if attr not in _LAZY:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")
        self._build_core()
        return self.__dict__[attr]

    def _build_core(self) -> None:
        with _lock:
            if "_core_bpe" in self.__dict__:
                return
            spec = self.spec
            built = tiktoken.Encoding(
                name=spec.name,
                pat_str=spec.pattern,
                mergeable_ranks=_read_ranks(spec.rank_file, spec.sha256),
                special_tokens=self._special_tokens,
            )
            for attr in sorted(_LAZY - {"_core_bpe"}):
                self.__dict__[attr] = built.__dict__[attr]
            self.__dict__["_core_bpe"] = built._core_bpe  # last: it marks the core as built

    def __reduce__(self) -> tuple[Any, ...]:
        # tiktoken pickles the ranks; an encoding is rebuilt from the packaged files instead.
        return (get_encoding, (self.name,))


def get_encoding(name: str) -> EngineEncoding:
    """The encoding `name`, built from packaged files on first use.

    >>> get_encoding("o200k_base").encode_ordinary("Tell me a joke.")
    [60751, 668, 261, 41751, 13]
    """
    enc = _encodings.get(name)
    if enc is not None:
        return enc
    with _lock:
        enc = _encodings.get(name)
        if enc is not None:
            return enc
        spec = ENCODING_SPECS.get(name)
        if spec is None:
            known = ", ".join(sorted(ENCODING_SPECS))
            raise ValueError(f"unknown encoding {name!r}; known encodings: {known}")
        enc = EngineEncoding(spec, load_engine(name))
        if enc.engine is None:
            enc._build_core()  # tiktoken encodes: build it now, as a warm-up expects
        _encodings[name] = enc
        return enc


def encode_text(enc: tiktoken.Encoding, text: str, param: str | None = None) -> list[int]:
    """Token ids of user text, with special-token syntax treated as plain text.

    Exactly ``enc.encode_ordinary(text)``. With the engine (`enc` an ``EngineEncoding`` that
    has one), short texts go to it in one call and longer ones span by span
    (``_engine_spans``). Without it, texts up to ``_DIRECT_MAX`` characters go to tiktoken
    directly; longer ones, and any text tiktoken panics on, go through
    ``splitting.encode_long``, which cuts them where the result provably does not change and
    encodes huge pre-token pieces by verified windows, in linear time. A 400 naming the field
    remains only for text tiktoken alone can take and cannot process (see ``splitting``).
    """
    if type(enc) is EngineEncoding and enc.engine is not None:
        engine = enc.engine
        try:
            if len(text) <= _ENGINE_SPAN:
                return engine.encode(text)
            ids: list[int] = []
            for a, b in _engine_spans(enc, text):
                ids += engine.encode(text[a:b])
            return ids
        except UnicodeEncodeError:  # lone surrogates; the replaced text has none
            return encode_text(enc, without_surrogates(text), param)
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except BaseException:  # noqa: BLE001 - never seen; tiktoken below is exact as well
            pass
    return _tiktoken_ids(enc, text, param)


def count_text(enc: tiktoken.Encoding, text: str, param: str | None = None) -> int:
    """``len(encode_text(enc, text, param))``, without building the list when the engine counts."""
    if type(enc) is EngineEncoding and enc.engine is not None:
        engine = enc.engine
        try:
            if len(text) <= _ENGINE_SPAN:
                return engine.count(text)
            return sum(engine.count(text[a:b]) for a, b in _engine_spans(enc, text))
        except UnicodeEncodeError:  # lone surrogates; the replaced text has none
            return count_text(enc, without_surrogates(text), param)
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except BaseException:  # noqa: BLE001 - never seen; tiktoken below is exact as well
            pass
    return len(_tiktoken_ids(enc, text, param))


def _engine_spans(enc: EngineEncoding, text: str) -> Iterator[tuple[int, int]]:
    """A long text's spans for the engine, cut where the ids provably do not change.

    The engine is linear and exact on any text, so this is not for correctness: it holds the
    GIL while it encodes (tiktoken releases it), and spans of ``_ENGINE_SPAN`` characters (about
    2 ms each) let other threads, such as a server's event loop, run in between.
    """
    from .splitting import safe_spans

    return safe_spans(text, _ENGINE_SPAN, slash_ends_r2=enc.spec.pattern == _O200K_PATTERN)


def _tiktoken_ids(enc: tiktoken.Encoding, text: str, param: str | None) -> list[int]:
    """``encode_ordinary`` by tiktoken, long and pathological texts through the splitter."""
    if len(text) <= _DIRECT_MAX:
        try:
            return enc.encode_ordinary(text)
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except BaseException:  # noqa: BLE001 - pyo3's PanicException derives from BaseException
            pass  # not expected at this size; the splitter is exact as well
    from .splitting import UnprocessableText, encode_long

    try:
        return encode_long(enc, text)
    except UnprocessableText:
        raise TokenizationError(
            f"The tokenizer could not process the text of '{param or 'input'}' "
            f"({len(text)} characters).",
            param=param,
            code="invalid_value",
        ) from None


# Short strings recur constantly (role names, channel names, short messages): their token ids
# are kept per encoding. Bounded: the table is emptied when full, which costs one re-encode each.
_SHORT_TEXT = 48
_SHORT_CACHE_MAX = 8192
_short_cache: dict[str, dict[str, list[int]]] = {}


def encode_cached(enc: tiktoken.Encoding, text: str, param: str | None = None) -> list[int]:
    """Like ``encode_text``, remembering the ids of short strings. Do not mutate the result."""
    if len(text) > _SHORT_TEXT:
        return encode_text(enc, text, param)
    return _remembered(_short_cache, enc, text, param, encode_text)


# The counts of short strings, for callers that need no ids (a count is one lookup, and no
# ids list is kept for it); bounded like the ids' table.
_short_counts: dict[str, dict[str, int]] = {}


def count_cached(enc: tiktoken.Encoding, text: str, param: str | None = None) -> int:
    """``len(encode_cached(...))``: short strings from a table of counts, others by
    ``count_text``."""
    if len(text) > _SHORT_TEXT:
        return count_text(enc, text, param)
    return _remembered(_short_counts, enc, text, param, count_text)


def _remembered(
    tables: dict[str, dict[str, T]],
    enc: tiktoken.Encoding,
    text: str,
    param: str | None,
    compute: Callable[[tiktoken.Encoding, str, str | None], T],
) -> T:
    """`compute(enc, text, param)` from `enc`'s table in `tables`, or computed and kept there
    (the table emptied first when it is full)."""
    table = tables.get(enc.name)
    if table is None:
        table = tables.setdefault(enc.name, {})
    found = table.get(text)
    if found is None:
        if len(table) >= _SHORT_CACHE_MAX:
            table.clear()
        found = table[text] = compute(enc, text, param)
    return found


def special_token_id(enc: tiktoken.Encoding, token: str) -> int:
    """The id of a framing/special token known to `enc`."""
    return enc._special_tokens[token]

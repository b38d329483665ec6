"""Exact token ids for long and pathological texts, in linear time.

``tiktoken``'s ``encode_ordinary`` is the reference, and it is fast on ordinary text, but not on
everything a client may send (measured in docs/performance.md, "Pathological inputs"):

* its pre-tokenizer (``fancy_regex``) panics (``PanicException``, a BaseException) on a run of
  about 1,000,000 whitespace characters other than CR/LF;
* a single huge pre-token piece (a run of one letter, of letters without spaces, of punctuation or
  emoji, a whitespace run) goes through its heap-based byte-pair merge: O(n log n) with poor
  locality, 0.6-1.5 s per MiB at 1 MiB and worse beyond.

``encode_long`` returns exactly ``enc.encode_ordinary(text)`` for the o200k and cl100k patterns
while only ever handing ``tiktoken`` inputs of bounded size. It rests on three arguments.

**1. Cutting the text (pre-tokenizer).** tiktoken splits text with its regex into *pieces*
(``find_iter``: leftmost-first alternation, matches contiguous, every character matched) and
byte-pair-encodes each piece on its own. Call position ``p`` a *safe cut* if (a) some piece ends
at ``p`` and (b) the character before ``p`` is not whitespace. Then
``encode_ordinary(t) == encode_ordinary(t[:p]) + encode_ordinary(t[p:])``: the pieces from ``p`` on
depend only on ``t[p:]`` (the patterns have no look-behind and no ``^``), and each match that
starts before ``p`` is found identically in ``t[:p]``, because cutting the string only changes
tests *at or after* ``p``. A failing character test at ``p`` still fails at the end of the
string; a path that succeeded past ``p`` cannot be the chosen one (that match would cross the
piece boundary); and the two constructs that *succeed* at the end of the string, ``(?!\\S)`` and
``$``, are only reached after ``\\s+``/``\\s++`` matched the character before ``p``, which is not
whitespace. Cuts are found from character pairs ``(x, y) = (t[p-1], t[p])`` that no piece can
contain (*forced* boundaries), read off the two patterns:

* R1, any encoding: ``x`` not whitespace, ``y`` whitespace other than CR/LF (no alternative lets
  whitespace follow a non-whitespace character, except ``[\\r\\n]`` after punctuation).
* R2: ``x`` is CR or LF and ``y`` is not whitespace (for o200k also not ``/``, which
  ``[\\r\\n/]*`` can append after punctuation). Here ``x`` is whitespace, so (b) is argued
  directly: the piece ending at ``p`` is either a punctuation run whose possessive/greedy CR/LF
  tail stops at ``y`` and at the end of the string alike, or the whitespace run, which
  ``\\s*[\\r\\n]+`` (o200k) / ``\\s++$`` or ``\\s*[\\r\\n]`` (cl100k) match up to exactly ``p`` in
  both strings.
* R3: ``x`` an ASCII letter or digit and ``y`` CR or LF.

R1-R3 need no Unicode tables (whitespace is the fixed White_Space set), so they are used on all
text. Inside a long stretch without them, class rules are used too (letter/number -> other
punctuation, anything -> number, number -> non-number, lower -> upper case for o200k, letter ->
apostrophe that starts no contraction, after a contraction that ends a run of letters no
apostrophe precedes: in o200k an apostrophe and letters after a piece's own contraction start
the next piece, so ``a'll'st`` is ``a'll`` + ``'st``), and a walker runs the encoding's
own pattern with the ``regex`` module (as ``tiktoken``'s own ``_encode_only_native_bpe`` does) to
find each piece. Inside a run of ASCII digits pieces are groups of three from the run's start.
Every piece the walker finds is a boundary too, so walking and cutting compose.

**2. Unicode tables.** Class rules and the walker use the ``regex`` module's Unicode tables, which
must agree with the Rust ``regex`` crate's inside ``tiktoken`` (today Unicode 17 against 16). They
do for ASCII and for every character assigned in Python's ``unicodedata`` version, provided
``tiktoken`` knows that version (probed once with a letter new in it) -- except U+0295, which
changed category. A stretch containing any other character (unassigned in ``unicodedata``, or
U+0295) is left to ``tiktoken`` (exact, not faster), except the tail of each long whitespace run,
whose pieces do not depend on character classes (``_Splitter._uncertain``): that is what it
panics on. Lone surrogates are first replaced exactly as ``tiktoken`` does (UTF-16 round trip).

**3. Long pieces (byte-pair merge).** tiktoken's merge repeatedly merges the adjacent pair whose
concatenation has the lowest rank, leftmost on ties, until no pair is a token. Write ``BPE(s)``.

* *No crossing.* If ``BPE(XY)`` has a token boundary at ``|X|`` then ``BPE(XY) = BPE(X) +
  BPE(Y)``: parts only grow, so no merge ever crossed ``|X|``; every merge chosen on the ``X``
  side was the lowest (leftmost) among ``X``'s pairs, so ``X``'s side replays ``BPE(X)`` and stops
  where it stops; the same for ``Y``.
* *Gluing.* If ``BPE(XT)`` has a boundary at ``|X|`` and ``BPE(TU)`` one at ``|T|`` (``T``
  non-empty), then ``BPE(XTU) = BPE(X) + BPE(T) + BPE(U)``. Take the first merge of ``BPE(XTU)``
  that crosses either boundary. Before it, the ``X``+``T`` side makes exactly the moves of
  ``BPE(XT)`` and the ``T``+``U`` side those of ``BPE(TU)`` (a step elsewhere changes neither
  side's pairs, and ties are broken by position the same way), so that merge would be the lowest
  pair in ``BPE(XT)`` or ``BPE(TU)`` at the same state: a crossing there, a contradiction.
* *Chain.* If the segments ``S1..Sm`` of a piece satisfy ``BPE(Si Si+1) = BPE(Si) + BPE(Si+1)``
  for every ``i``, then ``BPE(S1..Sm) = BPE(S1) + ... + BPE(Sm)`` (induction with gluing).

``_bpe_long`` encodes a long piece in overlapping windows of about ``window`` bytes. Each window
starts at the previous overlap ``T`` (one token), must reproduce the token boundary at the end of
``T`` (checked), and contributes its tokens up to a new overlap chosen ``margin`` bytes before its
end; by *no crossing* every window prefix ending at a token boundary is ``BPE`` of that prefix, so
each pair of consecutive segments is verified and the *chain* gives the exact result. Each byte
is encoded about once (a window equal to the previous one, as in a run of one character, is
not encoded again). Windows are longer than any token, so ``encode_single_piece`` runs the pure
merge on them (it short-cuts only a piece that is itself a token, as ``encode_ordinary`` does for
whole pieces). If a check fails (never seen on real vocabularies, but possible in principle) the
whole piece is re-encoded by ``tiktoken`` (exact, just slower).
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import tiktoken

# White_Space, as the Rust regex crate's \s (stable since Unicode 6.3). Not str.isspace, which
# also accepts U+001C..U+001F.
_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WS_SET = frozenset("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    map(chr, range(0x2000, 0x200B))
)
_WS_RE = re.compile(f"[{_WS}]")
_NOT_WS_RE = re.compile(f"[^{_WS}]")
_ASCII_DIGITS_RE = re.compile("[0-9]*")
_ALNUM_ASCII = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

# Forced boundaries that need Unicode classes (used only inside a guarded stretch). Each match
# ends at the cut. Shared: R1, CR/LF after a letter or number, number boundaries.
_CUTS_COMMON = r"""
  \S(?=[^\S\r\n])
| [\p{L}\p{N}](?=[\r\n])
| [^\s\p{N}](?=\p{N})
| \p{N}(?=\P{N})
"""
_CUTS = {
    "o200k": _CUTS_COMMON
    + r"""
| [\r\n](?=[^\s/])
| [\p{L}\p{N}](?=[^\s\p{L}\p{N}\p{M}'])
| \p{L}(?='(?!(?i:s|t|re|ve|m|ll|d)))
| \p{Ll}(?=[\p{Lu}\p{Lt}])
| (?<=(?<![\p{L}'])\p{L}+)'(?i:s|t|re|ve|m|ll|d)
""",
    "cl100k": _CUTS_COMMON
    + r"""
| [\r\n](?=\S)
| [\p{L}\p{N}](?=[^\s\p{L}\p{N}])
| (?<=[\p{L}\p{N}])'(?i:[sdmt]|ll|ve|re)
""",
}
# A letter first assigned in each Unicode version: if tiktoken's tables classify it as a letter,
# they know every character Python's unicodedata knows.
_SENTINEL_LETTER = {
    "14.0.0": 0x1E290,
    "15.0.0": 0x11F04,
    "15.1.0": 0x2EBF0,
    "16.0.0": 0x10D50,
    "17.0.0": 0x10940,
}
_CHANGED_CATEGORY = "\u0295"  # Ll in Python's Unicode 14 tables, Lo in later ones


class UnprocessableText(Exception):
    """tiktoken itself had to take a stretch and panicked on it (module docstring, section 2)."""


@dataclass(frozen=True)
class Limits:
    """Sizes of the splitter; tests shrink them to reach every path with small texts."""

    chunk: int = 65536  # at most this many characters go to tiktoken per call (+ probe)
    probe: int = 256  # characters searched for a class cut before walking pieces
    big_piece: int = 4096  # pieces of at least this many bytes use the windowed merge
    window: int = 8192  # bytes per window of the windowed merge
    margin: int = 512  # bytes between a window's chosen overlap and its end


DEFAULT_LIMITS = Limits()


class _Tables:
    """Per-encoding data. The walker, class cuts and token lengths are built on first need."""

    def __init__(self, enc: tiktoken.Encoding, family: str) -> None:
        self.enc = enc
        self.core = enc._core_bpe
        self.family = family
        self.slash_ends_r2 = family == "o200k"

    @functools.cached_property
    def _regex(self) -> Any:
        import regex  # tiktoken's own dependency; loaded only when a stretch needs it

        return regex

    @functools.cached_property
    def walker(self) -> Any:
        return self._regex.compile(self.enc._pat_str)

    @functools.cached_property
    def cuts(self) -> Any:
        return self._regex.compile(_CUTS[self.family], self._regex.VERBOSE)

    @functools.cached_property
    def token_len(self) -> list[int]:
        ranks = self.enc._mergeable_ranks
        lengths = [0] * (max(ranks.values()) + 1)
        for token, rank in ranks.items():
            lengths[rank] = len(token)
        return lengths

    @functools.cached_property
    def unicode_ok(self) -> bool:
        """Whether tiktoken's and the regex module's tables know Python's unicodedata version."""
        code = _SENTINEL_LETTER.get(unicodedata.unidata_version)
        if code is None:
            return False
        c = chr(code)
        if unicodedata.category(c)[0] != "L" or not self._regex.match(r"\p{L}", c):
            return False
        single = self.core.encode_single_piece
        got = self.enc.encode_ordinary(c + "'s")
        if self.family == "o200k":
            as_letter = single((c + "'s").encode())
        else:
            as_letter = single(c.encode()) + single(b"'s")
        as_other = single((c + "'").encode()) + single(b"s")
        return bool(got == as_letter and got != as_other)


_lock = threading.Lock()
_tables: dict[str, _Tables | None] = {}


def _tables_for(enc: tiktoken.Encoding) -> _Tables | None:
    tables = _tables.get(enc.name, False)
    if tables is not False:
        return tables  # type: ignore[return-value]
    with _lock:
        if enc.name not in _tables:
            from .tokenizer import _CL100K_PATTERN, _O200K_PATTERN

            family = {_O200K_PATTERN: "o200k", _CL100K_PATTERN: "cl100k"}.get(enc._pat_str)
            _tables[enc.name] = _Tables(enc, family) if family else None
        return _tables[enc.name]


def _certain(s: str) -> bool:
    """Whether every character of `s` is classified alike by tiktoken and the regex module."""
    if s.isascii():
        return True
    if _CHANGED_CATEGORY in s:
        return False
    if s.isprintable():  # no unassigned (Cn) character
        return True
    category = unicodedata.category
    return all(category(c) != "Cn" for c in set(s))


@functools.lru_cache(maxsize=8)
def _long_whitespace(length: int) -> re.Pattern[str]:
    return re.compile(f"[{_WS}]{{{length},}}")


def robust_cut(text: str, lo: int, hi: int, slash_ends_r2: bool) -> int | None:
    """The first safe cut p, lo <= p < hi (lo >= 1), by R1-R3: independent of Unicode tables.

    `slash_ends_r2`: o200k's pattern can append ``/`` to a CR/LF tail, so R2 excludes it.
    """
    i = lo
    while True:
        m = _WS_RE.search(text, i, hi)
        if m is None:
            return None
        j = m.start()
        x = text[j - 1]
        if x not in _WS_SET and (text[j] not in "\r\n" or x in _ALNUM_ASCII):
            return j  # R1 / R3
        m = _NOT_WS_RE.search(text, j, hi)
        if m is None:
            return None
        k = m.start()
        if text[k - 1] in "\r\n" and not (slash_ends_r2 and text[k] == "/"):
            return k  # R2
        i = k + 1


def safe_spans(text: str, chunk: int, slash_ends_r2: bool) -> Iterator[tuple[int, int]]:
    """Spans ``[a, b)`` that cover `text`, each ending at a safe cut (section 1).

    Each is about `chunk` characters (between half and all of it) where R1-R3 offer a cut in
    time; a stretch without one runs to the next cut, or to the end. The fast engine encodes a
    long text span by span: the ids are the same (each cut is safe for the encoding's pattern)
    and the engine, which holds the GIL while it encodes, lets other threads run between spans.
    """
    n, half, pos = len(text), max(1, chunk // 2), 0
    while n - pos > chunk:
        cut = robust_cut(text, pos + half, pos + chunk, slash_ends_r2)
        if cut is None:
            cut = robust_cut(text, pos + chunk, n, slash_ends_r2)
            if cut is None:
                break
        yield pos, cut
        pos = cut
    yield pos, n


def _tiktoken(enc: tiktoken.Encoding, text: str) -> list[int] | None:
    """tiktoken's own ids, or None if it panicked."""
    try:
        ids: list[int] = enc._core_bpe.encode_ordinary(text)
        return ids
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException:  # noqa: BLE001 - pyo3's PanicException derives from BaseException
        return None


def encode_long(enc: tiktoken.Encoding, text: str, limits: Limits = DEFAULT_LIMITS) -> list[int]:
    """Exactly ``enc.encode_ordinary(text)``, in linear time and without tiktoken panics.

    Raises ``UnprocessableText`` only when tiktoken itself must take a stretch it cannot process
    (module docstring, section 2).
    """
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: what tiktoken's encode_ordinary does
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    tables = _tables_for(enc)
    if tables is None:  # an encoding whose pattern this module has not been checked against
        ids = _tiktoken(enc, text)
        if ids is None:
            raise UnprocessableText(f"{len(text)} characters")
        return ids
    return _Splitter(tables, text, limits).run()


class _Splitter:
    def __init__(self, tables: _Tables, text: str, limits: Limits) -> None:
        self.t = tables
        self.text = text
        self.limits = limits
        self.out: list[int] = []

    def run(self) -> list[int]:
        text, chunk = self.text, self.limits.chunk
        n, half = len(text), max(1, chunk // 2)
        pos = 0
        while pos < n:
            if n - pos <= chunk:
                self._tiktoken(pos, n)
                break
            cut = self._robust_cut(pos + half, pos + chunk)
            if cut is not None:
                self._tiktoken(pos, cut)
                pos = cut
                continue
            end = self._robust_cut(pos + chunk, n)
            end = n if end is None else end
            self._stretch(pos, end)
            pos = end
        return self.out

    def _robust_cut(self, lo: int, hi: int) -> int | None:
        return robust_cut(self.text, lo, hi, self.t.slash_ends_r2)

    def _tiktoken(self, a: int, b: int) -> None:
        """Ids of text[a:b], a piece start and a safe cut, by tiktoken (bounded size)."""
        ids = _tiktoken(self.t.enc, self.text[a:b])
        if ids is None:  # not expected below the panic size; walk it instead
            self._stretch(a, b, use_tiktoken=False)
        else:
            self.out += ids

    def _stretch(self, a: int, b: int, use_tiktoken: bool = True) -> None:
        """Ids of text[a:b] (a piece start, b a safe cut) that has no R1-R3 cut for a while."""
        text, limits = self.text, self.limits
        stretch = text[a:b]
        if not (stretch.isascii() or (self.t.unicode_ok and _certain(stretch))):
            self._uncertain(a, b)
            return
        del stretch
        chunk, probe = limits.chunk, limits.probe
        half = max(1, chunk // 2)
        pos = a
        while pos < b:
            if use_tiktoken and b - pos <= chunk:
                self._tiktoken(pos, b)
                return
            if use_tiktoken:
                cut = self._class_cut(pos + half, pos + half + probe, b)
                if cut is not None:
                    self._tiktoken(pos, cut)
                    pos = cut
                    continue
            pos = self._walk(pos, pos + half, b)

    def _uncertain(self, a: int, b: int) -> None:
        """text[a:b] (a piece start, b a safe cut) has characters only tiktoken can classify.

        tiktoken takes it, except the tail of each long whitespace run, which would make it
        panic. Let the run be [u, v) and c the position after its last CR/LF (u if it has none).
        The pieces there do not depend on character classes: [c, v-1) is one piece (o200k and
        cl100k: ``\\s+(?!\\S)``; up to the end of the text for o200k), ``c`` is a safe cut (the
        piece before it ends with the run's last CR/LF, matched by ``\\s*[\\r\\n]+`` or a
        punctuation run's CR/LF tail in both strings, and ``\\s++$`` in cl100k's cut string
        matches the same span), and v-1 starts a piece.
        """
        text, limits, out = self.text, self.limits, self.out
        n, pos = len(text), a
        for m in _long_whitespace(limits.chunk).finditer(text, a, b):
            u, v = m.span()
            last = max(text.rfind("\r", u, v), text.rfind("\n", u, v))
            c = last + 1 if last >= 0 else u
            if v < n:
                end = v - 1
            elif self.t.family == "o200k":
                end = n
            else:
                continue  # cl100k's possessive \s++$ takes a final run without a panic
            if end - c < limits.chunk:
                continue
            if c > pos:
                self._tiktoken_or_fail(pos, c)
            out += _bpe_long(self.t, text[c:end].encode(), limits)
            pos = end
        if b > pos:
            self._tiktoken_or_fail(pos, b)

    def _tiktoken_or_fail(self, a: int, b: int) -> None:
        ids = _tiktoken(self.t.enc, self.text[a:b])
        if ids is None:
            raise UnprocessableText(f"{b - a} characters at offset {a}")
        self.out += ids

    def _class_cut(self, lo: int, hi: int, end: int) -> int | None:
        """The first class-rule cut p, lo <= p <= hi (inside a guarded stretch ending at end)."""
        m = self.t.cuts.search(self.text, lo - 1, min(end, hi + 4))
        if m is None:
            return None
        cut: int = m.end()
        return None if cut > hi or cut < lo else cut

    def _walk(self, pos: int, until: int, end: int) -> int:
        """Encode the pieces from pos (a piece start) until past `until`; return the position."""
        text, core, out = self.text, self.t.core, self.out
        big = self.limits.big_piece
        match = self.t.walker.match
        while pos < until and pos < end:
            if "0" <= text[pos] <= "9":  # a piece of digits starts here
                stop = min(end, pos + max(6, self.limits.chunk))
                digits = _ASCII_DIGITS_RE.match(text, pos, stop).end() - pos  # type: ignore[union-attr]
                if digits >= 6:  # pieces are groups of three from here: hand them over whole
                    stop = pos + digits - digits % 3
                    out += core.encode_ordinary(text[pos:stop])
                    pos = stop
                    continue
            m = match(text, pos, end)
            if m is None or m.end() <= pos:  # every character starts a piece; cannot happen
                raise RuntimeError(f"pre-tokenizer found no piece at offset {pos}")
            piece = text[pos : m.end()].encode()
            if len(piece) >= big:
                out += _bpe_long(self.t, piece, self.limits)
            else:
                out += core.encode_single_piece(piece)
            pos = m.end()
        return pos


def _bpe_long(tables: _Tables, piece: bytes, limits: Limits) -> list[int]:
    """BPE of one long piece by verified windows (module docstring, section 3)."""
    single: Callable[[bytes], list[int]] = tables.core.encode_single_piece
    length = tables.token_len
    window, margin = limits.window, limits.margin
    n = len(piece)
    if n <= window + 2 * margin:
        return single(piece)
    out: list[int] = []
    lo = t1 = 0  # the window starts at the overlap [lo, t1) whose end must stay a boundary
    last_bytes, last_ids = (
        b"",
        list[int](),
    )  # runs of one character repeat their windows: reuse them
    while True:
        hi = n if n - t1 <= window + 2 * margin else t1 + window
        chunk = piece[lo:hi]
        if chunk == last_bytes:
            ids = last_ids
        else:
            ids = last_ids = single(chunk)
            last_bytes = chunk
        i = off = 0
        while off < t1 - lo:
            off += length[ids[i]]
            i += 1
        if off != t1 - lo:
            return single(piece)  # the overlap's end moved: fall back to one exact merge
        if hi == n:
            out += ids
            return out
        j, off = len(ids), hi - lo
        while j > 0 and off > hi - lo - margin:
            j -= 1
            off -= length[ids[j]]
        if j - 1 < max(i, 1):
            return single(piece)  # window too small to place a new overlap
        t3 = lo + off
        t2 = t3 - length[ids[j - 1]]
        out += ids[: j - 1]
        lo, t1 = t2, t3

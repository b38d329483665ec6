"""The fast BPE engine: ``rs_bpe``, used for token ids and counts when it is present and exact.

``rs_bpe`` (Python bindings of GitHub's ``bpe`` / ``bpe-openai`` crates) encodes ordinary text
to exactly tiktoken's ids for o200k and cl100k, 1.1-2x faster on prose and code, 2-3x on JSON and
CJK, 6-30x on runs of one character, and in linear time on any input: it neither panics nor slows
down on long whitespace runs or huge pre-token pieces (bench/README.md, "Engines"). Its
vocabularies are compiled into it, so building o200k takes ~70 ms instead of tiktoken's ~300-500
ms. tiktoken stays the reference and the fallback:

* ``INPUTTOKENS_TOKENIZER_ENGINE`` picks the engine: ``auto`` (default: rs_bpe if it loads and
  passes the self-check, else tiktoken), ``rs_bpe`` (the same, with a warning when it cannot be
  used) or ``tiktoken`` (never the engine). It is read when an encoding is first built:
  encodings are shared by the whole process, so the choice is the process's, not a request's.
* At build time the engine must reproduce, for a fixed set of tricky strings, ids pinned from
  tiktoken (``SELF_CHECK_SHA256``; tests/test_engine_parity.py checks the pins against tiktoken
  itself). Its vocabulary is compiled in, not read from our hash-checked rank files, so this is
  what ties it to them; on any mismatch it is not used and a warning is logged.

Semantics are ``encode_ordinary``'s: special-token text is plain text (the engine has no
special tokens), and lone surrogates, which the engine refuses, are replaced the way tiktoken
replaces them (a UTF-16 round trip turns each into U+FFFD).
"""

from __future__ import annotations

import hashlib
import logging
import os
from array import array
from typing import Protocol

log = logging.getLogger("inputtokens")

ENGINE_ENV = "INPUTTOKENS_TOKENIZER_ENGINE"
ENGINE_CHOICES = ("auto", "rs_bpe", "tiktoken")

# The engine's vocabulary for each of our encodings (o200k_harmony encodes ordinary text
# exactly as o200k_base: same ranks, same pattern; only its special tokens differ).
_ENGINE_VOCAB = {
    "o200k_base": "o200k_base",
    "o200k_harmony": "o200k_base",
    "cl100k_base": "cl100k_base",
}

# Strings that exercise each alternative of both pre-tokenizer patterns, the byte-level merge
# of non-ASCII text, a long piece and the surrogate path. Their ids, as tiktoken's
# encode_ordinary gives them, are pinned below as a SHA-256 of the ids (uint32, little-endian).
SELF_CHECK_TEXTS = (
    "",
    "Hello world! It's 2025; they'll've 1234567 apples.",
    "I'M DON'T you'RE \"quoted\" 'single' HTTPServer getHTTPResponse",
    "   leading and trailing   \n\n  \r\n\t x \r \n",
    "<|endoftext|> <|im_start|>user<|im_end|> <|endofprompt|> <|start|>",
    "👩‍👩‍👧‍👦 🇵🇹 ❤️ e\u0301 a\u0308\u0323 \u00a0\u2003\u3000",
    "你好，世界。日本語のテキストです。안녕하세요 Привет мир العربية हिन्दी",
    'def f(x):\n    return {"a": [1, 2.5, null], "b": "\\u00e9"}  # path/to/file\n',
    "x" * 3000 + " " * 3000 + "end",
    "lone \ud800 surrogates \udfff and a pair \ud83d\ude00",
)
SELF_CHECK_SHA256 = {
    "o200k_base": "fd082d95adc11c5a587a3af708e58497ac8e3e8be8755917b1e66f7b36df76d4",
    "cl100k_base": "9f065df93a751803283d1f4b7a2f7efcc759499bf852ae1caf83c39550e69da4",
}


class Engine(Protocol):
    """What the tokenizer needs of an engine: ordinary ids and their count."""

    def encode(self, text: str) -> list[int]: ...

    def count(self, text: str) -> int: ...


def without_surrogates(text: str) -> str:
    """`text` with lone surrogates replaced as tiktoken's ``encode_ordinary`` replaces them."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def ids_digest(ids_per_text: list[list[int]]) -> str:
    """SHA-256 of the ids of each text, each list followed by a separator (0xFFFFFFFF)."""
    h = hashlib.sha256()
    for ids in ids_per_text:
        h.update(array("I", [*ids, 0xFFFFFFFF]).tobytes())
    return h.hexdigest()


def engine_choice() -> str:
    """The configured choice (``INPUTTOKENS_TOKENIZER_ENGINE``), ``auto`` when unset or unknown."""
    choice = os.environ.get(ENGINE_ENV, "auto").strip().lower() or "auto"
    if choice not in ENGINE_CHOICES:
        log.warning("%s=%r is not one of %s; using auto", ENGINE_ENV, choice, ENGINE_CHOICES)
        return "auto"
    return choice


def _load_rs_bpe(vocab: str) -> Engine:
    from rs_bpe.bpe import openai

    tokenizer: Engine = {"o200k_base": openai.o200k_base, "cl100k_base": openai.cl100k_base}[
        vocab
    ]()
    return tokenizer


def self_check(engine: Engine, vocab: str) -> bool:
    """Whether `engine` gives tiktoken's pinned ids (and counts) on ``SELF_CHECK_TEXTS``."""
    texts = [without_surrogates(t) for t in SELF_CHECK_TEXTS]
    ids = [list(engine.encode(t)) for t in texts]
    counts_agree = all(engine.count(t) == len(i) for t, i in zip(texts, ids, strict=True))
    return counts_agree and ids_digest(ids) == SELF_CHECK_SHA256[vocab]


def load_engine(encoding: str) -> Engine | None:
    """The engine for `encoding`, or None: tiktoken then encodes (see the module docstring)."""
    choice = engine_choice()
    vocab = _ENGINE_VOCAB.get(encoding)
    if choice == "tiktoken" or vocab is None:
        return None
    try:
        engine = _load_rs_bpe(vocab)
        if self_check(engine, vocab):
            return engine
        reason = "its ids differ from tiktoken's on the self-check strings"
    except ImportError:
        if choice == "rs_bpe":
            log.warning("%s=rs_bpe but rs_bpe is not installed; using tiktoken", ENGINE_ENV)
        return None
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException as exc:  # noqa: BLE001 - a pyo3 panic derives from BaseException
        reason = f"it failed to load ({type(exc).__name__}: {exc})"
    log.warning("rs_bpe is not used for %s: %s; using tiktoken", encoding, reason)
    return None

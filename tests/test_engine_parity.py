"""The fast engine (core/engine.py, rs_bpe) gives exactly tiktoken's ids, and falls back to it.

tiktoken's ``encode_ordinary`` on the same packaged vocabulary is the reference throughout.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import inputtokens
from inputtokens.core import engine, tokenizer
from inputtokens.core.splitting import encode_long
from inputtokens.core.tokenizer import count_cached, count_text, encode_text, get_encoding

ENCODINGS = ("o200k_base", "cl100k_base")
ROOT = Path(__file__).resolve().parents[1]
ACCURACY_DIR = ROOT.parent / "shared" / "accuracy"

EDGE_CASES = [
    "",
    " ",
    "\n",
    "   ",
    " " * 100 + "x",
    "\t \t\n \n",
    "a\r\nb\rc\n\rd\r\r\n\n",
    "\r\n" * 50,
    "  \r\n  x  \n\n  y",
    "it's I'M we'll they'VE she'd you're DON'T o'clock ''s 's",
    "0 12 123 1234 12345 3.14159 1,000,000 ٣٤٥ ½ Ⅻ",
    "😀 👍🏽 🇵🇹🇧🇷 ❤️‍🔥 1️⃣",
    "👩‍👩‍👧‍👦 👨🏻‍💻 🏳️‍🌈",
    "e\u0301 n\u0303 a\u0308\u0323 \u0915\u094d\u0937 Z\u0351\u0352\u0353",
    "中文文本，带有标点。日本語のひらがなとカタカナ。한국어 텍스트입니다.",
    "\ud800",
    "lone \udc00 low and \ud83d high, and a pair \ud83d\ude00",
    "<|endoftext|>",
    "<|endoftext|><|im_start|>system<|im_sep|>hi<|im_end|><|endofprompt|><|start|><|message|>",
    "\u00a0\u2000\u2003\u200b\u3000\u2028\u2029\u0085 mixed spaces",
    "HTTPServer getHTTPResponse camelCase snake_case kebab-case SCREAMING_CASE",
    "path/to/file.py\n/usr/bin/env\n//comment\n\n/",
    '{"key": [1, 2.5, -3e10, null, true], "ünï": "\\u00e9\\n"}',
    "x" * 5000,
    "ab" * 3000,
    "!" * 2000 + "?" * 10,
    "\x00\x01\x1f\x7f control",
]


def _reference(name: str, text: str) -> list[int]:
    ids: list[int] = get_encoding(name).encode_ordinary(text)
    return ids


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _corpus() -> list[str]:
    """The repository's README and docs, and the texts of the recorded accuracy cases."""
    texts = [p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *ROOT.glob("docs/*.md")]]
    for path in (ACCURACY_DIR / "cases.jsonl", ACCURACY_DIR / "responses_more.jsonl"):
        if path.exists():  # the shared cases sit beside the repository in a checkout of both
            with path.open(encoding="utf-8") as lines:
                found = {s for line in lines if line.strip() for s in _strings(json.loads(line))}
            texts.append("\n".join(sorted(found)))
    return texts


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return _corpus()


@pytest.mark.parametrize("name", ENCODINGS)
def test_the_engine_is_used(name: str) -> None:
    enc = get_encoding(name)
    assert enc.engine is not None  # rs_bpe is a dependency and passes its self-check


@pytest.mark.parametrize("name", ENCODINGS)
def test_pinned_self_check_ids_are_tiktoken_s(name: str) -> None:
    ids = [_reference(name, t) for t in engine.SELF_CHECK_TEXTS]
    assert engine.ids_digest(ids) == engine.SELF_CHECK_SHA256[name]


@pytest.mark.parametrize("name", ENCODINGS)
def test_corpus_ids_equal_tiktoken(name: str, corpus: list[str]) -> None:
    enc = get_encoding(name)
    for text in corpus:
        expected = _reference(name, text)
        assert encode_text(enc, text) == expected, text[:60]
        assert count_text(enc, text) == len(expected)


@pytest.mark.parametrize("name", ENCODINGS)
@pytest.mark.parametrize("text", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_edge_cases_equal_tiktoken(name: str, text: str) -> None:
    enc = get_encoding(name)
    expected = _reference(name, text)
    assert encode_text(enc, text) == expected
    assert count_text(enc, text) == count_cached(enc, text) == len(expected)


@pytest.mark.parametrize("name", ENCODINGS)
def test_long_pathological_texts_equal_the_splitter(name: str) -> None:
    """Past the direct-call size the engine takes a text span by span (whole where no cut is
    found); the splitter, exact by construction, is the reference here."""
    enc = get_encoding(name)
    n = 150_000
    mixed = "Tell me\r\n/usr/bin x\n\nok. 12345 \u3000 it's\r\n\r\n" * (n // 40)
    for text in (" " * n + "x", "a" * n, "ab1" * (n // 3), "\n" * n, "é" * n, "x " * n, mixed):
        expected = encode_long(enc, text)
        assert encode_text(enc, text) == expected, text[:8]
        assert count_text(enc, text) == len(expected)


_TRICKY = " \t\r\n\u00a0\u3000'sStT1234aZé\u0301中😀\u200d/.!?-_<|>\ud800\udc00"
_texts = st.one_of(
    st.text(alphabet=st.sampled_from(_TRICKY), max_size=60),
    st.text(st.characters(exclude_categories=()), max_size=40),  # surrogates included
)


@settings(max_examples=300, deadline=None, database=None)
@given(text=_texts)
def test_fuzz_equals_tiktoken(text: str) -> None:
    for name in ENCODINGS:
        expected = _reference(name, text)
        enc = get_encoding(name)
        assert encode_text(enc, text) == expected
        assert count_text(enc, text) == len(expected)


class _WrongEngine:
    """An engine that drops the last token: the self-check must catch it."""

    def __init__(self, real: engine.Engine) -> None:
        self.real = real

    def encode(self, text: str) -> list[int]:
        return self.real.encode(text)[:-1]

    def count(self, text: str) -> int:
        return len(self.encode(text))


def test_a_mismatching_engine_is_not_used(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_load = engine._load_rs_bpe
    monkeypatch.setattr(engine, "_load_rs_bpe", lambda vocab: _WrongEngine(real_load(vocab)))
    monkeypatch.setattr(tokenizer, "_encodings", {})  # build afresh, restored afterwards
    with caplog.at_level(logging.WARNING, logger="inputtokens"):
        enc = get_encoding("o200k_base")
    assert enc.engine is None
    assert "differ from tiktoken" in caplog.text
    text = "Tell me a joke, <|endoftext|> \ud800"
    assert encode_text(enc, text) == enc.encode_ordinary(text)
    assert count_text(enc, text) == len(enc.encode_ordinary(text))


def test_an_engine_that_fails_to_load_is_not_used(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(vocab: str) -> engine.Engine:
        raise RuntimeError("no vocabulary")

    monkeypatch.setattr(engine, "_load_rs_bpe", broken)
    with caplog.at_level(logging.WARNING, logger="inputtokens"):
        assert engine.load_engine("cl100k_base") is None
    assert "failed to load" in caplog.text


@pytest.mark.parametrize(
    ("choice", "used"), [("tiktoken", False), ("rs_bpe", True), ("auto", True), ("", True)]
)
def test_the_environment_variable_chooses(
    monkeypatch: pytest.MonkeyPatch, choice: str, used: bool
) -> None:
    monkeypatch.setenv(engine.ENGINE_ENV, choice)
    assert (engine.load_engine("o200k_harmony") is not None) is used


def test_a_forced_engine_that_is_missing_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def missing(vocab: str) -> engine.Engine:
        raise ImportError("No module named 'rs_bpe'")

    monkeypatch.setattr(engine, "_load_rs_bpe", missing)
    monkeypatch.setenv(engine.ENGINE_ENV, "rs_bpe")
    with caplog.at_level(logging.WARNING, logger="inputtokens"):
        assert engine.load_engine("o200k_base") is None
    assert "not installed" in caplog.text


def test_tiktoken_is_built_only_when_needed() -> None:
    """With the engine, tiktoken's core waits for what needs it (here: decoding ids)."""
    fresh = tokenizer.EngineEncoding(
        tokenizer.ENCODING_SPECS["cl100k_base"], engine.load_engine("cl100k_base")
    )
    assert encode_text(fresh, "hello world") == [15339, 1917]
    assert "_core_bpe" not in vars(fresh)
    assert fresh.decode_single_token_bytes(15339) == b"hello"
    assert fresh.n_vocab == get_encoding("cl100k_base").n_vocab
    assert "_core_bpe" in vars(fresh)


def test_a_count_in_a_fresh_process_does_not_build_tiktoken() -> None:
    """Start-up: import, o200k, a count, the verbose view's token strings and the count
    route's plain-text path (its probes) need only the engine and the token table, never
    tiktoken's core (~0.5 s and ~80 MB on a worker's first request)."""
    script = """
import json, inputtokens
from inputtokens.core.tokenizer import get_encoding
body = {"model": "gpt-5", "input": [{"role": "user", "content": "Tell me a joke. " * 9000}]}
n = inputtokens.count_input_tokens(body).input_tokens
plain = "_core_bpe" in vars(get_encoding("o200k_base"))
verbose = inputtokens.count_input_tokens(body, return_tokens=True)
built = "_core_bpe" in vars(get_encoding("o200k_base"))
from inputtokens.count.pipeline import CountOptions
from inputtokens.count.plain_text import PlainTextCounter
fast = PlainTextCounter(CountOptions()).count({"model": "gpt-5", "input": "Hi there"}, None)
built = built or "_core_bpe" in vars(get_encoding("o200k_base"))
print(json.dumps([n, len(verbose.tokens), verbose.token_strings[-1], plain, built, fast]))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INPUTTOKENS_")}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.returncode == 0, proc.stderr
    n, ids, last, plain, built, fast = json.loads(proc.stdout)
    assert n == ids and last and plain is False and built is False
    plain_body = {"model": "gpt-5", "input": "Hi there"}
    assert fast == inputtokens.count_input_tokens(plain_body).input_tokens


@pytest.mark.parametrize("name", ["o200k_base", "o200k_harmony", "cl100k_base"])
def test_token_strings_without_the_core_equal_tiktokens(name: str) -> None:
    """The token table gives each id the text tiktoken's own decoding gives, for ordinary ids
    (a token ending inside a UTF-8 character included), special and framing ids."""
    spec = tokenizer.ENCODING_SPECS[name]
    fresh = tokenizer.EngineEncoding(spec, engine.load_engine(name))
    reference = get_encoding(name)
    ids = encode_text(fresh, "héllo 世界 🎉 naïve <|endoftext|> \u00e9\u0301 " * 3)
    ids += sorted(spec.special_tokens.values())
    shown = tokenizer.token_strings(fresh, ids)
    assert "_core_bpe" not in vars(fresh)
    expected = tuple(
        reference.decode_single_token_bytes(t).decode("utf-8", errors="replace") for t in ids
    )
    assert shown == expected
    assert "\ufffd" in "".join(shown)  # the emoji's bytes span two tokens

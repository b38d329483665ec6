"""The offline encoding registry."""

from __future__ import annotations

import threading

import pytest

from inputtokens import TokenizationError
from inputtokens.tokenizer import ENCODING_SPECS, encode_text, get_encoding, special_token_id


def test_encodings_load_from_package_data_without_network() -> None:
    enc = get_encoding("o200k_base")
    assert enc.encode_ordinary("Tell me a joke.") == [60751, 668, 261, 41751, 13]
    assert get_encoding("cl100k_base").encode_ordinary("hello world") == [15339, 1917]
    assert get_encoding("o200k_base") is enc  # built once


def test_harmony_encoding_has_the_harmony_special_tokens() -> None:
    enc = get_encoding("o200k_harmony")
    assert special_token_id(enc, "<|start|>") == 200006
    assert special_token_id(enc, "<|message|>") == 200008
    assert special_token_id(enc, "<|call|>") == 200012
    assert enc.encode_ordinary("abc") == get_encoding("o200k_base").encode_ordinary("abc")


def test_unknown_encoding_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="o200k_base"):
        get_encoding("p99k")


def test_concurrent_first_loads_build_one_encoding() -> None:
    results = []

    def load() -> None:
        results.append(get_encoding("cl100k_base"))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(r) for r in results}) == 1


def test_special_token_syntax_in_text_is_ordinary_text() -> None:
    enc = get_encoding("o200k_base")
    assert len(encode_text(enc, "<|endoftext|>")) > 1


def test_pinned_hashes_match_the_packaged_files() -> None:
    for spec in ENCODING_SPECS.values():
        assert len(spec.sha256) == 64


def test_tokenizer_panic_becomes_a_400_naming_the_field() -> None:
    enc = get_encoding("o200k_base")
    with pytest.raises(TokenizationError) as info:
        encode_text(enc, " " * 1_000_000 + "x", "input[0].content")
    assert info.value.param == "input[0].content"
    assert info.value.status == 400

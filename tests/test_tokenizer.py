"""The offline encoding registry."""

from __future__ import annotations

import base64
import threading

import pytest

from inputtokens import TokenizationError
from inputtokens.core import splitting, tokenizer
from inputtokens.core.tokenizer import ENCODING_SPECS, encode_text, get_encoding, special_token_id


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


@pytest.mark.parametrize("spec", ENCODING_SPECS.values(), ids=lambda spec: spec.name)
def test_rank_files_list_ranks_in_line_order(spec: tokenizer.EncodingSpec) -> None:
    """_read_ranks does not parse the rank column: it relies on ranks being 0, 1, 2, ..."""
    lines = (tokenizer._VOCAB_DIR / spec.rank_file).read_bytes().splitlines()
    assert [int(line.split()[1]) for line in lines] == list(range(len(lines)))
    last = base64.b64decode(lines[-1].split()[0])
    assert get_encoding(spec.name).encode_single_token(last) == len(lines) - 1


def test_whitespace_run_tiktoken_panics_on_is_counted_exactly() -> None:
    enc = get_encoding("o200k_base")
    n = 1_000_000
    # The pieces: n-1 spaces (\s+(?!\S) leaves the last one to the word), then " x".
    expected = enc._core_bpe.encode_single_piece(b" " * (n - 1)) + enc.encode_ordinary(" x")
    assert encode_text(enc, " " * n + "x", "input[0].content") == expected


def test_long_texts_equal_tiktoken() -> None:
    enc = get_encoding("cl100k_base")
    text = "Tell me a joke about a cat. " * 5000 + "a" * 70_000 + "\n\n" + "ok " * 30_000
    assert len(text) > tokenizer._DIRECT_MAX
    assert encode_text(enc, text) == enc.encode_ordinary(text)


def test_text_only_tiktoken_can_take_and_cannot_process_is_a_400_naming_the_field(
    monkeypatch,
) -> None:
    def unprocessable(enc, text):
        raise splitting.UnprocessableText("test")

    monkeypatch.setattr(splitting, "encode_long", unprocessable)
    enc = get_encoding("o200k_base")
    monkeypatch.setattr(enc, "engine", None)  # the engine takes any text: this is tiktoken's path
    with pytest.raises(TokenizationError) as info:
        encode_text(enc, "x" * (tokenizer._DIRECT_MAX + 1), "input[0].content")
    assert info.value.param == "input[0].content"
    assert info.value.status == 400
    assert "input[0].content" in str(info.value)

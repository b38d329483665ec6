"""The shortcut for ``{"model", "input": str}`` bodies (count/plain_text.py) of the count
route and the library: the same count, and the same TokenCount, as the whole pipeline for
every model and text, and None (the pipeline answers) for any other body or any body the
pipeline would refuse."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inputtokens import count_input_tokens
from inputtokens.core.models import DEFAULT_REGISTRY
from inputtokens.core.result import TokenCount
from inputtokens.core.token_cache import TokenCountCache
from inputtokens.count.pipeline import DEFAULT_OPTIONS, count_request, prepare
from inputtokens.count.plain_text import PlainTextCounter
from inputtokens.settings import Settings

OFF = Settings(cache_entries=0)
TEXTS = [
    "Hi",
    "Tell me a joke about the sea, in two lines, and explain it afterwards in one sentence.",
    "<|endoftext|> special-token syntax <|im_start|> stays text",
    "  leading and trailing whitespace\n\n",
    "naïve café, Zürich — 東京 🎉",
]


def _pipeline_result(body: dict[str, Any]) -> TokenCount:
    """The whole pipeline's count, never the shortcut (which count_input_tokens takes)."""
    return count_request(prepare(body, DEFAULT_OPTIONS), models=DEFAULT_OPTIONS.models)


def _pipeline(body: dict[str, Any]) -> int:
    return _pipeline_result(body).input_tokens


# What may differ between two counts of one body: how long each took, what the cache gave.
_RUN_FIELDS = {"latency_ms", "cache_use", "pricer", "tool_splitter"}


def _value(result: TokenCount) -> dict[str, Any]:
    return {f: getattr(result, f) for f in TokenCount.__dataclass_fields__ if f not in _RUN_FIELDS}


def _shapes(text: str) -> list[Any]:
    """The `input` of each body shape the shortcut takes, for `text`."""
    return [
        text,
        [{"role": "user", "content": text}],
        [{"type": "message", "role": "user", "content": text}],
        [{"role": "user", "content": [{"type": "input_text", "text": text}]}],
        [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}],
    ]


# Instructions of each shape's body: none, null (absent), short, long (through the cache).
INSTRUCTIONS = [None, "Answer in one line.", "Be precise, cite sources, never guess. " * 4]


@pytest.mark.parametrize("model", sorted(DEFAULT_REGISTRY.models))
def test_every_model_counts_as_the_pipeline(model: str) -> None:
    counter = PlainTextCounter(DEFAULT_OPTIONS)
    cache = TokenCountCache(1000)
    bodies = [
        {"model": model, "input": sent, **({} if i is None else {"instructions": i})}
        for t in TEXTS
        for sent in _shapes(t)
        for i in INSTRUCTIONS
    ]
    bodies.append({"model": model, "input": TEXTS[1], "instructions": None})
    for body in bodies:
        try:
            expected: int | None = _pipeline(body)
        except Exception:  # noqa: BLE001 - a model the pipeline refuses: no shortcut either
            expected = None
        got = counter.count(body, cache)
        assert got is None or got == expected, (model, body)
        assert counter.count(body, None) == got  # the same without the content cache
        result = counter.result(body, cache)
        assert (result is None) == (got is None)
        if result is not None:
            assert _value(result) == _value(_pipeline_result(body)), (model, body)


def test_the_shortcut_applies_to_each_family() -> None:
    counter = PlainTextCounter(DEFAULT_OPTIONS)
    for model in ("gpt-5", "gpt-4o", "gpt-oss-120b"):
        body = {"model": model, "input": TEXTS[1]}
        assert counter.count(body, None) == _pipeline(body)
    assert counter.count({"input": "Hi"}, None) == _pipeline({"input": "Hi"})  # default model
    assert counter.count({"model": None, "input": "Hi"}, None) == _pipeline({"input": "Hi"})
    item = {"input": [{"role": "user", "content": "Hi"}]}
    assert counter.count(item, None) == _pipeline(item)  # one message, default model
    for model in ("gpt-5", "gpt-4o", "gpt-oss-120b", "o3"):  # one input_text part
        part = {"type": "input_text", "text": TEXTS[1]}
        body = {"model": model, "input": [{"role": "user", "content": [part]}]}
        got = counter.count(body, None)
        assert got is not None and got == _pipeline(body), model
        instructed = {**body, "instructions": "Be brief."}  # and with instructions
        got = counter.count(instructed, None)
        if model.startswith("gpt-oss"):
            # its instructions follow a heading in the developer message, in one text run:
            # not a segment of their own, so the pipeline counts them
            assert got is None
        else:
            assert got is not None and got == _pipeline(instructed) > _pipeline(body), model


@pytest.mark.parametrize(
    "body",
    [
        {"model": "gpt-5", "input": ""},  # empty_string
        {"model": "gpt-5", "input": [{"role": "system", "content": "Hi"}]},
        {"model": "gpt-5", "input": [{"role": "user", "content": "Hi", "phase": "final"}]},
        {"model": "gpt-5", "input": [{"type": "item_reference", "role": "user", "content": "Hi"}]},
        {"model": "gpt-5", "input": [{"role": "user", "content": [{"type": "input_text"}]}]},
        {"model": "gpt-5", "input": [{"role": "user", "content": [{"text": "Hi"}]}]},
        {
            "model": "gpt-5",
            "input": [{"role": "user", "content": [{"type": "input_text", "text": ""}]}],
        },
        {
            "model": "gpt-5",
            "input": [{"role": "user", "content": [{"type": "output_text", "text": "Hi"}]}],
        },
        {
            "model": "gpt-5",
            "input": [{"role": "user", "content": [{"type": "input_text", "text": 5}]}],
        },
        {
            "model": "gpt-5",
            "input": [{"role": "user", "content": [{"type": "input_text", "text": "Hi"}] * 2}],
        },
        {
            "model": "gpt-5",
            "input": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "input_text",
                            "text": "Hi",
                            "prompt_cache_breakpoint": {"type": "ephemeral"},
                        }
                    ],
                }
            ],
        },
        {"model": "gpt-5", "input": [{"role": "user", "content": ["Hi"]}]},
        {"model": "gpt-5", "input": [{"role": "user", "content": []}]},
        {"model": "gpt-5", "input": [{"role": "user", "content": "Hi"}] * 2},
        {"model": "gpt-5", "input": [{"role": "user", "content": ""}]},
        {"model": "gpt-5", "input": []},
        {"model": "gpt-5", "input": "Hi", "instructions": ""},
        {"model": "gpt-5", "input": "Hi", "instructions": 5},
        {"model": "gpt-5", "input": "Hi", "instructions": ["Be brief."]},
        {"model": "gpt-5", "input": "Hi", "truncation": "auto"},
        {"model": 5, "input": "Hi"},
        {"model": "no-such-model", "input": "Hi"},
        {"model": "gpt-5"},
        ["not", "an", "object"],
    ],
)
def test_other_bodies_go_to_the_pipeline(body: Any) -> None:
    assert PlainTextCounter(DEFAULT_OPTIONS).count(body, None) is None


def test_over_the_input_limit_goes_to_the_pipeline() -> None:
    counter = PlainTextCounter(DEFAULT_OPTIONS)
    text = "word " * 300_000  # over gpt-4o's 128,000
    assert counter.count({"model": "gpt-4o", "input": text}, None) is None


def test_model_names_are_bounded() -> None:
    counter = PlainTextCounter(DEFAULT_OPTIONS)
    for i in range(300):
        counter.count({"model": f"unknown-{i}", "input": "Hi"}, None)
    assert len(counter._framing) <= 256


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=300), st.sampled_from(["gpt-5", "gpt-4o", "gpt-oss-20b"]))
def test_any_text_counts_as_the_pipeline(text: str, model: str) -> None:
    body = {"model": model, "input": [{"role": "user", "content": text}] if len(text) % 2 else text}
    _check_counts_as_the_pipeline(body)


def _check_counts_as_the_pipeline(body: dict[str, Any]) -> None:
    """The shortcut's count of `body` is the pipeline's, or both fail (a random text may be
    one the tokenizer refuses)."""
    try:
        expected: int | None = _pipeline(body)
    except Exception:  # noqa: BLE001 - e.g. lone surrogates: the pipeline's error
        expected = None
    try:
        got = PlainTextCounter(DEFAULT_OPTIONS).count(body, TokenCountCache(100))
    except Exception:  # noqa: BLE001 - the same error, from the same tokenizer call
        assert expected is None
        return
    assert got == expected


@given(
    st.text(min_size=1, max_size=200),
    st.text(min_size=1, max_size=200),
    st.sampled_from(["gpt-5", "gpt-4o", "o3"]),
)
def test_any_instructions_count_as_the_pipeline(text: str, instructions: str, model: str) -> None:
    part = {"type": "input_text", "text": text}
    body = {
        "model": model,
        "instructions": instructions,
        "input": [{"role": "user", "content": [part]}],
    }
    _check_counts_as_the_pipeline(body)


def test_the_library_answers_plain_bodies_with_the_pipelines_value() -> None:
    body = {"model": "gpt-5", "input": TEXTS[1]}
    result = count_input_tokens(body, settings=OFF)
    assert _value(result) == _value(_pipeline_result(body))
    assert result.latency_ms is not None and result.cost_usd() is not None  # priced
    with_cache = count_input_tokens({"model": "gpt-4o", "input": TEXTS[1] + " again"})
    again = count_input_tokens({"model": "gpt-4o", "input": TEXTS[1] + " again"})
    assert with_cache.cache_use is not None and with_cache.cache_use.misses == 1
    assert again.cache_use is not None and again.cache_use.hits == 1
    assert again.input_tokens == with_cache.input_tokens
    ids = count_input_tokens(body, return_tokens=True)  # ids: the pipeline
    assert ids.tokens is not None and len(ids.tokens) == ids.input_tokens

"""Stored state in counts, through the library: chains of previous responses, conversations
and item references resolve from the store to the same count as the items sent inline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inputtokens import InvalidRequestError, Settings, count_input_tokens
from inputtokens.library import local_sources
from inputtokens.state.store import Store, store_for


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=str(tmp_path))


@pytest.fixture()
def store(settings: Settings) -> Store:
    return store_for(settings.store_url())


def _message(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "content": text}


def _response(
    resp_id: str, previous: str | None, answer: str, instructions: str | None = None
) -> dict[str, Any]:
    return {
        "id": resp_id,
        "object": "response",
        "created_at": 1,
        "status": "completed",
        "model": "gpt-5",
        "previous_response_id": previous,
        "instructions": instructions,
        "output": [
            {
                "type": "message",
                "id": f"msg_{resp_id}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": answer, "annotations": []}],
            }
        ],
    }


def _chain(store: Store) -> list[dict[str, Any]]:
    """Three stored turns; returns the items they hold, oldest first, as inline input."""
    inline: list[dict[str, Any]] = []
    previous = None
    for turn, (question, answer) in enumerate(
        [("Name a prime.", "7."), ("Another?", "11."), ("Their sum?", "18.")]
    ):
        resp_id = f"resp_{turn}"
        # Each turn had its own instructions; they are not carried to the next request.
        store.put_response(
            "",
            _response(resp_id, previous, answer, f"Turn {turn} rules."),
            [_message("user", question)],
        )
        inline += [_message("user", question), _message("assistant", answer)]
        previous = resp_id
    return inline


@pytest.mark.parametrize("model", ["gpt-5", "gpt-4o", "gpt-oss-120b"])
def test_previous_response_chain_counts_as_inline(
    settings: Settings, store: Store, model: str
) -> None:
    inline = _chain(store)
    body = {"model": model, "instructions": "Be terse.", "input": "And the product?"}
    chained = count_input_tokens(
        {**body, "previous_response_id": "resp_2"},
        settings=settings,
        sources=local_sources(settings),
    )
    expected = count_input_tokens(
        {**body, "input": [*inline, _message("user", "And the product?")]},
        settings=settings,
        sources=local_sources(settings),
    )
    assert chained.input_tokens == expected.input_tokens
    labels = [p.label for p in chained.parts]
    assert labels[-8:] == [*(f"previous_response[{i}]" for i in range(6)), "input", "priming"]


def test_a_shorter_chain_counts_fewer_turns(settings: Settings, store: Store) -> None:
    _chain(store)
    counts = [
        count_input_tokens(
            {"model": "gpt-5", "input": "Go on.", "previous_response_id": f"resp_{turn}"},
            settings=settings,
            sources=local_sources(settings),
        ).input_tokens
        for turn in range(3)
    ]
    assert counts[0] < counts[1] < counts[2]


def test_a_missing_link_of_the_chain_is_named(settings: Settings, store: Store) -> None:
    store.put_response("", _response("resp_b", "resp_gone", "x"), [_message("user", "y")])
    with pytest.raises(InvalidRequestError) as caught:
        count_input_tokens(
            {"model": "gpt-5", "input": "z", "previous_response_id": "resp_b"},
            settings=settings,
            sources=local_sources(settings),
        )
    assert caught.value.code == "previous_response_not_found"
    assert caught.value.param == "previous_response_id"
    assert "resp_gone" in str(caught.value)


def test_a_looping_chain_is_refused_not_walked_forever(settings: Settings, store: Store) -> None:
    store.put_response("", _response("resp_x", "resp_y", "a"), [_message("user", "b")])
    store.put_response("", _response("resp_y", "resp_x", "c"), [_message("user", "d")])
    with pytest.raises(InvalidRequestError) as caught:
        count_input_tokens(
            {"model": "gpt-5", "input": "e", "previous_response_id": "resp_x"},
            settings=settings,
            sources=local_sources(settings),
        )
    assert caught.value.param == "previous_response_id"


def test_stored_items_belong_to_their_owner(settings: Settings, store: Store) -> None:
    _chain(store)  # owner ""
    with pytest.raises(InvalidRequestError) as caught:
        count_input_tokens(
            {"model": "gpt-5", "input": "x", "previous_response_id": "resp_2"},
            settings=settings,
            sources=local_sources(settings, owner="someone-else"),
        )
    assert caught.value.code == "previous_response_not_found"


def test_truncation_auto_drops_stored_items_first(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path))
    store = store_for(settings.store_url())
    long_text = "word " * 70_000  # about 70k tokens a message: four exceed gpt-4o's window
    conv = store.create_conversation(
        "", {}, [_message("user", long_text), _message("assistant", long_text)]
    )
    body = {
        "model": "gpt-4o",
        "conversation": conv.id,
        "input": [_message("user", long_text), _message("user", "Short question?")],
    }
    with pytest.raises(InvalidRequestError) as caught:
        count_input_tokens(body, settings=settings, sources=local_sources(settings))
    assert caught.value.code == "context_length_exceeded"
    result = count_input_tokens(
        {**body, "truncation": "auto"}, settings=settings, sources=local_sources(settings)
    )
    assert result.dropped_items == 2
    assert [p.label for p in result.parts] == ["input[0]", "input[1]", "priming"]
    assert result.input_tokens <= 128_000


def test_reasoning_of_an_ended_stored_turn_is_not_counted(settings: Settings, store: Store) -> None:
    reasoning = {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "Thinking about primes at some length."}],
    }
    response = _response("resp_r", None, "7.")
    response["output"].insert(0, reasoning)
    store.put_response("", response, [_message("user", "Name a prime.")])
    chained = count_input_tokens(
        {"model": "gpt-5", "input": "Another?", "previous_response_id": "resp_r"},
        settings=settings,
        sources=local_sources(settings),
    )
    inline = count_input_tokens(
        {
            "model": "gpt-5",
            "input": [
                _message("user", "Name a prime."),
                reasoning,
                _message("assistant", "7."),
                _message("user", "Another?"),
            ],
        },
        settings=settings,
        sources=local_sources(settings),
    )
    without = count_input_tokens(
        {
            "model": "gpt-5",
            "input": [
                _message("user", "Name a prime."),
                _message("assistant", "7."),
                _message("user", "Another?"),
            ],
        },
        settings=settings,
        sources=local_sources(settings),
    )
    assert chained.input_tokens == inline.input_tokens == without.input_tokens

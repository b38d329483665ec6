"""The counting core: framing rules, breakdown, exactness and token ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inputtokens import InvalidRequestError, Settings, count_input_tokens
from inputtokens.core.tokenizer import get_encoding
from inputtokens.library import local_sources

O200K = get_encoding("o200k_base")


def n(text: str) -> int:
    return len(O200K.encode_ordinary(text))


def count(body: dict[str, Any]) -> int:
    return count_input_tokens(body).input_tokens


def test_reasoning_framing() -> None:
    assert count({"model": "gpt-5", "input": "Tell me a joke."}) == 11
    body = {
        "model": "o3",
        "instructions": "Be brief.",
        "input": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
    }
    assert count(body) == (4 + n("Be brief.")) + (4 + n("Hi")) + (6 + n("Hello")) + 2


def test_assistant_preamble_is_on_the_commentary_channel() -> None:
    """Hosted reasoning models: a preamble costs 7 + n, a final answer 6 + n; a phase-less
    message is a preamble only right before a tool call, and then flagged; gpt-oss and chat
    models keep their framing."""
    tool = {"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}
    call = {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}
    output = {"type": "function_call_output", "call_id": "c", "output": "ok"}
    user = {"role": "user", "content": "Hi"}

    def with_message(message: dict[str, Any], *after: dict[str, Any]) -> Any:
        body = {"model": "gpt-5.4", "tools": [tool], "input": [user, message, *after]}
        return count_input_tokens(body)

    final = with_message({"role": "assistant", "content": "On it."}, user)
    commentary = {"role": "assistant", "content": "On it.", "phase": "commentary"}
    assert with_message(commentary, user).input_tokens == final.input_tokens + 1
    assert with_message(commentary, user).exact
    before = with_message({"role": "assistant", "content": "On it."}, call, output)
    labelled = with_message(commentary, call, output)
    assert before.input_tokens == labelled.input_tokens and labelled.exact
    assert not before.exact and any("without a phase" in r for r in before.estimate_reasons)
    answer = {"role": "assistant", "content": "On it.", "phase": "final_answer"}
    assert with_message(answer, call, output).input_tokens == labelled.input_tokens - 1
    for model in ("gpt-oss-20b", "gpt-4o"):
        plain = {"role": "assistant", "content": "On it."}
        bodies = [
            {"model": model, "tools": [tool], "input": [user, m, call, output]}
            for m in (plain, commentary)
        ]
        assert count(bodies[0]) == count(bodies[1])


def test_chat_framing() -> None:
    body = {
        "model": "gpt-4o",
        "instructions": "Be brief.",
        "input": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
    }
    assert count(body) == 3 + (4 + n("Be brief.")) + (4 + n("Hi")) + (4 + n("Hello"))


def test_text_parts_of_one_message_are_concatenated() -> None:
    parts = [{"type": "input_text", "text": "Hello"}, {"type": "input_text", "text": " world"}]
    body = {"model": "gpt-5", "input": [{"role": "user", "content": parts}]}
    assert count(body) == 4 + n("Hello world") + 2


def test_empty_message_costs_its_framing() -> None:
    assert count({"model": "gpt-4o", "input": [{"role": "user", "content": ""}]}) == 3 + 4


def test_reasoning_effort_does_not_change_the_count() -> None:
    base = {"model": "gpt-5", "input": "Hi"}
    assert count({**base, "reasoning": {"effort": "high", "summary": "auto"}}) == count(base)


def test_default_model_applies_when_model_is_missing() -> None:
    result = count_input_tokens({"input": "Hi"}, settings=Settings(default_model="gpt-4o"))
    assert result.model == "gpt-4o"
    assert result.input_tokens == 3 + 4 + n("Hi")


def test_breakdown_adds_up_and_names_every_part() -> None:
    body = {
        "model": "gpt-5",
        "instructions": "Rules.",
        "input": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
    }
    result = count_input_tokens(body)
    labels = [p.label for p in result.parts]
    assert labels == ["instructions", "input[0]", "input[1]", "priming"]
    assert sum(p.tokens for p in result.parts) == result.input_tokens
    assert result.details["text_tokens"] == result.input_tokens
    assert result.exact


@pytest.mark.parametrize(
    ("item", "reason_fragment"),
    [
        (
            {
                "type": "web_search_call",
                "id": "ws_1",
                "status": "completed",
                "action": {"type": "search", "query": "q"},
            },
            "web_search_call",
        ),
        (
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "x" * 64},
            "encrypted",
        ),
    ],
)
def test_items_without_a_verified_rule_are_flagged(
    item: dict[str, Any], reason_fragment: str
) -> None:
    body = {"model": "gpt-5", "input": [{"role": "user", "content": "Hi"}, item]}
    result = count_input_tokens(body)
    assert not result.exact
    assert any(reason_fragment in r for r in result.estimate_reasons)


def test_images_are_never_counted_as_zero() -> None:
    image = {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "high"}
    body = {"model": "gpt-5-mini", "input": [{"role": "user", "content": [image]}]}
    result = count_input_tokens(body, settings=Settings(remote_fetch=False))
    assert result.details["image_tokens"] > 0
    assert not result.exact


def test_low_detail_image_on_a_tile_model_is_exact() -> None:
    image = {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "low"}
    body = {"model": "gpt-4o", "input": [{"role": "user", "content": [image]}]}
    result = count_input_tokens(body)  # the size does not matter, so nothing is fetched
    assert result.details["image_tokens"] == 85
    assert result.exact


@pytest.mark.parametrize(
    ("extra", "param", "code"),
    [
        (
            {"previous_response_id": "resp_unknown"},
            "previous_response_id",
            "previous_response_not_found",
        ),
        ({"conversation": "conv_unknown"}, "conversation", "conversation_not_found"),
        ({"conversation": {"id": "conv_unknown"}}, "conversation", "conversation_not_found"),
    ],
)
def test_unknown_stored_state_is_an_error_not_ignored(
    extra: dict[str, Any], param: str, code: str, tmp_path: Path
) -> None:
    sources = local_sources(Settings(data_dir=str(tmp_path)))
    with pytest.raises(InvalidRequestError) as caught:
        count_input_tokens({"model": "gpt-5", "input": "Hi", **extra}, sources=sources)
    assert (caught.value.param, caught.value.code) == (param, code)
    # Without sources, the library reads no store: the same body is a 400 saying so.
    with pytest.raises(InvalidRequestError) as caught:
        count_input_tokens({"model": "gpt-5", "input": "Hi", **extra})
    assert (caught.value.param, caught.value.code) == (param, "stored_state_unavailable")
    assert "local_sources" in caught.value.message


def test_unknown_item_reference_names_its_path(tmp_path: Path) -> None:
    body = {
        "model": "gpt-5",
        "input": [{"role": "user", "content": "Hi"}, {"type": "item_reference", "id": "msg_nope"}],
    }
    with pytest.raises(InvalidRequestError) as caught:
        count_input_tokens(body, sources=local_sources(Settings(data_dir=str(tmp_path))))
    assert (caught.value.param, caught.value.code) == ("input[1].id", "item_not_found")
    with pytest.raises(InvalidRequestError) as caught:
        count_input_tokens(body)
    assert (caught.value.param, caught.value.code) == ("input[1].id", "stored_state_unavailable")


def test_token_ids_and_strings_on_request() -> None:
    result = count_input_tokens({"model": "gpt-5", "input": "Tell me a joke."}, return_tokens=True)
    assert result.tokens is not None and result.token_strings is not None
    assert len(result.tokens) == result.input_tokens == 11
    assert result.token_strings[:3] == ("<|start|>", "user", "<|message|>")
    assert "".join(result.token_strings) == (
        "<|start|>user<|message|>Tell me a joke.<|end|><|start|>assistant"
    )


def test_mutually_exclusive_state_parameters() -> None:
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens(
            {
                "model": "gpt-5",
                "input": "x",
                "conversation": "conv_1",
                "previous_response_id": "resp_1",
            }
        )
    assert info.value.code == "mutually_exclusive_parameters"


def test_input_item_count_limit_is_explicit() -> None:
    items = [{"role": "user", "content": "x"}] * 5
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens({"model": "gpt-5", "input": items}, settings=Settings(max_input_items=4))
    assert info.value.code == "array_above_max_length"
    assert info.value.param == "input"
    assert (
        count_input_tokens(
            {"model": "gpt-5", "input": items}, settings=Settings(max_input_items=5)
        ).input_tokens
        == 5 * 5 + 2
    )


def test_empty_model_is_not_replaced_by_the_default() -> None:
    from inputtokens import ModelNotFoundError

    with pytest.raises(ModelNotFoundError):
        count_input_tokens({"model": "", "input": "Hi"})
    assert count_input_tokens({"model": None, "input": "Hi"}).model == "gpt-5"


def test_output_budget_below_openai_minimum_is_rejected() -> None:
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens({"model": "gpt-5", "input": "Hi", "max_output_tokens": 15})
    assert (info.value.param, info.value.code) == ("max_output_tokens", "integer_below_min_value")


def test_unknown_warm_encoding_fails_at_configuration() -> None:
    with pytest.raises(ValueError, match="p99k"):
        Settings.from_env({"INPUTTOKENS_WARM_ENCODINGS": "o200k_base,p99k"})
    assert Settings.from_env({"INPUTTOKENS_WARM_ENCODINGS": "cl100k_base"}).warm_encodings == (
        "cl100k_base",
    )


def test_custom_tool_call_is_free_text_not_json() -> None:
    body = {
        "model": "gpt-5",
        "input": [
            {"role": "user", "content": "Run it"},
            {"type": "custom_tool_call", "call_id": "c1", "name": "shell", "input": "ls -la"},
        ],
    }
    from inputtokens import render_prompt

    text = render_prompt(body).text
    assert "to=functions.shell<|channel|>commentary<|message|>ls -la<|call|>" in text


# Fields newer than the reference copy: accepted, and counted by what they add to the prompt.


def test_cache_breakpoints_and_options_add_nothing_and_stay_exact() -> None:
    plain = {"model": "gpt-5.6-sol", "input": [{"role": "user", "content": "Hi there"}]}
    marked = {
        "model": "gpt-5.6-sol",
        "prompt_cache_options": {"ttl": "12h"},
        "input": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "input_text",
                        "text": "Hi there",
                        "prompt_cache_breakpoint": {"mode": "explicit", "ttl": "30m"},
                    }
                ],
            }
        ],
    }
    result = count_input_tokens(marked)
    assert result.input_tokens == count_input_tokens(plain).input_tokens
    assert result.exact


def test_effort_max_is_accepted_and_changes_nothing() -> None:
    body = {"model": "gpt-5.6-sol", "input": "Tell me a joke."}
    result = count_input_tokens({**body, "reasoning": {"effort": "max"}})
    assert result.input_tokens == count_input_tokens(body).input_tokens == 11
    assert result.exact


def test_a_configuration_update_item_is_counted_and_flagged() -> None:
    update = {"type": "configuration_update", "reasoning": {"effort": "low"}}
    body = {"model": "gpt-5.6-sol", "input": [update, {"role": "user", "content": "Hi"}]}
    result = count_input_tokens(body)
    assert result.input_tokens >= count_input_tokens({**body, "input": "Hi"}).input_tokens
    assert not result.exact
    assert any("configuration_update" in r for r in result.estimate_reasons)


def test_an_async_tool_is_counted_as_a_plain_tool_and_flagged() -> None:
    tool = {
        "type": "function",
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    body = {"model": "gpt-6-astra", "input": "Weather in Paris?", "tools": [tool]}
    result = count_input_tokens({**body, "tools": [{**tool, "async": True}]})
    assert result.input_tokens == count_input_tokens(body).input_tokens
    assert any("async tool 'get_weather'" in r for r in result.estimate_reasons)

"""gpt-oss prompts against the harmony reference renderer (openai-harmony), token for token.

openai-harmony is fed the vocabulary bundled with inputtokens (no download). Each request is
translated into harmony messages the way a gpt-oss Responses server does (system message with
the default identity and the request's reasoning effort; developer message with instructions
and function tools; calls on the commentary channel), rendered for completion, and compared
with ``count_input_tokens(..., return_tokens=True)``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import inputtokens
from inputtokens import count_input_tokens

os.environ.setdefault("TIKTOKEN_ENCODINGS_BASE", str(Path(inputtokens.__file__).parent / "vocab"))
harmony = pytest.importorskip("openai_harmony")  # a declared test dependency; see pyproject

H = harmony.load_harmony_encoding(harmony.HarmonyEncodingName.HARMONY_GPT_OSS)
MODEL = "gpt-oss-20b"
_EFFORTS = {
    "low": harmony.ReasoningEffort.LOW,
    "medium": harmony.ReasoningEffort.MEDIUM,
    "high": harmony.ReasoningEffort.HIGH,
}


def _harmony_messages(body: dict[str, Any]) -> list[Any]:
    effort = (body.get("reasoning") or {}).get("effort") or "medium"
    system = harmony.SystemContent.new().with_reasoning_effort(_EFFORTS[effort])
    messages = [harmony.Message.from_role_and_content(harmony.Role.SYSTEM, system)]
    tools = [
        harmony.ToolDescription.new(
            t["name"], t.get("description") or "", parameters=t.get("parameters")
        )
        for t in body.get("tools", [])
        if t["type"] == "function"
    ]
    if body.get("instructions") or tools:
        developer = harmony.DeveloperContent.new()
        if body.get("instructions"):
            developer = developer.with_instructions(body["instructions"])
        if tools:
            developer = developer.with_function_tools(tools)
        messages.append(harmony.Message.from_role_and_content(harmony.Role.DEVELOPER, developer))
    items = body["input"]
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    names: dict[str, str] = {}
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            role = harmony.Role(item["role"])
            message = harmony.Message.from_role_and_content(role, item["content"])
            if item["role"] == "assistant":
                message = message.with_channel("final")
            messages.append(message)
        elif kind == "function_call":
            names[item["call_id"]] = f"functions.{item['name']}"
            messages.append(
                harmony.Message.from_role_and_content(harmony.Role.ASSISTANT, item["arguments"])
                .with_channel("commentary")
                .with_recipient(f"functions.{item['name']}")
                .with_content_type("<|constrain|>json")
            )
        elif kind == "function_call_output":
            author = harmony.Author.new(harmony.Role.TOOL, names[item["call_id"]])
            messages.append(
                harmony.Message.from_author_and_content(author, item["output"])
                .with_channel("commentary")
                .with_recipient("assistant")
            )
        elif kind == "reasoning":
            text = "\n\n".join(part["text"] for part in item["summary"])
            messages.append(
                harmony.Message.from_role_and_content(harmony.Role.ASSISTANT, text).with_channel(
                    "analysis"
                )
            )
    return messages


def _reference(body: dict[str, Any]) -> list[int]:
    conversation = harmony.Conversation.from_messages(_harmony_messages(body))
    config = harmony.RenderConversationConfig(auto_drop_analysis=True)
    return list(H.render_conversation_for_completion(conversation, harmony.Role.ASSISTANT, config))


def _ours(body: dict[str, Any]) -> list[int]:
    result = count_input_tokens(body, return_tokens=True)
    assert result.tokens is not None
    assert len(result.tokens) == result.input_tokens
    return list(result.tokens)


WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather.\nIn Celsius.",
    "parameters": {
        "type": "object",
        "required": ["city"],
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["c", "f"], "default": "c"},
            "days": {"type": ["integer", "null"], "title": "Days", "examples": ["1", "2"]},
            "tags": {"type": "array", "items": {"type": "string"}, "description": "Labels"},
            "where": {
                "type": "object",
                "description": "Place",
                "properties": {
                    "lat": {"type": "number"},
                    "lon": {"type": "number", "nullable": True},
                },
            },
            "mode": {
                "description": "How",
                "oneOf": [
                    {"type": "string", "description": "By name"},
                    {"type": "integer", "default": 3},
                ],
            },
        },
    },
}
NO_ARGS = {
    "type": "function",
    "name": "ping",
    "description": "",
    "parameters": {"type": "object", "properties": {}},
}
NULL_PARAMS = {"type": "function", "name": "noop", "parameters": None}

CASES = {
    "plain": {"model": MODEL, "input": "Tell me a joke."},
    "instructions": {
        "model": MODEL,
        "instructions": "Be brief.",
        "input": "Hi",
        "reasoning": {"effort": "high"},
    },
    "tools": {"model": MODEL, "input": "Weather?", "tools": [WEATHER, NO_ARGS, NULL_PARAMS]},
    "instructions_and_tools": {
        "model": MODEL,
        "instructions": "Use tools.",
        "input": "Go",
        "tools": [WEATHER],
        "reasoning": {"effort": "low"},
    },
    "tool_history": {
        "model": MODEL,
        "tools": [WEATHER],
        "input": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": "Need the tool."}],
            },
            {
                "type": "function_call",
                "call_id": "c1",
                "name": "get_weather",
                "arguments": json.dumps({"city": "Paris"}),
            },
            {"type": "function_call_output", "call_id": "c1", "output": "18C"},
        ],
    },
    "ended_turn_drops_reasoning": {
        "model": MODEL,
        "input": [
            {"role": "user", "content": "Hi"},
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": "Greet back."}],
            },
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Bye"},
        ],
    },
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gpt_oss_prompt_equals_the_harmony_reference(name: str) -> None:
    body = CASES[name]
    assert _ours(body) == _reference(body)
    assert count_input_tokens(body).exact


# The reference parses JSON with serde_json, which turns integers beyond 64 bits into floats;
# defaults and enums stay within 64 bits here (our renderer prints such integers exactly).
_ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_schemas = st.recursive(
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(
                ["string", "integer", "number", "boolean", "null", "object", "array", "weird"]
            )
            | st.lists(st.sampled_from(["string", "integer", "null"]), max_size=3),
            "description": st.text(max_size=12),
            "title": st.text(max_size=6),
            "enum": st.lists(st.one_of(st.text(max_size=4), _ints), max_size=3),
            "default": st.one_of(st.text(max_size=4), _ints, st.booleans(), st.none()),
            "nullable": st.booleans(),
            "examples": st.lists(st.text(max_size=4), max_size=2),
        },
    ),
    lambda children: st.one_of(
        st.fixed_dictionaries(
            {
                "type": st.just("object"),
                "properties": st.dictionaries(
                    st.text(min_size=1, max_size=6), children, max_size=4
                ),
            },
            optional={
                "required": st.lists(st.text(max_size=6), max_size=3),
                "description": st.text(max_size=10),
            },
        ),
        st.fixed_dictionaries({"type": st.just("array"), "items": children}),
        st.fixed_dictionaries(
            {"oneOf": st.lists(children, min_size=1, max_size=3)},
            optional={"description": st.text(max_size=8)},
        ),
        st.fixed_dictionaries({"anyOf": st.lists(children, max_size=3)}),
        st.fixed_dictionaries({"$ref": st.sampled_from(["#", "#/properties", "#/$defs/x"])}),
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=_schemas)
def test_any_schema_renders_like_the_reference_on_gpt_oss(schema: dict[str, Any]) -> None:
    params = {"type": "object", "properties": {"x": schema}}
    body = {
        "model": MODEL,
        "input": "Hi",
        "tools": [{"type": "function", "name": "f", "parameters": params}],
    }
    assert _ours(body) == _reference(body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=_schemas, model=st.sampled_from(["gpt-5", "gpt-4o", "gpt-4.1-mini"]))
def test_any_schema_renders_and_counts_on_hosted_models(schema: dict[str, Any], model: str) -> None:
    body = {
        "model": model,
        "input": "Hi",
        "tools": [{"type": "function", "name": "f", "parameters": schema}],
        "text": {
            "format": {"type": "json_schema", "name": "out", "schema": schema, "strict": True}
        },
    }
    result = count_input_tokens(body, return_tokens=True)
    assert result.input_tokens > 0
    assert sum(p.tokens for p in result.parts) == result.input_tokens

"""Every fitted offset is exact only inside the shapes its records show (issue 19, item 1).

For each rule that carries a fitted offset: a body inside its evidence applies the offset and
stays exact; bodies outside it (other schema shapes, several such tools, another API, another
model) apply it too, but are flagged with a reason naming the offset and the shape. The
evidence of each rule is in docs/counting-rules.md ("Fitted offsets and their evidence").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from inputtokens import count_input_tokens, render_prompt
from inputtokens.library import count_chat_tokens, render_chat_prompt
from inputtokens.render.evidence import GPT5_FITTED_RULES
from inputtokens.render.prompt import Offset
from inputtokens.render.tools import FITTED_EVIDENCE

STRING = {"type": "string"}


def _params(properties: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
        "additionalProperties": False,
    }
    if description is not None:
        params["description"] = description
    return params


def _tool(
    name: str,
    properties: dict[str, Any] | None = None,
    description: str | None = "A tool.",
    parameters_description: str | None = None,
) -> dict[str, Any]:
    tool: dict[str, Any] = {"type": "function", "name": name, "strict": True}
    if description is not None:
        tool["description"] = description
    tool["parameters"] = _params(properties or {}, parameters_description)
    return tool


def _described_array(items: Any = STRING) -> dict[str, Any]:
    return {"type": "array", "description": "Search queries.", "items": items}


def _object(properties: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    return _params(properties, description)


# The records' shapes, rebuilt: search_tools.queries, load_capability, always_ready/get_file,
# lookup_exchange_rate.
SEARCH = _tool("search_tools", {"queries": _described_array()}, "Search for tools.")
LOOKUP = _tool("lookup_exchange_rate", {"currency": STRING}, "Look up a rate.")
LOAD = _tool(
    "load_capability",
    {"id": {"type": "string", "description": "The capability id."}},
    "Load a capability.",
    parameters_description="Which capability to load.",
)
READY = _tool("always_ready", None, "Always ready.")
NESTED_TRIP = _tool(
    "plan_trip",
    {
        "legs": {
            "type": "array",
            "description": "The legs of the trip.",
            "items": _object({"from": STRING, "to": STRING}),
        },
        "traveller": _object({"name": STRING}, "Who travels."),
    },
    "Plan a trip.",
)


def responses(model: str, tools: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {"model": model, "input": "Go.", "tools": tools, **more}


def chat_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": "function", "function": {k: v for k, v in t.items() if k != "type"}} for t in tools
    ]


def chat(model: str, tools: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": "Go."}], **more}
    if tools:
        body["tools"] = chat_tools(tools)
    return body


@dataclass(frozen=True)
class Case:
    """One body for one fitted rule: `rule` is the offset's rule as the render shows it."""

    id: str
    rule: str
    body: dict[str, Any]
    api: str = "responses"
    # Words the reason must contain (the shape it names); empty for a body inside the evidence.
    shape: tuple[str, ...] = ()
    # Whether the body applies the offset (not for a shape rendered like the rule's, without it).
    applied: bool = True


def _count(case: Case) -> Any:
    return (count_chat_tokens if case.api == "chat" else count_input_tokens)(case.body)


def _offset_rules(case: Case) -> set[str]:
    render: Callable[[Any], Any] = render_chat_prompt if case.api == "chat" else render_prompt
    return {s.rule for b in render(case.body).blocks for s in b.segments if type(s) is Offset}


ADDITIONAL = [
    {"role": "user", "content": "Call lookup_refund_policy."},
    {"role": "assistant", "content": "I will load it."},
    {
        "type": "additional_tools",
        "role": "developer",
        "tools": [_tool("lookup_refund_policy", {"order_id": STRING}, "Look up a policy.")],
    },
]
FORMAT = {
    "format": {
        "type": "json_schema",
        "name": "answer",
        "strict": True,
        "schema": _params({"answer": STRING}),
    }
}


def tool_call_body(model: str) -> dict[str, Any]:
    """A Chat Completions body with one call and its result."""
    call = {"name": "lookup_exchange_rate", "arguments": '{"currency":"EUR"}'}
    return {
        "model": model,
        "tools": chat_tools([LOOKUP]),
        "messages": [
            {"role": "user", "content": "Rate?"},
            {
                "role": "assistant",
                "tool_calls": [{"id": "c1", "type": "function", "function": call}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "1.1"},
        ],
    }


INSIDE = [
    Case("described-array", "described array properties", responses("gpt-5", [LOOKUP, SEARCH])),
    Case(
        "described-array-instructions",
        "described array properties",
        responses("gpt-5.2", [LOOKUP, SEARCH], instructions="Be brief."),
    ),
    Case(
        "parameters-description",
        "parameters description",
        responses("gpt-5.6", [LOAD], instructions="Be brief."),
    ),
    Case(
        "described-bare-last",
        "described tool without parameters last",
        responses("gpt-5-mini", [READY]),
    ),
    Case(
        "described-bare-last-chat",
        "described tool without parameters last",
        chat("gpt-5-mini", [READY]),
        "chat",
    ),
    Case(
        "described-property-chat",
        "tool with a described property",
        chat(
            "gpt-5-mini",
            [
                _tool("search_tools", {"keywords": {"type": "string", "description": "Words."}}),
                LOOKUP,
            ],
        ),
        "chat",
    ),
    Case(
        "described-array-property-chat",
        "tool with a described property",
        chat("gpt-5", [LOOKUP, SEARCH]),
        "chat",
    ),
    Case("tools-open", "tools open the message", responses("gpt-5", [LOOKUP])),
    Case(
        "tool-followed",
        "tool followed by another",
        responses("gpt-5-mini", [LOOKUP, LOOKUP | {"name": "b"}]),
    ),
    Case(
        "format-opens",
        "text.format open the message",
        {"model": "gpt-5.4-mini", "input": "Go.", "text": FORMAT},
    ),
    Case(
        "additional-tools",
        "additional_tools hidden text",
        {"model": "gpt-5.6", "input": ADDITIONAL},
    ),
    Case("chat-hidden-text", "hidden text of tools", chat("gpt-5-mini", [LOOKUP]), "chat"),
    Case(
        "chat-tool-call",
        "tool call on Chat Completions",
        tool_call_body("gpt-5-mini"),
        "chat",
    ),
]

OUTSIDE = [
    # Described arrays: only arrays of strings, at the top level, one, in the last tool.
    Case(
        "nested-tools-gpt-5",
        "described array properties",
        responses("gpt-5", [NESTED_TRIP]),
        shape=("described array of objects", "plan_trip"),
    ),
    Case(
        "array-of-arrays",
        "described array properties",
        responses(
            "gpt-5", [_tool("grid", {"rows": _described_array({"type": "array", "items": STRING})})]
        ),
        shape=("described array of arrays",),
    ),
    Case(
        "array-of-integers",
        "described array properties",
        responses("gpt-5", [_tool("sum", {"values": _described_array({"type": "integer"})})]),
        shape=("described array of integer items",),
    ),
    Case(
        "array-below-top-level",
        "described array properties",
        responses("gpt-5", [_tool("find", {"filter": _object({"queries": _described_array()})})]),
        shape=("below the top level",),
    ),
    Case(
        "two-described-arrays",
        "described array properties",
        responses("gpt-5", [_tool("find", {"a": _described_array(), "b": _described_array()})]),
        shape=("2 described arrays",),
    ),
    Case(
        "several-tools-with-described-arrays",
        "described array properties",
        responses("gpt-5", [SEARCH | {"name": "first"}, SEARCH]),
        shape=("2 tools (first, search_tools)",),
    ),
    Case(
        "described-array-followed",
        "described array properties",
        responses("gpt-5", [SEARCH, LOOKUP]),
        shape=("followed by another",),
    ),
    Case(
        "described-array-chat-model-chat-completions",
        "described array properties",
        chat("gpt-4o", [SEARCH]),
        "chat",
        shape=("on Chat Completions",),
    ),
    # The described parameters object: top level, one tool, Responses.
    Case(
        "described-nested-object",
        "parameters description",
        responses(
            "gpt-5", [_tool("book", {"traveller": _object({"name": STRING}, "Who travels.")})]
        ),
        shape=("described object inside the parameters of 'book'",),
        applied=False,
    ),
    Case(
        "two-described-parameters",
        "parameters description",
        responses("gpt-5.6", [LOAD, LOAD | {"name": "load_other"}], instructions="Be brief."),
        shape=("2 tools (load_capability, load_other)",),
    ),
    Case(
        "described-parameters-chat",
        "parameters description",
        chat("gpt-5-mini", [LOAD]),
        "chat",
        shape=("'load_capability' on Chat Completions",),
    ),
    # A described parameterless function: alone.
    Case(
        "described-bare-last-after-others",
        "described tool without parameters last",
        responses("gpt-5-mini", [LOOKUP, READY]),
        shape=("'always_ready' last after 1 other tool",),
    ),
    # A described property over Chat Completions: strings or arrays of strings, one tool.
    Case(
        "described-object-property-chat",
        "tool with a described property",
        chat(
            "gpt-5-mini", [_tool("book", {"traveller": _object({"name": STRING}, "Who travels.")})]
        ),
        "chat",
        shape=("a described object 'traveller'",),
    ),
    Case(
        "default-property-chat",
        "tool with a described property",
        chat("gpt-5-mini", [_tool("flag", {"on": {"type": "boolean", "default": False}})]),
        "chat",
        shape=("a default on 'on'",),
    ),
    Case(
        "two-described-property-tools-chat",
        "tool with a described property",
        chat(
            "gpt-5-mini",
            [
                _tool("a", {"k": {"type": "string", "description": "K."}}),
                _tool("b", {"k": {"type": "string", "description": "K."}}),
            ],
        ),
        "chat",
        shape=("2 tools (a, b)",),
    ),
    # Other models: every hosted offset was recorded on gpt-5 models only.
    Case("tools-open-o3", "tools open the message", responses("o3", [LOOKUP]), shape=("'o3'",)),
    Case(
        "tool-followed-o4-mini",
        "tool followed by another",
        responses("o4-mini", [LOOKUP, LOOKUP | {"name": "b"}]),
        shape=("'o4-mini'", "tool followed by another"),
    ),
    Case(
        "described-array-codex-mini",
        "described array properties",
        responses("codex-mini-latest", [LOOKUP, SEARCH]),
        shape=("'codex-mini-latest'", "described array properties"),
    ),
    Case(
        "parameters-description-o3",
        "parameters description",
        responses("o3", [LOAD], instructions="Be brief."),
        shape=("'parameters description'",),
    ),
    Case(
        "described-bare-last-o1",
        "described tool without parameters last",
        responses("o1", [READY]),
        shape=("'o1'",),
    ),
    Case(
        "format-opens-o3",
        "text.format open the message",
        {"model": "o3", "input": "Go.", "text": FORMAT},
        shape=("'o3'",),
    ),
    Case(
        "additional-tools-o3",
        "additional_tools hidden text",
        {"model": "o3", "input": ADDITIONAL},
        shape=("'o3'",),
    ),
    Case(
        "chat-hidden-text-o3", "hidden text of tools", chat("o3", [LOOKUP]), "chat", shape=("'o3'",)
    ),
    Case(
        "chat-tool-call-o3",
        "tool call on Chat Completions",
        tool_call_body("o3"),
        "chat",
        shape=("'tool call on Chat Completions'", "'o3'"),
    ),
    Case(
        "described-property-chat-o4-mini",
        "tool with a described property",
        chat("o4-mini", [LOOKUP, SEARCH]),
        "chat",
        shape=("'o4-mini'",),
    ),
]


@pytest.mark.parametrize("case", INSIDE, ids=lambda c: c.id)
def test_inside_the_evidence_the_offset_stays_exact(case: Case) -> None:
    assert case.rule in _offset_rules(case)
    result = _count(case)
    assert result.exact, result.estimate_reasons


@pytest.mark.parametrize("case", OUTSIDE, ids=lambda c: c.id)
def test_outside_the_evidence_the_offset_is_flagged(case: Case) -> None:
    assert (case.rule in _offset_rules(case)) is case.applied
    result = _count(case)
    assert not result.exact
    named = [
        r
        for r in result.estimate_reasons
        if (r.startswith(f"fitted offset '{case.rule}'") or f"'{case.rule}'" in r)
        and all(word in r for word in case.shape)
    ]
    assert named, result.estimate_reasons


def test_the_reported_body_is_flagged_with_the_shape() -> None:
    """Issue 19: gpt-5, an array of objects with a description and a described nested object
    was exact, the -2 of described arrays applied to a shape it was never fitted on."""
    result = count_input_tokens(responses("gpt-5", [NESTED_TRIP]))
    assert not result.exact
    assert (
        "fitted offset 'described array properties' (-2): a described array of objects in "
        "'plan_trip' is beyond its records, which show only one described array of strings, a "
        "top-level property of the last tool, on hosted reasoning models over the Responses API"
    ) in result.estimate_reasons


def test_the_counts_do_not_change() -> None:
    """Flags only: the same body counts the same inside the gpt-5 line and outside it."""
    inside = count_input_tokens(responses("gpt-5", [LOOKUP, SEARCH]))
    outside = count_input_tokens(responses("o3", [LOOKUP, SEARCH]))
    assert inside.input_tokens == outside.input_tokens
    assert inside.exact and not outside.exact


def test_every_fitted_rule_is_walked() -> None:
    """Each shape-checked offset and each gpt-5 fitted offset that can be exact has a body
    inside its evidence and one outside it; the others always flag their count."""
    always_flagged = {
        "instructions with a tool without parameters",
        "deferred tools listed for tool_search",
        "tool_search_output hidden text",
        "image on Chat Completions",
        "PDF after text",
        "PDF pages on Chat Completions",
    }
    shape_rules = {rule for rule, _, _ in FITTED_EVIDENCE.values()}
    inside = {c.rule for c in INSIDE}
    outside = {c.rule for c in OUTSIDE}
    assert (GPT5_FITTED_RULES - always_flagged) | shape_rules == inside
    assert inside == outside

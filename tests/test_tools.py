"""The tool, response-format and tool-history rules, each checked by token arithmetic.

Expected values are built from the tokenizer and the rule as documented in
docs/counting-rules.md, never from the counter itself.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest

from inputtokens import count_chat_tokens, count_input_tokens, render_prompt
from inputtokens.render.system import format_section

from .conftest import Expected

n = Expected.n
HEAD = "# Tools\n\n## functions\n\nnamespace functions {\n\n"
TAIL = "\n} // namespace functions"


def _tool(name: str, description: str | None = None, **properties: Any) -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "description": description,
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": sorted(properties),
            "additionalProperties": False,
        },
    }


def _count(body: dict[str, Any]) -> int:
    return count_input_tokens(body).input_tokens


def _without_tools(body: dict[str, Any]) -> int:
    return _count({k: v for k, v in body.items() if k != "tools"})


def test_tools_opening_the_developer_message_cost_their_text_plus_two() -> None:
    body = {"model": "gpt-5", "input": "Hi", "tools": [_tool("ping")]}
    text = HEAD + "type ping = () => any;\n" + TAIL
    assert _count(body) - _without_tools(body) == n(text) + 2
    assert count_input_tokens(body).exact


def test_tools_after_instructions_cost_their_text_plus_the_separator() -> None:
    tool = _tool("get_city", "Look up a city.", city={"type": "string"})
    body = {"model": "gpt-5.5", "instructions": "Be brief.", "input": "Hi", "tools": [tool]}
    text = HEAD + "// Look up a city.\ntype get_city = (_: {\ncity: string,\n}) => any;\n" + TAIL
    assert _count(body) - _without_tools(body) == n(text) + 1


def test_each_tool_with_parameters_followed_by_another_is_one_lower() -> None:
    a = _tool("a", "First.", x={"type": "string"})
    b = _tool("b", "Second.", y={"type": "integer"})
    c = _tool("c", "Third.")
    body = {"model": "gpt-5-mini", "input": "Hi", "tools": [a, b, c]}
    text = (
        HEAD + "// First.\ntype a = (_: {\nx: string,\n}) => any;\n\n"
        "// Second.\ntype b = (_: {\ny: number,\n}) => any;\n\n"
        "// Third.\ntype c = () => any;\n" + TAIL
    )
    # Two tools with parameters followed by another (-2), a described tool without parameters
    # last (+1).
    assert _count(body) - _without_tools(body) == n(text) + 2 - 2 + 1
    # A tool without parameters followed by another is not lowered.
    body["tools"] = [c, a]
    text = (
        HEAD + "// Third.\ntype c = () => any;\n\n"
        "// First.\ntype a = (_: {\nx: string,\n}) => any;\n" + TAIL
    )
    assert _count(body) - _without_tools(body) == n(text) + 2
    assert count_input_tokens(body).exact


def test_described_tool_without_parameters_last_is_one_higher() -> None:
    tool = _tool("get_file", "Return a file.")
    body = {"model": "gpt-5-mini", "input": "Hi", "tools": [tool]}
    text = HEAD + "// Return a file.\ntype get_file = () => any;\n" + TAIL
    assert _count(body) - _without_tools(body) == n(text) + 2 + 1
    assert count_input_tokens(body).exact
    # Without a description it is not.
    body["tools"] = [_tool("get_file")]
    text = HEAD + "type get_file = () => any;\n" + TAIL
    assert _count(body) - _without_tools(body) == n(text) + 2
    assert count_input_tokens(body).exact


def test_tool_without_description_or_parameters_followed_by_another_is_flagged() -> None:
    body = {"model": "gpt-5", "input": "Hi", "tools": [_tool("a"), _tool("b", "B.")]}
    result = count_input_tokens(body)
    assert not result.exact
    assert any("'a' has neither a description nor parameters" in r for r in result.estimate_reasons)
    body["tools"] = [_tool("b", "B."), _tool("a")]
    assert count_input_tokens(body).exact


def test_instructions_with_a_tool_without_parameters_are_one_higher_and_flagged() -> None:
    body = {"model": "gpt-5", "instructions": "Be brief.", "input": "Hi", "tools": [_tool("a")]}
    text = HEAD + "type a = () => any;\n" + TAIL
    assert _count(body) - _without_tools(body) == n("\n\n") + n(text) + 1
    assert not count_input_tokens(body).exact


def test_parameters_description_renders_before_the_object_and_costs_two_more() -> None:
    tool = _tool("load", "Load it.", id={"type": "string", "description": "The id."})
    tool["parameters"]["description"] = "Typed arguments."
    body = {"model": "gpt-5.4", "instructions": "Go.", "input": "Hi", "tools": [tool]}
    text = (
        HEAD + "// Load it.\ntype load = (_: // Typed arguments.\n{\n// The id.\nid: string,\n"
        "}) => any;\n" + TAIL
    )
    assert _count(body) - _without_tools(body) == n(text) + 1 + 2


def test_described_array_property_is_two_lower() -> None:
    tool = _tool(
        "search", None, q={"type": "array", "items": {"type": "string"}, "description": "Queries."}
    )
    body = {"model": "gpt-5", "input": "Hi", "tools": [tool]}
    text = HEAD + "type search = (_: {\n// Queries.\nq: string[],\n}) => any;\n" + TAIL
    assert _count(body) - _without_tools(body) == n(text) + 2 - 2


def test_chat_models_read_the_namespace_without_headings() -> None:
    body = {"model": "gpt-4.1", "input": "Hi", "tools": [_tool("get_meaning_of_life")]}
    text = "namespace functions {\n\ntype get_meaning_of_life = () => any;\n" + TAIL
    # The recorded data point: 16 + n(name) for a tool without description and parameters.
    assert _count(body) - _without_tools(body) == n(text) + 3 == 16 + n("get_meaning_of_life")
    assert count_input_tokens(body).exact
    described = {**body, "tools": [_tool("f", "Describes f.")]}
    assert not count_input_tokens(described).exact


def test_chat_models_lay_out_described_and_several_tools_as_chat_completions_does() -> None:
    # Fitted on Chat Completions records: under the headings, each non-blank description line
    # stripped, the -1 of a tool with parameters only when no property is described, nothing
    # for a following tool.
    doc = _tool(
        "convert", "Convert it.\n\n    Args:\n        x: The value\n    ", x={"type": "number"}
    )
    described = _tool("find", "Find it.", q={"type": "string", "description": "The query."})
    body = {"model": "gpt-4o", "input": "Hi", "tools": [doc, described]}
    text = (
        "# Tools\n\n## functions\n\n"
        "namespace functions {\n\n// Convert it.\n// Args:\n// x: The value\n"
        "type convert = (_: {\nx: number,\n}) => any;\n\n"
        "// Find it.\ntype find = (_: {\n// The query.\nq: string,\n}) => any;\n" + TAIL
    )
    assert _count(body) - _without_tools(body) == n(text) + 3 - 1
    result = count_input_tokens(body)
    assert not result.exact
    assert any("Chat Completions" in r for r in result.estimate_reasons)


@pytest.mark.parametrize(
    "prop",
    [
        {"type": "boolean", "default": False},
        {"type": "object", "properties": {"city": {"type": "string"}}},
        {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
    ],
)
def test_chat_tool_defaults_and_nested_objects_are_estimates(prop: dict[str, Any]) -> None:
    body = {"model": "gpt-4o", "input": "Hi", "tools": [_tool("f", None, v=prop)]}
    result = count_input_tokens(body)
    assert not result.exact
    assert any("non-reasoning model: recorded Chat" in r for r in result.estimate_reasons)
    plain = {"model": "gpt-4o", "input": "Hi", "tools": [_tool("f", None, v={"type": "number"})]}
    assert count_input_tokens(plain).exact


def test_function_call_pair_on_reasoning_models_has_no_constrain_marker() -> None:
    body = {
        "model": "gpt-5",
        "input": [
            {"role": "user", "content": "Weather?"},
            {"type": "function_call", "call_id": "c1", "name": "weather", "arguments": '{"c":1}'},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        ],
        "tools": [_tool("weather", "Weather.", c={"type": "integer"})],
    }
    text = render_prompt(body).text
    assert (
        "<|start|>assistant to=functions.weather<|channel|>commentary<|message|>"
        '{"c":1}<|call|><|start|>functions.weather to=assistant<|channel|>commentary'
        "<|message|>sunny<|end|>"
    ) in text
    pair = _count(body) - _count({**body, "input": body["input"][:1]})
    head = n("assistant to=functions.weather") + n("commentary")
    assert pair == 5 + head + n('{"c":1}') + 3 + n("functions.weather to=assistant") + n(
        "commentary"
    ) + n("sunny")
    assert count_input_tokens(body).exact


def test_function_call_pair_on_chat_models() -> None:
    body = {
        "model": "gpt-4o",
        "input": [
            {"role": "user", "content": "Q"},
            {
                "type": "function_call",
                "call_id": "c1",
                "name": "get_user_country",
                "arguments": "{}",
            },
            {"type": "function_call_output", "call_id": "c1", "output": "Mexico"},
        ],
    }
    pair = _count(body) - _count({**body, "input": body["input"][:1]})
    # The recorded data point: about 11 + 2 n(name) + n(arguments) + n(output).
    assert pair == 11 + 2 * n("get_user_country") + n("{}") + n("Mexico")


def test_strict_json_schema_drops_the_keywords_strict_implies() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["required"],
        "properties": {
            "required": {"type": "string"},
            "items": {
                "type": "array",
                "items": {"type": "object", "properties": {}, "additionalProperties": False},
            },
        },
    }
    body = {
        "model": "gpt-5.4-mini",
        "input": "Hi",
        "text": {
            "format": {"type": "json_schema", "name": "Out", "schema": schema, "strict": True}
        },
    }
    section = format_section(body["text"]["format"], "o200k_base")
    assert section is not None
    shown = json.loads(section.text.rsplit("\n", 1)[1])
    assert shown == {
        "type": "object",
        "properties": {
            "required": {"type": "string"},  # a property named "required" stays
            "items": {"type": "array", "items": {"type": "object", "properties": {}}},
        },
    }
    without = _count({k: v for k, v in body.items() if k != "text"})
    assert _count(body) - without == n(section.text)  # opening the message: text + 0
    assert count_input_tokens(body).exact
    loose = {**body, "text": {"format": {**body["text"]["format"], "strict": False}}}
    assert not count_input_tokens(loose).exact


def test_a_strict_schema_is_shown_rebuilt_type_and_properties_first() -> None:
    # Strict mode rebuilds the schema: `type`, then `properties` in the order `required`
    # lists them, then the rest as sent; keys sorted by a recorder come out as generated.
    schema = {
        "additionalProperties": False,
        "description": "A person.",
        "properties": {"age": {"type": "integer"}, "name": {"type": "string"}},
        "required": ["name", "age"],
        "type": "object",
    }
    fmt = {"type": "json_schema", "name": "person", "schema": schema, "strict": True}
    section = format_section(fmt, "o200k_base")
    assert section is not None
    shown = section.text.splitlines()[-1]
    assert shown == (
        '{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},'
        '"description":"A person."}'
    )
    loose = format_section({**fmt, "strict": False}, "o200k_base")
    assert loose is not None and loose.text.splitlines()[-1] == json.dumps(
        schema, separators=(",", ":")
    )


def test_a_strict_schema_whose_order_changes_the_count_is_flagged() -> None:
    # The records cannot tell a rebuilt order from the order sent: where they differ in
    # tokens, the count says so.
    member = {
        "additionalProperties": False,
        "properties": {
            "data": {"properties": {"city": {"type": "string"}}, "type": "object"},
            "kind": {"const": "CityLocation", "type": "string"},
        },
        "required": ["kind", "data"],
        "type": "object",
    }
    schema = {"properties": {"result": {"anyOf": [member]}}, "required": ["result"]}
    fmt = {"type": "json_schema", "name": "final_result", "schema": schema, "strict": True}
    section = format_section(fmt, "o200k_base")
    assert section is not None
    shown = section.text.splitlines()[-1]
    assert n(shown) != n(json.dumps(json.loads(shown), sort_keys=True, separators=(",", ":")))
    assert any("order of its keys" in r for r in section.reasons)


def test_chat_model_described_tools_join_a_leading_system_message_as_on_chat() -> None:
    # Described tools on a chat model take the Chat Completions layout: the same count as the
    # Chat Completions body of the same messages and tools.
    tool = _tool("find", "Find it.", q={"type": "string"})
    system = "You help."
    body = {
        "model": "gpt-4o",
        "input": [{"role": "system", "content": system}, {"role": "user", "content": "Hi"}],
        "tools": [tool],
    }
    chat_tool = {"type": "function", "function": {k: v for k, v in tool.items() if k != "type"}}
    chat = {
        "model": "gpt-4o",
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": "Hi"}],
        "tools": [chat_tool],
    }
    assert _count(body) == count_chat_tokens(chat).input_tokens
    assert render_prompt(body).text.startswith(
        "<|im_start|>system<|im_sep|>You help.<[-2 tokens: tools join the system message]>"
    )
    bare = {**body, "tools": [_tool("find", None, q={"type": "string"})]}
    assert render_prompt(bare).text.startswith("<|im_start|>system<|im_sep|><[-1 tokens")


def test_json_object_and_text_formats_add_nothing() -> None:
    plain = _count({"model": "gpt-5", "input": "Hi"})
    for fmt in ({"type": "text"}, {"type": "json_object"}):
        assert _count({"model": "gpt-5", "input": "Hi", "text": {"format": fmt}}) == plain


def test_deferred_tools_are_not_counted_and_say_so() -> None:
    deferred = {**_tool("later", "Loaded on demand."), "defer_loading": True}
    body = {"model": "gpt-5", "input": "Hi", "tools": [deferred]}
    result = count_input_tokens(body)
    assert result.input_tokens == _count({"model": "gpt-5", "input": "Hi"})
    assert any("deferred tool 'later'" in r for r in result.estimate_reasons)


@pytest.mark.parametrize(
    "tool",
    [
        {"type": "web_search"},
        {"type": "file_search", "vector_store_ids": ["vs_1"]},
        {"type": "code_interpreter", "container": {"type": "auto"}},
        {"type": "image_generation"},
        {"type": "local_shell"},
        {"type": "apply_patch"},
        {"type": "mcp", "server_label": "docs", "server_url": "https://example.com/mcp"},
        {
            "type": "custom",
            "name": "sql",
            "format": {"type": "grammar", "syntax": "lark", "definition": 'start: "SELECT"'},
        },
        {
            "type": "namespace",
            "name": "crm",
            "description": "CRM tools.",
            "tools": [_tool("find", "Find a customer.", q={"type": "string"})],
        },
    ],
)
def test_other_tool_kinds_count_their_definition_and_name_themselves(tool: dict) -> None:
    body = {"model": "gpt-5", "input": "Hi", "tools": [tool]}
    result = count_input_tokens(body)
    assert result.input_tokens > _count({"model": "gpt-5", "input": "Hi"})
    assert not result.exact
    name = tool.get("name") or tool["type"]
    assert any(name in r for r in result.estimate_reasons)


def _custom(fmt: dict | None, description: str | None = "Run SQL.") -> dict:
    tool: dict = {"type": "custom", "name": "sql"}
    if description is not None:
        tool["description"] = description
    if fmt is not None:
        tool["format"] = fmt
    return tool


def test_custom_tool_declares_free_text_with_its_grammar_as_lark() -> None:
    lark = {"type": "grammar", "syntax": "lark", "definition": '\n    start: "SELECT" WORD\n    '}
    regex = {"type": "grammar", "syntax": "regex", "definition": "\\d+"}
    text = render_prompt({"model": "gpt-5", "input": "Hi", "tools": [_custom(lark)]}).text
    assert "// Run SQL.\n// IMPORTANT: This tool only accepts string inputs that obey" in text
    # The common indentation goes; the sentence goes on after the grammar's last line break.
    assert 'lark grammar \n// start: "SELECT" WORD\n// . You must reason carefully' in text
    assert "type sql = (FREEFORM) => any;" in text
    text = render_prompt({"model": "gpt-5", "input": "Hi", "tools": [_custom(regex)]}).text
    assert "obey the lark grammar start: /\\d+/. You must" in text
    for fmt in (lark, regex, {"type": "text"}):
        result = count_input_tokens({"model": "gpt-5", "input": "Hi", "tools": [_custom(fmt)]})
        assert result.exact, fmt


@pytest.mark.parametrize(
    ("tools", "model", "shape"),
    [
        ([_custom({"type": "text"}, description=None)], "gpt-5", "no description"),
        ([_custom(None)], "gpt-5", "no format"),
        ([_custom({"type": "text"}), _tool("f", "F.")], "gpt-5", "next to other tools"),
        ([_custom({"type": "text"})], "gpt-4o", "not a hosted reasoning model"),
        (
            [_custom({"type": "grammar", "syntax": "regex", "definition": "a/b"})],
            "gpt-5",
            "a regex with a slash",
        ),
        (
            [_custom({"type": "grammar", "syntax": "lark", "definition": "start: a\n  | b"})],
            "gpt-5",
            "unevenly indented",
        ),
    ],
)
def test_custom_tool_shapes_no_record_covers_are_estimates(
    tools: list, model: str, shape: str
) -> None:
    result = count_input_tokens({"model": model, "input": "Hi", "tools": tools})
    assert not result.exact
    assert any("custom tool 'sql'" in r and shape in r for r in result.estimate_reasons)


def test_screenshot_of_a_computer_call_is_an_image_not_base64_text() -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.effect_noise((1280, 800), 64).save(buffer, "PNG")  # noise: ~1 MB, no compression
    png = base64.b64encode(buffer.getvalue()).decode()
    body = {
        "model": "gpt-5",
        "input": [
            {"role": "user", "content": "Click OK"},
            {
                "type": "computer_call",
                "id": "cu_1",
                "call_id": "c1",
                "status": "completed",
                "pending_safety_checks": [],
                "action": {"type": "click", "x": 1, "y": 2, "button": "left"},
            },
            {
                "type": "computer_call_output",
                "call_id": "c1",
                "output": {
                    "type": "computer_screenshot",
                    "image_url": f"data:image/png;base64,{png}",
                },
            },
        ],
    }
    result = count_input_tokens(body)
    # gpt-5's tile rule (70/140) at the real size: 1280x800 -> 1229x768 -> 3x2 tiles.
    assert result.details["image_tokens"] == 70 + 6 * 140
    assert len(png) > 500_000  # as text, this base64 would be well over 100k tokens
    assert any("computer_call_output" in r for r in result.estimate_reasons)


def test_reasoning_of_an_ended_turn_is_dropped() -> None:
    reasoning = {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "Think about greeting."}],
    }
    turn = [
        {"role": "user", "content": "Hi"},
        reasoning,
        {"role": "assistant", "content": "Hello!"},
    ]
    ended = _count({"model": "gpt-5", "input": [*turn, {"role": "user", "content": "Bye"}]})
    without = _count(
        {"model": "gpt-5", "input": [turn[0], turn[2], {"role": "user", "content": "Bye"}]}
    )
    assert ended == without
    ongoing = _count({"model": "gpt-5", "input": turn})
    assert ongoing > _count({"model": "gpt-5", "input": [turn[0], turn[2]]})


def test_verbosity_adds_nothing_recorded_on_reasoning_models_only() -> None:
    body = {"model": "gpt-5", "input": "Hi", "text": {"verbosity": "low"}}
    result = count_input_tokens(body)
    assert result.input_tokens == _count({"model": "gpt-5", "input": "Hi"})
    assert result.exact
    chat = count_input_tokens({**body, "model": "gpt-4.1"})
    assert chat.input_tokens == _count({"model": "gpt-4.1", "input": "Hi"})
    assert any("text.verbosity" in r for r in chat.estimate_reasons)


def _additional_tools_body(tools: list[dict[str, Any]], model: str = "gpt-5.6") -> dict[str, Any]:
    return {
        "model": model,
        "input": [
            {"role": "user", "content": "Hi"},
            {"type": "additional_tools", "role": "developer", "tools": tools},
        ],
    }


_LOOKUP = {
    "type": "function",
    "name": "lookup",
    "description": "Look it up.",
    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
}


def test_additional_tools_item_is_a_developer_message_plus_eighty() -> None:
    with_item = count_input_tokens(_additional_tools_body([_LOOKUP]))
    without = count_input_tokens({"model": "gpt-5.6", "input": [{"role": "user", "content": "Hi"}]})
    text = render_prompt(_additional_tools_body([_LOOKUP])).blocks[1].text()
    assert text.startswith("<|start|>developer<|message|># Tools\n\n## functions\n\n")
    assert with_item.exact
    from inputtokens.core.tokenizer import get_encoding

    namespace = text[len("<|start|>developer<|message|>") : text.index("<[")]
    n = len(get_encoding("o200k_base").encode_ordinary(namespace))
    assert with_item.input_tokens - without.input_tokens == 4 + n + 80


@pytest.mark.parametrize(
    "tools,model",
    [([_LOOKUP, {**_LOOKUP, "name": "other"}], "gpt-5.6"), ([_LOOKUP], "gpt-4.1")],
)
def test_additional_tools_outside_the_recorded_shape_is_flagged(
    tools: list[dict[str, Any]], model: str
) -> None:
    result = count_input_tokens(_additional_tools_body(tools, model))
    assert not result.exact
    assert any("'additional_tools' item" in r for r in result.estimate_reasons)


def test_a_call_to_a_tool_the_request_does_not_declare_is_an_estimate() -> None:
    def body(tools: list) -> dict:
        call = {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}"}
        output = {"type": "function_call_output", "call_id": "c1", "output": "ok"}
        return {
            "model": "gpt-5",
            "input": [{"role": "user", "content": "Hi"}, call, output],
            "tools": tools,
        }

    declared = count_input_tokens(body([_tool("lookup", "Look up.", q={"type": "string"})]))
    assert declared.exact
    other = count_input_tokens(body([_tool("other", "Other.", q={"type": "string"})]))
    assert not other.exact
    assert any("'functions.lookup', which is not among" in r for r in other.estimate_reasons)
    # gpt-oss: the reference renderer writes any call alike.
    assert count_input_tokens({**body([]), "model": "gpt-oss-20b"}).exact


def _tool_search_body(tools: list[dict[str, Any]], items: list[dict[str, Any]]) -> dict[str, Any]:
    array = {"type": "array", "items": {"type": "string"}, "description": "Queries."}
    search = {
        "type": "tool_search",
        "execution": "client",
        "description": "Search.",
        "parameters": {"type": "object", "properties": {"q": array}, "required": ["q"]},
    }
    deferred = {**_tool("lookup", "Look up.", id={"type": "string"}), "defer_loading": True}
    user = {"role": "user", "content": "Hi"}
    return {"model": "gpt-5.4", "input": [user, *items], "tools": [search, *tools, deferred]}


def test_client_tool_search_declaration_has_no_described_array_offset() -> None:
    body = _tool_search_body([], [])
    text = HEAD + "// Search.\ntype tool_search = (_: {\n// Queries.\nq: string[],\n}) => any;\n"
    # framing and opening offset (+2), the listing of one deferred tool (5 + 14); no -2
    assert _count(body) - _without_tools(body) == n(text + TAIL) + 2 + 19
    assert not count_input_tokens(body).exact


def test_tool_search_output_loads_each_function_as_a_namespace_of_its_own() -> None:
    loaded = _tool("lookup", "Look up.", id={"type": "string"})
    call = {"type": "tool_search_call", "execution": "client", "arguments": {"q": ["x"]}}
    output = {"type": "tool_search_output", "execution": "client", "tools": [loaded]}
    prompt = render_prompt(_tool_search_body([], [call, output])).text
    namespace = (
        "## lookup\n\n// Look up.\nnamespace lookup {\n\ntype lookup = (_: {\nid: string,\n"
        "}) => any;\n\n} // namespace lookup"
    )
    assert f"<|start|>tool_search to=assistant<|channel|>commentary<|message|>{namespace}<[" in (
        prompt
    )
    assert "<[+98 tokens: tool_search_output hidden text]>" in prompt

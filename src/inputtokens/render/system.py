"""The leading section of the prompt: instructions, tool definitions and the response format.

Where each part goes and what it costs differs per prompt family (docs/counting-rules.md §2-4):

- ``harmony`` (OpenAI-hosted reasoning models): one developer message holding the sections
  instructions, tools, response format, joined by blank lines. Recorded counts show that each
  section is tokenized on its own, and that a message opened by the tools costs 2 tokens less
  than its text and framing (4 less when opened by the response format).
- ``chat`` (non-reasoning models): ``instructions`` is a system message of its own; the tool
  namespace (without headings) and the response format share a second system message, which
  costs 1 token less than its text and framing. Described tools (or several with parameters)
  take the Chat Completions layout instead: under the headings, joined to the instructions or
  a leading system message.
- ``oss`` (gpt-oss): the harmony reference layout: a system message (identity, knowledge cutoff,
  reasoning effort, channels) and a developer message with ``# Instructions`` and the tools,
  tokenized as one string.

Each family's renderer is a ``SystemRenderer`` named in its row of the table in families.py,
which hands it the family's framing and tool style.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..core.reasons import reason
from ..core.tokenizer import count_cached, get_encoding
from ..core.types import JSON
from ..formats.responses import CountRequest
from .framing import Framing
from .kept import Kept
from .prompt import Block, Offset, Segment, Text
from .schema_ts import MAX_SCHEMA_DEPTH, is_mapping
from .tools import FITTED, FITTED_EVIDENCE, FunctionNamespace, ToolStyle

_JOIN = "\n\n"
# Offsets of a message opened by a given section (hosted reasoning models; fitted on records).
_HARMONY_OPENING_OFFSET = {"tools": -2, "text.format": -4}
# Non-reasoning models: tools -1 (recorded); a format alone -4, by analogy with the hosted
# reasoning models (not recorded).
_CHAT_OPENING_OFFSET = {"tools": -1, "text.format": -4}
# Non-reasoning models, the Chat Completions layout: the tools joining a leading system message
# (fitted on Chat Completions records, in place of the -1 of tools opening a message).
_CHAT_JOIN_OFFSET = -2
_STRICT_IMPLIED = frozenset({"additionalProperties", "required"})
_STRICT_KEYS_FIRST = {"type": 0, "properties": 1}
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})
_SCHEMA_LISTS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})
_SCHEMA_SUBS = frozenset({"items", "not", "contains", "if", "then", "else"})

# Hosted tools whose hidden prompt one recorded request measured: the tokens the tool added to
# that request (its count minus the same request without the tool), and the model it was on.
# One record each, so the count stays an estimate (docs/counting-rules.md, "Hosted tools").
HOSTED_PROMPT_TOKENS: dict[str, tuple[int, str]] = {
    # ..._model_web_search_tool_with_allowed_domains#0@1a260e025: 4443 (the search did not run)
    "web_search": (4420, "gpt-5"),
    # ..._image_generation_with_prompted_output#0@111dda9bc: 434 (no image was generated)
    "image_generation": (342, "gpt-5"),
    # test_openai_test_openai_responses_apply_patch_toolset#0: 659 (no call made)
    "apply_patch": (623, "gpt-5.4"),
    # ..._code_execution_tool#0: 165 (the code did not run)
    "code_interpreter": (139, "gpt-4o"),
}

OSS_MODEL_IDENTITY = "You are ChatGPT, a large language model trained by OpenAI."
OSS_KNOWLEDGE_CUTOFF = "2024-06"

# The request, the family's framing and tool style, the model's encoding -> the blocks before
# the input items, and how many leading input items they absorbed (a new list: the prompt's
# own).
SystemRenderer = Callable[[CountRequest, Framing, ToolStyle, str], tuple[list[Block], int]]


class Section:
    """One part of the leading message: its label, text, fitted offsets and estimate reasons."""

    __slots__ = ("label", "text", "offsets", "reasons", "chat_layout")

    def __init__(
        self,
        label: str,
        text: str,
        offsets: list[Offset] | None = None,
        reasons: list[str] | None = None,
        chat_layout: bool = False,
    ) -> None:
        self.label, self.text = label, text
        self.offsets = offsets or []
        self.reasons = reasons or []
        # Tools of a non-reasoning model laid out as on Chat Completions (headings; they join
        # a leading system message): described tools, or several with parameters.
        self.chat_layout = chat_layout

    def copy(self) -> Section:
        """A section its caller may change (the renderers append offsets and reasons)."""
        return Section(
            self.label, self.text, list(self.offsets), list(self.reasons), self.chat_layout
        )


def _visible_json(tool: Mapping[str, Any]) -> str:
    return json.dumps(
        {k: v for k, v in tool.items() if v is not None}, ensure_ascii=False, separators=(",", ":")
    )


# A client tool_search tool with deferred tools costs this beyond its declaration as a function
# (an estimate): 19 with one deferred function on gpt-5.4 and gpt-5.4-mini
# (cross_provider_capability_replay[openai-responses-gpt-5.4-anthropic-...]#0@59ffe5fd1,
# keeps_native_tool_search#0, whose declaration takes no described-array offset), 33 with two
# (execution_client_round_trip#0, recorded a month earlier, when tool_search_output pairs cost
# 49 more than a week later).
FITTED_TOOL_SEARCH = {"listing": 5, "per_deferred": 14}


def _tool_search_function(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A client tool_search tool as the function declaration the model reads (its type kept:
    the namespace renders it as a function, without the described-array offset)."""
    declared: dict[str, Any] = {"type": "tool_search", "name": "tool_search"}
    if isinstance(tool.get("description"), str):
        declared["description"] = tool["description"]
    if tool.get("parameters") is not None:
        declared["parameters"] = tool["parameters"]
    return declared


def _in_functions_namespace(tool: Mapping[str, Any]) -> bool:
    """Function and custom tools that are not deferred: the ``functions`` namespace."""
    return tool.get("type") in ("function", "custom") and tool.get("defer_loading") is not True


def _has_description(schema: Any, depth: int = 0) -> bool:
    """Whether a schema object, or any schema below it, has a ``description``."""
    if isinstance(schema, list):
        return any(_has_description(s, depth + 1) for s in schema)
    if not is_mapping(schema) or depth > MAX_SCHEMA_DEPTH:
        return False
    if isinstance(schema.get("description"), str) and schema["description"]:
        return True
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and is_mapping(value):
            if any(_has_description(sub, depth + 1) for sub in value.values()):
                return True
        elif (key in _SCHEMA_LISTS or key in _SCHEMA_SUBS) and _has_description(value, depth + 1):
            return True
    return False


def _beyond_bare_records(functions: Sequence[Mapping[str, Any]]) -> bool:
    """Non-reasoning models: whether the function tools go beyond what recorded counts cover,
    tools without descriptions at most one of which has parameters."""
    with_parameters = 0
    for tool in functions:
        if tool.get("description") or _has_description(tool.get("parameters")):
            return True
        with_parameters += bool((tool.get("parameters") or {}).get("properties"))
    return with_parameters > 1


def _chat_unmatched_features(
    schema: Any, depth: int = 0, nested: bool = False, chat_completions: bool = False
) -> set[str]:
    """Schema features no recorded Chat Completions count covers on non-reasoning models: a
    ``default`` (on Chat Completions: other than on an undescribed property of the parameters,
    fitted on ``get_error`` of the MCP test server), and an object inside the parameters
    (``ref_sibling_wire_contract``, ``complex_agent_run_in_flow``: their counts differ from our
    rendering)."""
    if isinstance(schema, list):
        return set().union(
            *(_chat_unmatched_features(s, depth + 1, nested, chat_completions) for s in schema)
        )
    if not is_mapping(schema) or depth > MAX_SCHEMA_DEPTH:
        return set()
    found: set[str] = set()
    fitted = chat_completions and depth == 1 and "description" not in schema
    if "default" in schema and not fitted:
        found.add("a default")
    if nested and (schema.get("type") == "object" or is_mapping(schema.get("properties"))):
        found.add("a nested object")
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and is_mapping(value):
            for sub in value.values():  # properties and definitions: inside the parameters
                found |= _chat_unmatched_features(sub, depth + 1, True, chat_completions)
        elif key in _SCHEMA_LISTS or key in _SCHEMA_SUBS:
            found |= _chat_unmatched_features(value, depth + 1, True, chat_completions)
    return found


def _beyond_evidence(namespace: FunctionNamespace) -> list[str]:
    """A reason for each fitted offset the namespace applied beyond its records' shapes."""
    reasons = []
    for key, shape in namespace.beyond:
        rule, tokens, evidence = FITTED_EVIDENCE[key]
        reasons.append(
            reason("fitted_shape", rule=rule, tokens=f"{tokens:+d}", shape=shape, evidence=evidence)
        )
    return reasons


# The tools sections of the last tool lists seen (an agent's tools, per family). A section
# longer than _KEPT_TOOLS_CHARS is made every time: the table stays within ~2 MB.
_KEPT_TOOLS: Kept[Section | None] = Kept(32, b"tools section")
_KEPT_TOOLS_CHARS = 64 * 1024


def tools_section(tools: Sequence[Mapping[str, Any]], style: ToolStyle) -> Section | None:
    """The tools section, or None when no tool is visible to the model (render/kept.py keeps
    those of the tool lists last seen: a section depends on nothing but the tools and the
    style)."""
    if not tools:
        return None
    section = _KEPT_TOOLS.get(tools, style, lambda: _tools_section(tools, style), _small)
    return None if section is None else section.copy()


def _small(section: Section | None) -> bool:
    return section is None or len(section.text) <= _KEPT_TOOLS_CHARS


def _tools_section(tools: Sequence[Mapping[str, Any]], style: ToolStyle) -> Section | None:
    """The tools section, or None when no tool is visible to the model.

    Function and custom tools form the ``functions`` namespace; a namespace tool its own
    namespace; any other (hosted) tool a heading with its definition as JSON.
    """
    functions: list[Mapping[str, Any]] = []
    namespaces: list[Mapping[str, Any]] = []
    hosted: list[Mapping[str, Any]] = []
    reasons: list[str] = []
    search_offsets: list[Offset] = []
    deferred = sum(1 for t in tools if t.get("defer_loading") is True)
    for tool in tools:
        kind = tool.get("type")
        if tool.get("async") is True:  # no recording shows how the model is told
            reasons.append(reason("async_tool", name=tool.get("name")))
        if kind == "tool_search" and tool.get("execution") == "client" and deferred:
            # A client tool_search: declared like a function (its description and parameters);
            # the deferred tools it can load add a hidden listing (fitted, an estimate).
            functions.append(_tool_search_function(tool))
            search_offsets.append(
                Offset(
                    FITTED_TOOL_SEARCH["listing"] + FITTED_TOOL_SEARCH["per_deferred"] * deferred,
                    "deferred tools listed for tool_search",
                )
            )
            reasons.append(reason("tool_search_tool", deferred=deferred))
        elif tool.get("defer_loading") is True:
            reasons.append(reason("deferred_tool", name=tool.get("name")))
        elif _in_functions_namespace(tool):
            functions.append(tool)
        elif kind == "namespace":
            namespaces.append(tool)
        else:
            hosted.append(tool)
    if not (functions or namespaces or hosted):
        return Section("tools", "", reasons=reasons) if reasons else None
    parts: list[str] = []
    offsets: list[Offset] = search_offsets
    unverified: set[str] = set()
    # Non-reasoning models on Responses: described tools, or several with parameters, take the
    # Chat Completions layout (docs/counting-rules.md, Non-reasoning models).
    chat_layout = (
        style.bare_tools_only
        and not style.chat_completions
        and bool(functions)
        and _beyond_bare_records(functions)
    )
    if chat_layout:
        style = replace(style, headings=True)
    if functions:
        namespace = FunctionNamespace(functions, style)
        parts.append(namespace.text)
        offsets += namespace.offsets
        unverified |= namespace.unverified
        reasons += [reason("custom_tool", name=n, shape=shape) for n, shape in namespace.custom]
        reasons += _beyond_evidence(namespace)
        if namespace.bare_followed and not style.bare_tools_only:
            reasons.append(reason("bare_tool_followed", name=namespace.bare_followed))
        if chat_layout:
            reasons.append(reason("chat_described_tools"))
        if style.bare_tools_only:
            features: set[str] = set()
            for function in functions:
                features |= _chat_unmatched_features(
                    function.get("parameters"), chat_completions=style.chat_completions
                )
            if features:
                reasons.append(reason("chat_tool_schema", feature=" and ".join(sorted(features))))
    for space in namespaces:
        members = [t for t in space["tools"] if t.get("defer_loading") is not True]
        namespace = FunctionNamespace(
            members,
            style,
            name=space["name"],
            description=space.get("description"),
            headings=not parts,
        )
        parts.append(namespace.text)
        offsets += namespace.offsets
        reasons.append(reason("namespace_tool", name=space["name"]))
        reasons += _beyond_evidence(namespace)
    reasons += [reason("schema_feature", feature=feature) for feature in sorted(unverified)]
    for builtin in hosted:
        kind = str(builtin.get("type"))
        name = builtin.get("name") or kind
        measured = HOSTED_PROMPT_TOKENS.get(kind)
        if measured is not None:
            tokens, model = measured
            offsets.append(Offset(tokens, f"hidden prompt of the {kind} tool, measured on {model}"))
            reasons.append(
                reason("hosted_tool_measured", type=kind, name=name, tokens=tokens, model=model)
            )
            continue
        # No published rendering: the tool's own definition is counted as the model could see it.
        heading = f"## {name}"
        if not parts and style.headings:
            heading = "# Tools\n\n" + heading
        parts.append(f"{heading}\n\n{_visible_json(builtin)}")
        reasons.append(reason("hosted_tool", type=kind, name=name))
    return Section("tools", _JOIN.join(parts), offsets, reasons, chat_layout)


def _rebuilt(
    schema: Any, keys: Callable[[Mapping[str, Any]], Iterable[str]], required_first: bool = False
) -> Any:
    """The schema rebuilt with, at every schema position (never a property's name), the keys
    `keys` picks from that object, in the order it gives them; with `required_first`, an
    object's properties in the order its ``required`` lists them, the others after as sent."""
    if isinstance(schema, list):
        return [_rebuilt(s, keys, required_first) for s in schema]
    if not is_mapping(schema):
        return schema
    out: dict[str, Any] = {}
    for key in keys(schema):
        value = schema[key]
        if key in _SCHEMA_MAPS and is_mapping(value):
            names: Iterable[str] = value
            if key == "properties" and required_first:
                names = _required_order(value, schema.get("required"))
            out[key] = {name: _rebuilt(value[name], keys, required_first) for name in names}
        elif key in _SCHEMA_LISTS or key in _SCHEMA_SUBS:
            out[key] = _rebuilt(value, keys, required_first)
        else:
            out[key] = value
    return out


def _required_order(properties: Mapping[str, Any], required: Any) -> list[str]:
    """The property names in the order ``required`` lists them, the others after as sent."""
    listed = required if isinstance(required, list) else []
    first = [n for n in dict.fromkeys(listed) if isinstance(n, str) and n in properties]
    return first + [n for n in properties if n not in first]


def _strict_keys(schema: Mapping[str, Any]) -> list[str]:
    """A strict schema object's keys as it is shown: without the keywords strict mode implies,
    ``type`` and ``properties`` first, the others as sent."""
    kept = [k for k in schema if k not in _STRICT_IMPLIED]
    return sorted(kept, key=lambda k: _STRICT_KEYS_FIRST.get(k, len(_STRICT_KEYS_FIRST)))


def _strict_schema(schema: Any) -> Any:
    """A strict schema as the model is shown it (docs/counting-rules.md, Structured outputs).
    Strict mode implies every property required and no additional properties, and those
    keywords are not shown: the schema is rebuilt, not shown as sent. Rebuilt in the order of
    a schema's own model: ``type``, ``properties`` (in ``required``'s order), then the rest as
    sent. Two recordings of keys sorted by the recorder are exact in this order and 1 over
    in the sorted one; where an order changes the count, the count is flagged."""
    return _rebuilt(schema, _strict_keys, required_first=True)


def _type_first(schema: Any) -> Any:
    """The schema with ``type`` first in every schema object, the other keys as sent."""
    return _rebuilt(schema, lambda s: sorted(s, key=lambda k: k != "type"))


def _compact(schema: Any, sort_keys: bool = False) -> str:
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)


def _key_order_reason(encoding_name: str, shown: str, as_sent: Any) -> str | None:
    """A reason when the schema's token count depends on the order of its keys.

    Every recorded schema had its keys sorted by the recorder, so no record shows whether
    OpenAI renders the keys in the order sent or in an order of its own (docs/counting-rules.md,
    Structured outputs). Three other orders of `as_sent` (the schema before any reordering)
    are tried: as sent, all keys sorted, and ``type`` first.
    """
    encoding = get_encoding(encoding_name)
    count = count_cached(encoding, shown)
    others = (_compact(as_sent), _compact(as_sent, sort_keys=True), _compact(_type_first(as_sent)))
    for other in others:
        if other != shown and count_cached(encoding, other) != count:
            return reason("format_key_order")
    return None


# The format sections of the last schemas seen, as for tools (render/kept.py): a schema is
# tokenized in up to three other key orders to see whether its order matters, work an agent
# sending the same schema before every call need not repeat.
_KEPT_FORMATS: Kept[Section] = Kept(32, b"format section")


def format_section(fmt: Mapping[str, Any], encoding: str) -> Section | None:
    """The ``# Response Formats`` section of a json_schema format (a ``text.format`` value);
    other formats add nothing."""
    if fmt.get("type") != "json_schema":
        return None
    section = _KEPT_FORMATS.get(fmt, encoding, lambda: _format_section(fmt, encoding), _small)
    return section.copy()


def _format_section(fmt: Mapping[str, Any], encoding: str) -> Section:
    reasons: list[str] = []
    schema = as_sent = fmt.get("schema", {})
    if fmt.get("strict") is True:
        schema = _strict_schema(as_sent)
        as_sent = _rebuilt(as_sent, lambda s: [k for k in s if k not in _STRICT_IMPLIED])
    else:
        reasons.append(reason("format_not_strict"))
    lines = ["# Response Formats", "", f"## {fmt.get('name', '')}", ""]
    if isinstance(fmt.get("description"), str):
        lines.append(f"// {fmt['description']}")
        reasons.append(reason("format_description"))
    shown = _compact(schema)
    lines.append(shown)
    order = _key_order_reason(encoding, shown, as_sent)
    if order:
        reasons.append(order)
    return Section("text.format", "\n".join(lines), reasons=reasons)


def _text_format(request: CountRequest) -> Mapping[str, Any]:
    return (request.text or {}).get("format") or {}


def message_blocks(
    role: str,
    framing: Framing,
    sections: list[Section],
    opening_offset: Mapping[str, int],
    leading: Section | None = None,
    join_offset: int = 0,
) -> list[Block]:
    """One message holding `sections`, each its own block and tokenized apart.

    A section without text (all its tools deferred) becomes an empty block that only carries
    its estimate reasons. `leading` is a message's own text (a leading system message's, the
    instructions) that the sections join after a blank line: the first of them with text then
    takes the fitted `join_offset`. `opening_offset` applies to the section that opens the
    message, by its label.
    """
    parts = sections if leading is None else [leading, *sections]
    visible = [s for s in parts if s.text]
    joining = None
    if leading is not None and join_offset:
        joining = next((s for s in sections if s.text), None)
    blocks: list[Block] = []
    for section in parts:
        if not section.text:
            # Nothing the model sees as text: all tools deferred, or measured hidden prompts.
            blocks.append(Block(section.label, list(section.offsets), list(section.reasons)))
            continue
        first = section is visible[0]
        segments: list[Segment] = framing.open(role) if first else []
        if first and section.label in opening_offset:
            rule = f"{section.label} open the message"
            segments.append(Offset(opening_offset[section.label], rule))
        if section is joining:
            segments.append(Offset(join_offset, f"{section.label} join the system message"))
        segments.append(Text(section.text if first else _JOIN + section.text, section.label))
        segments.extend(section.offsets)
        if section is visible[-1]:
            segments.extend(framing.close())
        blocks.append(Block(section.label, segments, list(section.reasons)))
    return blocks


def harmony_system(
    request: CountRequest, framing: Framing, style: ToolStyle, encoding: str
) -> tuple[list[Block], int]:
    """OpenAI-hosted reasoning models: one developer message of sections, or nothing."""
    if not (request.instructions or request.tools or request.text):
        return [], 0  # the common case, without building the sections
    sections = []
    if request.instructions:  # empty instructions add nothing (recorded)
        sections.append(Section("instructions", request.instructions))
    tools = tools_section(request.tools, style)
    # Instructions with a visible function without parameters: asked twice below, walked once.
    bare = bool(request.instructions and request.tools) and _has_bare_function(request.tools)
    if tools and tools.text and bare:
        rule = "instructions with a tool without parameters"
        tools.offsets.append(Offset(FITTED["instructions_with_bare_tool"], rule))
    sections += [s for s in (tools, format_section(_text_format(request), encoding)) if s]
    if not sections:
        return [], 0
    blocks = message_blocks(framing.system_role, framing, sections, _HARMONY_OPENING_OFFSET)
    labels = [s.label for s in sections if s.text]
    if "text.format" in labels and labels[0] != "text.format":
        blocks[-1].estimate_reasons.append(reason("format_placement"))
    if bare and "tools" in labels:
        # One record (gpt-5): 1 over the rule that fits instructions with tools that all have
        # parameters (gpt-5.2 to 5.6). A fitted offset, flagged.
        blocks[-1].estimate_reasons.append(reason("instructions_with_bare_tool"))
    return blocks, 0


def _has_bare_function(tools: tuple[JSON, ...]) -> bool:
    """Whether a visible function tool declares no parameters (rendered ``() => any``)."""
    return any(
        t.get("type") == "function"
        and t.get("defer_loading") is not True
        and not ((t.get("parameters") or {}).get("properties"))
        for t in tools
    )


def _joinable_text(item: JSON) -> str | None:
    """The text of a leading system or developer message the tools can join, as on Chat
    Completions (a string, or text parts only); None for anything else."""
    if item.get("type", "message") != "message" or item.get("role") not in ("system", "developer"):
        return None
    content = item.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(
        is_mapping(p) and p.get("type") == "input_text" for p in content
    ):
        return "".join(str(p.get("text") or "") for p in content)
    return None


def chat_system(
    request: CountRequest, framing: Framing, style: ToolStyle, encoding: str
) -> tuple[list[Block], int]:
    """Non-reasoning models: instructions as a system message, then the tools and the response
    format in a second one. Described tools take the Chat Completions layout instead: under
    the ``# Tools`` headings, joined to the instructions or to a leading system message (which
    is then absorbed: the second value is how many input items it took)."""
    if not (request.instructions or request.tools or request.text):
        return [], 0  # the common case, without building the sections
    tools = tools_section(request.tools, style)
    chat_layout = tools is not None and tools.chat_layout
    sections = [s for s in (tools, format_section(_text_format(request), encoding)) if s]
    leading: Section | None = None
    absorbed = 0
    blocks: list[Block] = []
    if request.instructions and chat_layout and sections:
        leading = Section("instructions", request.instructions)
    elif request.instructions:
        text = Text(request.instructions, "instructions")
        blocks.append(Block("instructions", framing.message("system", [text])))
    elif chat_layout and request.input and not request.input_is_text:
        joined = _joinable_text(request.input[0])
        if joined is not None:
            leading = Section(request.item_label(0), joined)
            absorbed = 1
    if not sections:
        return blocks, absorbed
    system = message_blocks(
        framing.system_role,
        framing,
        sections,
        _CHAT_OPENING_OFFSET,
        leading=leading,
        join_offset=_CHAT_JOIN_OFFSET,
    )
    labels = [s.label for s in sections if s.text]
    if labels and labels[0] == "text.format":
        system[-1].estimate_reasons.append(reason("chat_format_alone"))
    if request.instructions and labels:
        system[-1].estimate_reasons.append(reason("chat_system_with_instructions"))
    return blocks + system, absorbed


def oss_system(
    request: CountRequest, framing: Framing, style: ToolStyle, encoding: str
) -> tuple[list[Block], int]:
    """gpt-oss: the reference's system message, always, and a developer message when there are
    instructions, tools or a response format."""
    effort = (request.reasoning or {}).get("effort") or "medium"
    effort_shown = effort in ("low", "medium", "high")  # the efforts the reference can write
    tools = tools_section(request.tools, style)
    has_functions = any(_in_functions_namespace(t) for t in request.tools)
    channels = (
        "# Valid channels: analysis, commentary, final. Channel must be included for every message."
    )
    if has_functions:
        channels += "\nCalls to these tools must go to the commentary channel: 'functions'."
    system_parts = [f"{OSS_MODEL_IDENTITY}\nKnowledge cutoff: {OSS_KNOWLEDGE_CUTOFF}"]
    if effort_shown:
        system_parts.append(f"Reasoning: {effort}")
    system_parts.append(channels)
    system_text = _JOIN.join(system_parts)
    blocks = [Block("system", framing.message("system", [Text(system_text)]))]
    reasons: list[str] = []
    if not effort_shown:
        reasons.append(reason("oss_effort", effort=effort))
    developer: list[str] = []
    if request.instructions:
        developer += ["# Instructions", request.instructions]
    if tools is not None:
        reasons += tools.reasons
        if tools.text:
            developer.append(tools.text)
    fmt = format_section(_text_format(request), encoding)
    if fmt is not None:
        developer.append(fmt.text)
        reasons += fmt.reasons
        reasons.append(reason("oss_text_format"))
    if developer:
        body = [Text(_JOIN.join(developer), "instructions")]
        blocks.append(Block("developer", framing.message("developer", body), reasons))
    elif reasons:
        blocks[0].estimate_reasons.extend(reasons)
    return blocks, 0

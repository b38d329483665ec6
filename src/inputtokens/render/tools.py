"""Function tool definitions rendered as the TypeScript-like namespace the model reads.

The shape (see docs/prompt-format.md)::

    # Tools

    ## functions

    namespace functions {

    // {description}
    type {name} = (_: {
    // {property description}
    {key}{? if optional}: {type},
    }) => any;

    } // namespace functions

Three styles share it, each a ``ToolStyle`` row (the family table, families.py, says which
family uses which):

- ``REFERENCE_STYLE``: exactly the published harmony renderer (gpt-oss); a tool whose
  ``parameters`` is an object without properties still renders ``(_: {\\n})``.
- ``HOSTED_STYLE``: OpenAI's hosted reasoning models. Recorded counts show ``() => any`` for a
  tool without properties and constant corrections no text explains (``FITTED`` below).
- ``CHAT_STYLE``: non-reasoning models: as hosted, but the namespace alone, without the two
  headings; a tool with parameters none of which is described costs 1 less
  (``parameters_offset``), a tool followed by another costs nothing extra, and a description
  shows each of its non-blank lines stripped. The layout is fitted on Chat Completions records;
  Responses records cover only tools without descriptions, at most one of them with parameters.

Pure functions; the parameter types come from ``schema_ts``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .prompt import Offset
from .schema_ts import MAX_SCHEMA_DEPTH, TypeScriptSchema, is_mapping


@dataclass(frozen=True, slots=True)
class ToolStyle:
    """How one family declares its tools."""

    name: str
    # The ``# Tools`` and ``## {namespace}`` headings before a namespace (and ``# Tools`` before
    # a hosted tool that opens the tools text).
    headings: bool
    # Exactly the reference renderer: an object without properties still renders as an object,
    # no schema keywords beyond the reference, no fitted offsets. Otherwise as measured on the
    # hosted models: ``() => any``, the extended schema features, the ``FITTED`` offsets.
    reference: bool
    # Recorded counts cover only tools without descriptions, at most one of them with
    # parameters (a reason says so otherwise).
    bare_tools_only: bool = False
    # Fitted offset of each function tool with parameters none of whose properties has a
    # description (non-reasoning models: -1).
    parameters_offset: int = 0
    # The fitted offsets of a tool with parameters followed by another and of a tool with
    # comment lines and no parameters at the end (hosted models; the two are one fit).
    after_parameters_offset: bool = True
    # A description shows each non-blank line with its surrounding whitespace stripped
    # (non-reasoning models); otherwise every line as written.
    trimmed_description: bool = False
    # Fitted offset of each function tool one of whose top-level properties has a description
    # (reasoning models over Chat Completions: +1).
    described_property_offset: int = 0
    # Whether the fitted offset of described array properties applies (Responses: yes).
    described_array_offset: bool = True
    # The tools of a Chat Completions body. On a non-reasoning model the layout above is
    # fitted on those records, so described and several tools and a default of an undescribed
    # property are not estimates there (they are on Responses); the hosted offsets fitted on
    # Responses records only are flagged there.
    chat_completions: bool = False


REFERENCE_STYLE = ToolStyle("reference", headings=True, reference=True)
HOSTED_STYLE = ToolStyle("hosted", headings=True, reference=False)
# -1 per tool with parameters: get_capital (one required string, no description) on gpt-4o,
# openai_responses_stream#0/#1@111dda9bc and model_simple_response_with_tool_call#1; not when
# its properties are described, no offset for a tool followed by another, and trimmed
# description lines: Chat Completions records of 1 to 21 tools (docs/counting-rules.md,
# "Non-reasoning models").
CHAT_STYLE = ToolStyle(
    "chat",
    headings=False,
    reference=False,
    bare_tools_only=True,
    parameters_offset=-1,
    after_parameters_offset=False,
    trimmed_description=True,
)
# Reasoning models over Chat Completions: the hosted layout and offsets, plus +1 for each tool
# with a described property and without the described-array offset. Fitted on the gpt-5-mini
# and gpt-5 Chat Completions records of 1 to 4 tools (docs/counting-rules.md, Chat
# Completions): `search_tools` (a described string property) followed by one or two tools
# (tool_search_eval[openai]#0-#7), and `search_tools.queries` (a described array) last after a
# described parameterless tool and a tool with parameters (tool_availability_portability R1,
# R2, R4 -T6, gpt-5).
HOSTED_CHAT_STYLE = ToolStyle(
    "hosted-chat",
    headings=True,
    reference=False,
    described_property_offset=+1,
    described_array_offset=False,
)

# Fitted corrections for hosted models, in tokens, with the recorded cases they reproduce
# (docs/counting-rules.md §3). They are constants per occurrence, never per case.
FITTED = {
    # 3-tool requests: tools_plus_output (gpt-5-mini), tool_availability (gpt-5), and the
    # two gpt-5.2 tool_search cases.
    "tool_after_parameters": -1,
    # A tool with a description and no JSON parameters that ends the namespace: a described
    # parameterless function (vcr multimodal_tool_return, gpt-5-mini, 2 cases; R4-T3
    # additional-tools@7d39cea33, gpt-5.6) or a custom (free-text) tool (the five gpt-5
    # freeform/grammar cases). First of three it costs nothing (tool_availability, gpt-5).
    "described_bare_last": +1,
    # load_capability on gpt-5.2, gpt-5.4 and gpt-5.6 (4 cases).
    "object_description": +2,
    # search_tools.queries on gpt-5 and gpt-5.2 (3 cases).
    "described_array": -2,
    # Instructions before tools with a function without parameters (google thinking-part
    # replay@111dda9bc, gpt-5: one record, flagged). Its twin with the instructions as a system
    # message has the same count, as if instructions and tools were two messages.
    "instructions_with_bare_tool": +1,
}

# What the records behind each fitted offset of a tool show (docs/counting-rules.md, Tools): the
# offset applied to any other shape is flagged (reason ``fitted_shape``), naming the shape.
# Each entry: the offset's rule as the render shows it, its tokens, the recorded shape.
FITTED_EVIDENCE: dict[str, tuple[str, int, str]] = {
    # search_tools.queries (gpt-5, gpt-5.2), one per request, in the last tool.
    "described_array": (
        "described array properties",
        FITTED["described_array"],
        "one described array of strings, a top-level property of the last tool, on hosted "
        "reasoning models over the Responses API",
    ),
    # load_capability (gpt-5.2, gpt-5.4, gpt-5.6): {id: described string}, one per request.
    "object_description": (
        "parameters description",
        FITTED["object_description"],
        "one tool whose top-level parameters object has a description and no described "
        "object inside it, on hosted reasoning models over the Responses API",
    ),
    # get_file, always_ready (gpt-5-mini, gpt-5.6; gpt-5-mini over Chat Completions): alone.
    "described_bare_last": (
        "described tool without parameters last",
        FITTED["described_bare_last"],
        "a described function without parameters alone among the tools, or a custom tool",
    ),
    # search_tools (gpt-5-mini, gpt-5 over Chat Completions): {keywords} or {queries}, one per
    # request.
    "described_property": (
        "tool with a described property",
        +1,
        "one tool whose described top-level properties are strings or arrays of strings, "
        "without a default",
    ),
}

# What a custom tool's declaration says besides its description (hosted models). The wording is
# that of the model-visible prompts published for Codex's free-text ``apply_patch`` tool; the
# recorded gpt-5 counts fit it token for token (docs/counting-rules.md, "Custom tools").
CUSTOM_GRAMMAR = (
    "IMPORTANT: This tool only accepts string inputs that obey the lark grammar {grammar}. "
    "You must reason carefully about the input and make sure it obeys the grammar."
)
CUSTOM_NOT_PARALLEL = "IMPORTANT: Do NOT call this tool in parallel with other tools."


def _lines(text: str) -> list[str]:
    """Lines as the reference renderer splits them: on "\\n", a trailing "\\r" dropped."""
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return [p[:-1] if p.endswith("\r") else p for p in parts]


def _trimmed_lines(text: str) -> list[str]:
    """The non-blank lines of `text`, each stripped of surrounding whitespace."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def _described_property(params: Mapping[str, Any]) -> bool:
    """Whether a property of the parameters object (top level) has a comment line: a
    description, or a default (``// default: v``, fitted on Chat Completions records of
    ``get_error``)."""
    props = params.get("properties")
    return is_mapping(props) and any(
        is_mapping(p) and (isinstance(p.get("description"), str) or "default" in p)
        for p in props.values()
    )


def _has_properties(params: Any) -> bool:
    return (
        is_mapping(params) and is_mapping(params.get("properties")) and bool(params["properties"])
    )


def _described_bare(tool: Mapping[str, Any]) -> bool:
    """A tool declared with comment lines and no JSON parameters: a described function without
    properties, or a custom (free-text) tool (always commented: its format and the rule
    against parallel calls)."""
    if tool.get("type") == "custom":
        return True
    return (
        tool.get("type") == "function"
        and bool(tool.get("description"))
        and not _has_properties(tool.get("parameters"))
    )


def _undescribed_bare(tool: Mapping[str, Any]) -> bool:
    """A function with neither a description nor properties."""
    return (
        tool.get("type") == "function"
        and not tool.get("description")
        and not _has_properties(tool.get("parameters"))
    )


def _items_kind(items: Any) -> str | None:
    """What an array holds, when it is not what the described-array records hold (plain
    strings); None for plain strings."""
    if not is_mapping(items):
        return "items of no schema"
    if items.get("type") == "object" or "properties" in items:
        return "objects"
    if items.get("type") == "array":
        return "arrays"
    if items.get("type") != "string":
        return f"{items.get('type') or 'untyped'} items"
    if "description" in items or "enum" in items:
        return "described or enumerated strings"
    return None


def _described_arrays(schema: Any, depth: int = 0) -> list[tuple[int, str | None]]:
    """The properties, at any depth, that are arrays with a description: for each, its depth
    (0: a property of the parameters) and what it holds when not plain strings."""
    if not is_mapping(schema) or depth > MAX_SCHEMA_DEPTH:
        return []
    found: list[tuple[int, str | None]] = []
    props = schema.get("properties")
    if is_mapping(props):
        for prop in props.values():
            if is_mapping(prop):
                if prop.get("type") == "array" and isinstance(prop.get("description"), str):
                    found.append((depth, _items_kind(prop.get("items"))))
                # Only a property with nested properties or items can count (spares a call
                # per leaf property).
                if "properties" in prop or "items" in prop:
                    found += _described_arrays(prop, depth + 1)
    items = schema.get("items")
    if is_mapping(items):
        found += _described_arrays(items, depth + 1)
    return found


# The keys whose value holds subschemas: a mapping of them, or one schema or a list of them.
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions"})
_SCHEMA_NODES = frozenset({"items", "anyOf", "oneOf", "allOf"})


def _nested_described_object(schema: Any, depth: int = 0) -> bool:
    """Whether an object schema below the parameters object (a property, an array's items, a
    definition, a member of a union) has a description: rendered like the described
    parameters object, but recorded only at the top level."""
    if isinstance(schema, list):
        return any(_nested_described_object(s, depth + 1) for s in schema)
    if not is_mapping(schema) or depth > MAX_SCHEMA_DEPTH:
        return False
    if (
        depth
        and (schema.get("type") == "object" or is_mapping(schema.get("properties")))
        and isinstance(schema.get("description"), str)
    ):
        return True
    # Plain loops over frozensets, not any() over a generator: this visits every node of every
    # tool's parameters.
    for key, value in schema.items():
        if key in _SCHEMA_MAPS:
            if is_mapping(value):
                for sub in value.values():
                    if _nested_described_object(sub, depth + 1):
                        return True
        elif key in _SCHEMA_NODES and _nested_described_object(value, depth + 1):
            return True
    return False


def _described_property_shapes(params: Mapping[str, Any]) -> list[str]:
    """Described (or defaulted) top-level properties unlike those of the records behind the
    offset of a tool with a described property: strings and arrays of strings, no default."""
    props = params.get("properties")
    shapes: list[str] = []
    if not is_mapping(props):
        return shapes
    for key, prop in props.items():
        if not is_mapping(prop):
            continue
        if "default" in prop:
            shapes.append(f"a default on '{key}'")
        if not isinstance(prop.get("description"), str):
            continue
        if prop.get("type") == "object" or "properties" in prop:
            shapes.append(f"a described object '{key}'")
        elif prop.get("type") == "array" and _items_kind(prop.get("items")):
            shapes.append(f"a described array of {_items_kind(prop.get('items'))} '{key}'")
    return shapes


class FunctionNamespace:
    """The rendered ``functions`` namespace: its text, fitted offsets and unverified features."""

    __slots__ = ("text", "offsets", "unverified", "custom", "bare_followed", "beyond", "_fits")

    def __init__(
        self,
        tools: Iterable[Mapping[str, Any]],
        style: ToolStyle,
        *,
        name: str = "functions",
        description: str | None = None,
        headings: bool = True,
    ) -> None:
        self.offsets: list[Offset] = []
        self.unverified: set[str] = set()
        # Custom (free-text) tools whose shape no recorded count covers: (name, what differs).
        self.custom: list[tuple[str, str]] = []
        # A function without description or parameters followed by another tool (not the
        # reference style): no record shows what it costs there, so it is flagged.
        self.bare_followed: str | None = None
        # Fitted offsets applied beyond the shapes their records show: (FITTED_EVIDENCE key,
        # the shape), each an estimate reason.
        self.beyond: list[tuple[str, str]] = []
        # The tools each shape-bounded offset was applied to: (FITTED_EVIDENCE key, tool name).
        self._fits: list[tuple[str, str]] = []
        lines = ["# Tools", ""] if headings and style.headings else []
        if style.headings:
            lines += [f"## {name}", ""]
        if description:
            lines += [f"// {line}" for line in _lines(description)]
        lines += [f"namespace {name} {{", ""]
        tools = list(tools)
        for i, tool in enumerate(tools):
            followed = i < len(tools) - 1
            lines.extend(self._declaration(tool, style, followed, alone=len(tools) == 1))
            lines.append("")
        lines.append(f"}} // namespace {name}")
        self.text = "\n".join(lines)
        if len(self._fits) > 1:  # a tool list with at most one fit (most) has nothing to flag
            for key in ("described_array", "object_description", "described_property"):
                names = [name for k, name in self._fits if k == key]
                if len(set(names)) > 1:
                    self.beyond.append((key, f"{len(set(names))} tools ({', '.join(names)})"))
        if style.reference or not style.after_parameters_offset or not tools:
            return
        if _described_bare(tools[-1]):
            self.offsets.append(
                Offset(FITTED["described_bare_last"], "described tool without parameters last")
            )
            if len(tools) > 1 and tools[-1].get("type") == "function":
                # A custom tool next to others says so itself (custom_tool).
                shape = f"function '{tools[-1]['name']}' last after {len(tools) - 1} other tool(s)"
                self.beyond.append(("described_bare_last", shape))
        for tool in tools[:-1]:
            if _undescribed_bare(tool):
                self.bare_followed = str(tool["name"])
                break

    def _declaration(
        self, tool: Mapping[str, Any], style: ToolStyle, followed: bool, alone: bool
    ) -> list[str]:
        if tool.get("type") == "custom":
            return self._custom(tool, style, alone)
        description = tool.get("description")
        lines = []
        if isinstance(description, str):
            split = _trimmed_lines if style.trimmed_description else _lines
            lines = [f"// {line}" for line in split(description)]
        params = tool.get("parameters")
        name = tool["name"]
        if is_mapping(params) and (style.reference or _has_properties(params)):
            schema = TypeScriptSchema(extended=not style.reference, root=params)
            lines.append(f"type {name} = (_: {schema.render(params)}) => any;")
            self.unverified |= schema.unverified
            if not style.reference:
                self._fit(str(name), params, followed, style, tool.get("type") == "tool_search")
        else:
            lines.append(f"type {name} = () => any;")
        return lines

    def _fit(
        self,
        name: str,
        params: Mapping[str, Any],
        followed: bool,
        style: ToolStyle,
        tool_search: bool,
    ) -> None:
        if style.parameters_offset and not _described_property(params):
            self.offsets.append(Offset(style.parameters_offset, "tool with parameters"))
        if followed and style.after_parameters_offset:
            self.offsets.append(Offset(FITTED["tool_after_parameters"], "tool followed by another"))
        if style.described_property_offset and _described_property(params):
            self.offsets.append(
                Offset(style.described_property_offset, "tool with a described property")
            )
            self._fits.append(("described_property", name))
            shapes = _described_property_shapes(params)
            if shapes:
                self.beyond.append(("described_property", f"{', '.join(shapes)} in '{name}'"))
        # Where the records of the hosted offsets below are not: another API or family.
        elsewhere = (
            "Chat Completions"
            if style.chat_completions
            else "a non-reasoning model"
            if style.bare_tools_only
            else None
        )
        if isinstance(params.get("description"), str):
            self.offsets.append(Offset(FITTED["object_description"], "parameters description"))
            self._fits.append(("object_description", name))
            if elsewhere:
                self.beyond.append(("object_description", f"'{name}' on {elsewhere}"))
        if _nested_described_object(params):
            # Rendered like the described parameters object, without its offset: no record.
            shape = (
                f"a described object inside the parameters of '{name}' (rendered like a "
                "described parameters object, without the offset)"
            )
            self.beyond.append(("object_description", shape))
        # Not on a client tool_search's declaration: its described array costs its text alone
        # (keeps_native_tool_search#0, gpt-5.4-mini, the very schema of the search_tools
        # records above). Those functions are strict, the tool_search is not: which of the two
        # decides is not recorded.
        arrays = (
            [] if tool_search or not style.described_array_offset else _described_arrays(params)
        )
        if arrays:
            self.offsets.append(
                Offset(FITTED["described_array"] * len(arrays), "described array properties")
            )
            self._fits += [("described_array", name)] * len(arrays)
            shapes = [f"{len(arrays)} described arrays"] if len(arrays) > 1 else []
            if any(depth for depth, _ in arrays):
                shapes.append("a described array below the top level")
            shapes += sorted({f"a described array of {kind}" for _, kind in arrays if kind})
            if followed:
                shapes.append("a described array in a tool followed by another")
            if elsewhere:
                shapes.append(f"a described array on {elsewhere}")
            if shapes:
                self.beyond.append(("described_array", f"{', '.join(shapes)} in '{name}'"))

    def _custom(self, tool: Mapping[str, Any], style: ToolStyle, alone: bool) -> list[str]:
        """A custom (free-text) tool: its description, what its format allows and the rule
        against parallel calls, as comment lines, then ``type {name} = (FREEFORM) => any;``.

        A grammar is shown as lark: a ``regex`` definition as the rule ``start: /{regex}/``, a
        ``lark`` one with its common indentation removed. Shapes the recorded counts do not
        cover are named in ``self.custom`` (each becomes an estimate reason).
        """
        name = str(tool["name"])
        description = tool.get("description")
        fmt = tool.get("format")
        body = description if isinstance(description, str) else ""
        uncovered = []
        if not isinstance(description, str) or not description:
            uncovered.append("no description")
        if style.reference or style.bare_tools_only:
            uncovered.append("not a hosted reasoning model")
        if not alone:
            uncovered.append("next to other tools")
        grammar = None
        if not is_mapping(fmt):
            uncovered.append("no format")
        elif fmt.get("type") == "grammar":
            syntax, definition = fmt.get("syntax"), str(fmt.get("definition", ""))
            if syntax == "regex":
                grammar = f"start: /{definition}/"
                if "/" in definition or "\n" in definition:
                    uncovered.append("a regex with a slash or a line break")
            else:
                grammar = textwrap.dedent(definition)
                inner = grammar.strip("\n").split("\n")
                if syntax != "lark":
                    uncovered.append(f"grammar syntax {syntax!r}")
                elif any(not line.strip() or line[:1].isspace() for line in inner):
                    uncovered.append("a lark grammar with blank or unevenly indented lines")
        elif fmt.get("type") != "text":
            uncovered.append(f"format type {fmt.get('type')!r}")
        if grammar is not None:
            body += "\n" + CUSTOM_GRAMMAR.format(grammar=grammar)
        body += "\n" + CUSTOM_NOT_PARALLEL
        if uncovered:
            self.custom.append((name, ", ".join(uncovered)))
        lines = [f"// {line}" for line in body.split("\n")]
        lines.append(f"type {name} = (FREEFORM) => any;")
        return lines

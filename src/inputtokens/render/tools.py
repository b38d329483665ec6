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

JSON Schema maps to TypeScript types: string enums become unions of literals, integer and
number become ``number``, arrays ``T[]``, type lists and anyOf/oneOf unions, nested objects
``{ ... }``, defaults a trailing ``// default: v``; anything else is ``any``. Pure functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

_SCALARS = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean",
            "null": "null"}


def _comment(text: str) -> list[str]:
    return [f"// {line}" for line in text.splitlines()] or ["//"]


# Deeper schemas are rendered as `any` below this depth rather than recursing without bound.
MAX_SCHEMA_DEPTH = 64


def ts_type(schema: Any, depth: int = 0) -> str:
    """The TypeScript type for a JSON Schema fragment.

    >>> ts_type({"type": "string", "enum": ["a", "b"]})
    '"a" | "b"'
    """
    if not isinstance(schema, Mapping) or depth > MAX_SCHEMA_DEPTH:
        return "any"
    depth += 1
    if "enum" in schema and isinstance(schema["enum"], list):
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"]) or "never"
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return " | ".join(ts_type(s, depth) for s in schema[key]) or "any"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(ts_type({**schema, "type": k}, depth) for k in kind) or "any"
    if kind == "array":
        inner = ts_type(schema.get("items"), depth)
        return f"({inner})[]" if " | " in inner else f"{inner}[]"
    if kind == "object" or "properties" in schema:
        props = schema.get("properties")
        if isinstance(props, Mapping) and props:
            body = _object_lines(props, schema.get("required") or [], depth)
            return "{\n" + "\n".join(body) + "\n}"
        return "object"
    if isinstance(kind, str) and kind in _SCALARS:
        return _SCALARS[kind]
    return "any"


def _object_lines(
    props: Mapping[str, Any], required: Iterable[str], depth: int = 0
) -> list[str]:
    required = set(required) if isinstance(required, list) else set()
    lines: list[str] = []
    for key, prop in props.items():
        if isinstance(prop, Mapping) and isinstance(prop.get("description"), str):
            lines.extend(_comment(prop["description"]))
        mark = "" if key in required else "?"
        line = f"{key}{mark}: {ts_type(prop, depth)},"
        if isinstance(prop, Mapping) and "default" in prop:
            line += f" // default: {json.dumps(prop['default'], ensure_ascii=False)}"
        lines.append(line)
    return lines


def function_signature(tool: Mapping[str, Any]) -> list[str]:
    """The lines declaring one function tool."""
    lines: list[str] = []
    if isinstance(tool.get("description"), str) and tool["description"]:
        lines.extend(_comment(tool["description"]))
    params = tool.get("parameters") if isinstance(tool.get("parameters"), Mapping) else {}
    props = params.get("properties")
    name = tool["name"]
    if isinstance(props, Mapping) and props:
        lines.append(f"type {name} = (_: {{")
        lines.extend(_object_lines(props, params.get("required") or []))
        lines.append("}) => any;")
    else:
        lines.append(f"type {name} = () => any;")
    return lines


def render_function_namespace(tools: Iterable[Mapping[str, Any]]) -> str:
    """The `# Tools` section declaring the given function tools."""
    lines = ["# Tools", "", "## functions", "", "namespace functions {", ""]
    for tool in tools:
        lines.extend(function_signature(tool))
        lines.append("")
    lines.append("} // namespace functions")
    return "\n".join(lines)

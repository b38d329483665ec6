"""JSON Schema to the TypeScript-like type text that function tools are declared with.

The rules follow the harmony prompt format (the published reference renderer of the gpt-oss
models, which OpenAI's hosted reasoning models were measured to share; docs/counting-rules.md):

- ``object``: an optional ``// description`` line (indented), then ``{``, one line per property
  and ``}``; each property may be preceded by ``// title`` + ``//``, ``// description`` and
  ``// Examples:`` lines, is written ``key?: type,`` (``?`` unless required) and may end with
  ``// default: v``; nested levels are indented by four spaces.
- ``string`` with ``enum``: a union of quoted literals; ``integer`` and ``number``: ``number``;
  ``boolean``; ``array``: ``items[]`` (``Array<any>`` without ``items``); a list of types: their
  union; ``nullable: true`` adds ``| null``; ``oneOf``: one ``| variant`` line per variant.
- anything else: ``any``.

The reference renderer stops there. Schemas in the wild also use ``anyOf``, ``allOf``,
``const``, ``$ref``/``$defs`` and ``enum`` on non-string types; with ``extended=True`` these are
rendered too (unions, intersections, literals, resolved references) and reported in
``TypeScriptSchema.unverified`` so the count can say it is an estimate. Pure functions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

# Deeper schemas render as `any` beyond this depth instead of recursing without bound.
MAX_SCHEMA_DEPTH = 64
_INDENT_STEP = "    "
# Exact types of decoded JSON that are never mappings (see is_mapping).
_NOT_MAPPINGS = frozenset({str, list, int, float, bool, type(None)})


def is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """``isinstance(value, Mapping)``, without the ABC machinery for decoded JSON values.

    Why: an ``isinstance`` against an ABC costs about ten exact type checks, and schema
    rendering asks it several times per schema node of every request; a decoded JSON object is
    a dict, and the other JSON types are never mappings.
    """
    kind = type(value)
    return kind is dict or (kind not in _NOT_MAPPINGS and isinstance(value, Mapping))


@dataclass
class TypeScriptSchema:
    """The rendering state: options and what was met on the way."""

    extended: bool = False  # render anyOf/allOf/const/$ref/non-string enums (hosted models)
    root: Mapping[str, Any] | None = None  # where local "$ref"s resolve
    unverified: set[str] = field(default_factory=set)  # schema features outside the reference
    _resolving: set[str] = field(default_factory=set)  # $refs being expanded (cycle guard)

    def render(self, schema: Any, indent: str = "", depth: int = 0) -> str:
        """The type text for `schema`, with nested lines indented from `indent`."""
        if not is_mapping(schema) or depth > MAX_SCHEMA_DEPTH:
            return "any"
        depth += 1
        if "oneOf" in schema and isinstance(schema["oneOf"], list):
            return self._one_of_block(schema["oneOf"], indent, depth)
        kind = schema.get("type")
        if isinstance(kind, str):  # the common case first (it excludes the list case below)
            return self._typed(schema, kind, indent, depth)
        if isinstance(kind, list):
            names = ["number" if k == "integer" else k for k in kind if isinstance(k, str)]
            if names:
                return " | ".join(names)
        if self.extended:
            return self._extended(schema, indent, depth)
        return "any"

    def _typed(self, schema: Mapping[str, Any], kind: str, indent: str, depth: int) -> str:
        if kind == "object":
            return self.object_type(schema, indent, depth)
        if kind == "string":
            enum = schema.get("enum")
            if enum:  # (a falsy `enum` has no literals: most strings skip the comprehension)
                literals = [v for v in enum if isinstance(v, str)]
                if literals and isinstance(enum, list):
                    return " | ".join(_quote(v) for v in literals)
            if self.extended and isinstance(schema.get("const"), str):
                self.unverified.add("const")
                return _quote(schema["const"])
            return "string"
        if kind in ("number", "integer"):
            if self.extended and isinstance(schema.get("enum"), list) and schema["enum"]:
                self.unverified.add("enum on a non-string type")
                return " | ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
            return "number"
        if kind == "boolean":
            return "boolean"
        if kind == "array":
            if "items" in schema:
                return f"{self.render(schema['items'], indent, depth)}[]"
            return "Array<any>"
        if self.extended and kind == "null":
            return "null"
        return "any"

    def _extended(self, schema: Mapping[str, Any], indent: str, depth: int) -> str:
        """Schema keywords the reference renderer does not know (hosted models only)."""
        ref = schema.get("$ref")
        if isinstance(ref, str):
            self.unverified.add("$ref")
            target = self._resolve(ref)
            if target is None or ref in self._resolving:
                return "any"
            self._resolving.add(ref)
            try:
                return self.render(target, indent, depth)
            finally:
                self._resolving.discard(ref)
        for key, joiner in (("anyOf", " | "), ("allOf", " & ")):
            variants = schema.get(key)
            if isinstance(variants, list) and variants:
                self.unverified.add(key)
                return joiner.join(self.render(v, indent, depth) for v in variants)
        if "const" in schema:
            self.unverified.add("const")
            return json.dumps(schema["const"], ensure_ascii=False)
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            self.unverified.add("enum without a type")
            return " | ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
        if is_mapping(schema.get("properties")):
            self.unverified.add("object without a type")
            return self.object_type(schema, indent, depth)
        return "any"

    def _resolve(self, ref: str) -> Any:
        """A local JSON pointer ("#/$defs/Name") into the root schema, or None."""
        if self.root is None or not ref.startswith("#"):
            return None
        node: Any = self.root
        for part in ref[1:].split("/"):
            if not part:
                continue
            part = part.replace("~1", "/").replace("~0", "~")
            if not is_mapping(node) or part not in node:
                return None
            node = node[part]
        return node

    def object_type(self, schema: Mapping[str, Any], indent: str = "", depth: int = 0) -> str:
        """``{ ... }`` for an object schema, its own description as a comment line first."""
        out: list[str] = []
        description = schema.get("description")
        if isinstance(description, str):
            out.append(f"{indent}// {description}\n")
        out.append("{\n")
        props = schema.get("properties")
        if is_mapping(props):
            required = schema.get("required")
            needed = (
                {r for r in required if isinstance(r, str)} if isinstance(required, list) else set()
            )
            prop_text = self._property
            for key, prop in props.items():
                out.append(prop_text(str(key), prop, key in needed, indent, depth))
        out.append(f"{indent}}}")
        return "".join(out)

    def _property(self, key: str, prop: Any, required: bool, indent: str, depth: int) -> str:
        mark = "" if required else "?"
        if not is_mapping(prop):
            return f"{indent}{key}{mark}: any,\n"
        out: list[str] = []
        get = prop.get
        title = get("title")
        if isinstance(title, str):
            out.append(f"{indent}// {title}\n{indent}//\n")
        description = get("description")
        if not isinstance(description, str):
            description = None
        one_of = get("oneOf")
        if not isinstance(one_of, list):
            one_of = None
        if description is not None and one_of is None:
            out.append(f"{indent}// {description}\n")
        examples = get("examples")
        if isinstance(examples, list) and examples:
            out.append(f"{indent}// Examples:\n")
            out.extend(f'{indent}// - "{ex}"\n' for ex in examples if isinstance(ex, str))
        if one_of is not None:
            out.append(self._one_of_property(key, mark, prop, one_of, description, indent, depth))
            return "".join(out)
        type_text = self.render(prop, indent + _INDENT_STEP, depth)
        if get("nullable") is True and "null" not in type_text:
            type_text += " | null"
        out.append(f"{indent}{key}{mark}: {type_text},")
        if "default" in prop:
            out.append(f" // default: {_default_text(prop)}")
        out.append("\n")
        return "".join(out)

    def _one_of_property(
        self,
        key: str,
        mark: str,
        prop: Mapping[str, Any],
        variants: list[Any],
        description: str | None,
        indent: str,
        depth: int,
    ) -> str:
        """A property whose value is one of several variants, one ``| variant`` line each."""
        first = variants[0] if variants else None
        first_desc = first.get("description") if is_mapping(first) else None
        desc_above = description is not None and description != first_desc
        out: list[str] = []
        if desc_above:
            out.append(f"{indent}// {description}\n")
        if "default" in prop:
            out.append(f"{indent}// default: {_default_text(prop)}\n")
        out.append(f"{indent}{key}{mark}:\n")
        for i, variant in enumerate(variants):
            out.append(f"{indent} | {self._variant(variant, indent, depth)}")
            comments: list[str] = []
            if is_mapping(variant):
                vdesc = variant.get("description")
                if isinstance(vdesc, str) and not (i == 0 and desc_above) and vdesc != description:
                    comments.append(vdesc)
                if "default" in variant:
                    comments.append(f"default: {_default_text(variant)}")
            if comments:
                out.append(" // " + " ".join(comments))
            out.append("\n")
        out.append(f"{indent},\n")
        return "".join(out)

    def _variant(self, variant: Any, indent: str, depth: int) -> str:
        text = self.render(variant, indent + "   ", depth)
        if is_mapping(variant) and variant.get("nullable") is True and "null" not in text:
            text += " | null"
        return text

    def _one_of_block(self, variants: list[Any], indent: str, depth: int) -> str:
        """A top-level ``oneOf``: each variant on its own ``| variant`` line."""
        out: list[str] = []
        for variant in variants:
            out.append(f"\n{indent} | {self._variant(variant, indent, depth)}")
            if is_mapping(variant):
                comments: list[str] = []
                if isinstance(variant.get("description"), str):
                    comments.append(variant["description"])
                if "default" in variant:
                    comments.append(f"default: {_default_text(variant, bare_enum_strings=False)}")
                if comments:
                    out.append(" // " + " ".join(comments))
        return "".join(out)


def _quote(value: str) -> str:
    return f'"{value}"'


def _default_text(schema: Mapping[str, Any], bare_enum_strings: bool = True) -> str:
    """How a default value is shown: a string in plain quotes (its text unescaped); the string
    of an enum bare on a property or its variants, as JSON after a top-level ``oneOf`` variant;
    anything else as JSON."""
    value = schema["default"]
    is_enum = isinstance(schema.get("enum"), list) and bool(schema["enum"])
    if isinstance(value, str) and not is_enum:
        return _quote(value)
    if isinstance(value, str) and bare_enum_strings:
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def ts_type(schema: Any, *, extended: bool = True) -> str:
    """The TypeScript type text of a JSON Schema.

    >>> ts_type({"type": "string", "enum": ["a", "b"]})
    '"a" | "b"'
    >>> ts_type({"type": "array", "items": {"type": "integer"}})
    'number[]'
    """
    return TypeScriptSchema(extended=extended, root=schema if is_mapping(schema) else None).render(
        schema
    )

"""A small declarative validator for JSON request bodies, with OpenAI-shaped errors.

The request schema is data (see ``wire_schema``): a tree of ``Spec`` objects. ``Spec.validate``
walks a decoded JSON value and raises ``InvalidRequestError`` at the first problem, with
``param`` set to the JSON path of the offending value (``input[2].content[0].type``) and
``code`` set to OpenAI's code for that kind of problem.

Invariants:
- Validation never mutates or copies the value; a body that passes is used as it is.
- Objects are closed: a key not in the spec is ``unknown_parameter``. An optional key whose
  value is ``null`` counts as absent, as OpenAI treats it.
- A ``Union`` picks its branch by the JSON kind of the value (at most one branch per kind), so
  an error always comes from the branch the caller evidently meant, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import InvalidRequestError

_KIND_BY_TYPE: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    list: "array",
    dict: "object",
    type(None): "null",
}
_ARTICLE = {"integer": "an integer", "array": "an array", "object": "an object"}


def kind_of(value: Any) -> str:
    """The JSON kind of a decoded value: string, integer, number, boolean, array, object, null."""
    return _KIND_BY_TYPE.get(type(value), "unknown")


def _a(kind: str) -> str:
    return _ARTICLE.get(kind, f"a {kind}")


def join(path: str, key: str) -> str:
    """Append an object key to a JSON path (the root path is the empty string)."""
    return f"{path}.{key}" if path else key


def _quote_list(values: list[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def type_error(path: str, expected: str, value: Any) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid type for '{path}': expected {expected}, but got {_a(kind_of(value))} instead.",
        param=path,
        code="invalid_type",
    )


def value_error(path: str, value: Any, supported: list[str]) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid value: '{value}'. Supported values are: {_quote_list(supported)}.",
        param=path,
        code="invalid_value",
    )


class Spec:
    """One node of the schema: knows what it expects and how to check a value against it."""

    kinds: frozenset[str] = frozenset()
    expected: str = "a value"

    def validate(self, value: Any, path: str) -> None:
        raise NotImplementedError


class Str(Spec):
    kinds = frozenset({"string"})
    expected = "a string"

    def __init__(self, *, max_length: int | None = None) -> None:
        self.max_length = max_length

    def validate(self, value: Any, path: str) -> None:
        if type(value) is not str:
            raise type_error(path, self.expected, value)
        if self.max_length is not None and len(value) > self.max_length:
            raise InvalidRequestError(
                f"Invalid '{path}': string too long. Expected a string with maximum length "
                f"{self.max_length}, but got a string with length {len(value)} instead.",
                param=path,
                code="string_above_max_length",
            )


class Int(Spec):
    kinds = frozenset({"integer"})
    expected = "an integer"

    def __init__(self, *, minimum: int | None = None) -> None:
        self.minimum = minimum

    def validate(self, value: Any, path: str) -> None:
        if type(value) is not int:
            raise type_error(path, self.expected, value)
        if self.minimum is not None and value < self.minimum:
            raise InvalidRequestError(
                f"Invalid '{path}': integer below minimum value. Expected a value >= "
                f"{self.minimum}, but got {value} instead.",
                param=path,
                code="integer_below_min_value",
            )


class Num(Spec):
    kinds = frozenset({"integer", "number"})
    expected = "a number"

    def validate(self, value: Any, path: str) -> None:
        if type(value) not in (int, float):
            raise type_error(path, self.expected, value)


class Bool(Spec):
    kinds = frozenset({"boolean"})
    expected = "a boolean"

    def validate(self, value: Any, path: str) -> None:
        if type(value) is not bool:
            raise type_error(path, self.expected, value)


class Null(Spec):
    kinds = frozenset({"null"})
    expected = "null"

    def validate(self, value: Any, path: str) -> None:
        if value is not None:
            raise type_error(path, self.expected, value)


class AnyValue(Spec):
    """Any JSON value (used for opaque payloads such as `arguments` objects or defaults)."""

    kinds = frozenset(_KIND_BY_TYPE.values())
    expected = "any JSON value"

    def validate(self, value: Any, path: str) -> None:
        return None


class FreeObject(Spec):
    """Any JSON object whose keys are not ours to check (metadata, JSON Schemas, headers)."""

    kinds = frozenset({"object"})
    expected = "an object"

    def validate(self, value: Any, path: str) -> None:
        if type(value) is not dict:
            raise type_error(path, self.expected, value)


class Enum(Spec):
    """A string that must be one of a fixed set of values."""

    kinds = frozenset({"string"})
    expected = "a string"

    def __init__(self, *values: str) -> None:
        self.values = values
        self._set = frozenset(values)

    def validate(self, value: Any, path: str) -> None:
        if type(value) is not str:
            raise type_error(path, self.expected, value)
        if value not in self._set:
            raise value_error(path, value, list(self.values))


class Array(Spec):
    kinds = frozenset({"array"})
    expected = "an array"

    def __init__(
        self, items: Spec, *, min_items: int | None = None, max_items: int | None = None
    ) -> None:
        self.items = items
        self.min_items = min_items
        self.max_items = max_items

    def validate(self, value: Any, path: str) -> None:
        if type(value) is not list:
            raise type_error(path, self.expected, value)
        n = len(value)
        if self.min_items and n < self.min_items:
            detail = "empty array" if n == 0 else "array too short"
            raise InvalidRequestError(
                f"Invalid '{path}': {detail}. Expected an array with minimum length "
                f"{self.min_items}, but got an array with length {n} instead.",
                param=path,
                code="empty_array" if n == 0 else "array_below_min_length",
            )
        if self.max_items is not None and n > self.max_items:
            raise InvalidRequestError(
                f"Invalid '{path}': array too long. Expected an array with maximum length "
                f"{self.max_items}, but got an array with length {n} instead.",
                param=path,
                code="array_above_max_length",
            )
        check = self.items.validate
        for i, item in enumerate(value):
            check(item, f"{path}[{i}]")


class Obj(Spec):
    """A closed JSON object: `required` and `optional` map each key to its spec."""

    kinds = frozenset({"object"})
    expected = "an object"

    def __init__(
        self,
        required: Mapping[str, Spec] | None = None,
        optional: Mapping[str, Spec] | None = None,
    ) -> None:
        self.required = dict(required or {})
        self.optional = dict(optional or {})
        self._all = {**self.optional, **self.required}

    def validate(self, value: Any, path: str) -> None:
        if type(value) is not dict:
            raise type_error(path, self.expected, value)
        fields = self._all
        for key, item in value.items():
            spec = fields.get(key)
            if spec is None:
                raise InvalidRequestError(
                    f"Unknown parameter: '{join(path, key)}'.",
                    param=join(path, key),
                    code="unknown_parameter",
                )
            if item is None and key not in self.required:
                continue
            spec.validate(item, join(path, key))
        for key in self.required:
            if key not in value:
                raise InvalidRequestError(
                    f"Missing required parameter: '{join(path, key)}'.",
                    param=join(path, key),
                    code="missing_required_parameter",
                )


class Union(Spec):
    """One of several specs, chosen by the JSON kind of the value (one branch per kind)."""

    def __init__(self, *options: Spec, expected: str | None = None) -> None:
        self.by_kind: dict[str, Spec] = {}
        for option in options:
            for kind in option.kinds:
                if kind in self.by_kind:
                    raise ValueError(f"two Union branches accept {kind}")
                self.by_kind[kind] = option
        self.options = options
        self.kinds = frozenset(self.by_kind)
        self.expected = expected or "one of " + " or ".join(o.expected for o in options)

    def validate(self, value: Any, path: str) -> None:
        option = self.by_kind.get(kind_of(value))
        if option is None:
            raise type_error(path, self.expected, value)
        option.validate(value, path)


def Nullable(spec: Spec) -> Union:  # noqa: N802 - reads like the other spec constructors
    """`spec` or JSON null."""
    return Union(spec, Null(), expected=f"{spec.expected} or null")


class Tagged(Spec):
    """An object whose `tag` key (usually "type") selects the spec of the rest.

    `infer` names the variant when the tag is absent (OpenAI lets a message omit "type");
    returning None makes the tag a missing required parameter.
    """

    kinds = frozenset({"object"})
    expected = "an object"

    def __init__(
        self,
        variants: Mapping[str, Spec],
        *,
        tag: str = "type",
        infer: Callable[[dict[str, Any]], str | None] | None = None,
    ) -> None:
        self.variants = dict(variants)
        self.tag = tag
        self.infer = infer

    def variant_of(self, value: dict[str, Any]) -> str | None:
        """The variant name of an already validated value (inferred when the tag is absent)."""
        name = value.get(self.tag)
        if name is None and self.infer is not None:
            name = self.infer(value)
        return name

    def validate(self, value: Any, path: str) -> None:
        if type(value) is not dict:
            raise type_error(path, self.expected, value)
        name = value.get(self.tag)
        tag_path = join(path, self.tag)
        if name is None:
            name = self.infer(value) if self.infer is not None else None
            if name is None:
                raise InvalidRequestError(
                    f"Missing required parameter: '{tag_path}'.",
                    param=tag_path,
                    code="missing_required_parameter",
                )
        elif type(name) is not str:
            raise type_error(tag_path, "a string", name)
        spec = self.variants.get(name)
        if spec is None:
            raise value_error(tag_path, name, list(self.variants))
        spec.validate(value, path)

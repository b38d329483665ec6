"""A small declarative validator for JSON request bodies, with OpenAI-shaped errors.

The request schema is data (see ``wire_schema``): a tree of ``Spec`` objects. ``Spec.validate``
walks a decoded JSON value and raises ``InvalidRequestError`` at the first problem, with
``param`` set to the JSON path of the offending value (``input[2].content[0].type``) and
``code`` set to OpenAI's code for that kind of problem. Internally each spec's ``_check`` works
without paths; the path of the one failing value is assembled only once it fails (``_Invalid``).

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

from ..core.errors import InvalidRequestError, did_you_mean

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
    """OpenAI's message for a value outside an enum (an item or part type, a role, ...), with
    the closest supported value when `value` looks like a typo of one."""
    hint = did_you_mean(value, supported) if isinstance(value, str) else ""
    return InvalidRequestError(
        f"Invalid value: '{value}'. Supported values are: {_quote_list(supported)}.{hint}",
        param=path,
        code="invalid_value",
    )


def _unknown_parameter(path: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Unknown parameter: '{path}'.", param=path, code="unknown_parameter"
    )


def _missing_parameter(path: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Missing required parameter: '{path}'.", param=path, code="missing_required_parameter"
    )


class _Invalid(Exception):
    """Internal: the first problem found by ``Spec._check``, raised without its JSON path.

    Why: formatting the path of every node visited (``input[2].content[0].text``) cost more than
    the checks themselves, yet only the one node that fails needs it. So a check raises this
    with a function that builds the public error from a path; each container on the way out
    records its key or index (a ``try`` block costs nothing until something is raised), and
    ``Spec.validate`` assembles the path and raises the ``InvalidRequestError``.
    """

    def __init__(self, build: Callable[[str], InvalidRequestError], step: Any = None) -> None:
        super().__init__()
        self.build = build
        # (is an array index, the key or index), innermost first: appended while unwinding.
        self.steps: list[tuple[bool, Any]] = [] if step is None else [(False, step)]

    def error(self, path: str) -> InvalidRequestError:
        """The public error, for a value found at `path`."""
        for is_index, step in reversed(self.steps):
            path = f"{path}[{step}]" if is_index else join(path, step)
        return self.build(path)


class Spec:
    """One node of the schema: knows what it expects and how to check a value against it."""

    kinds: frozenset[str] = frozenset()
    expected: str = "a value"
    # The exact Python type a value must have when that is all the spec checks (a plain string,
    # a boolean, a free object), else None. Why: containers compare it inline and skip the call
    # of ``_check`` for these, the most common leaves (``type(v) is None`` is never true).
    exact: type | None = None

    def validate(self, value: Any, path: str) -> None:
        """Raise ``InvalidRequestError`` at the first problem of `value`, found at `path`."""
        try:
            self._check(value)
        except _Invalid as exc:
            error = exc.error(path)
        else:
            return
        raise error  # outside the handler: the internal exception is not its context

    def _check(self, value: Any) -> None:
        """Raise ``_Invalid`` (its path relative to `value`) at the first problem."""
        raise NotImplementedError

    def _type_error(self, value: Any) -> _Invalid:
        return _Invalid(lambda path: type_error(path, self.expected, value))


class Str(Spec):
    kinds = frozenset({"string"})
    expected = "a string"

    def __init__(self, *, max_length: int | None = None) -> None:
        self.max_length = max_length
        self.exact = str if max_length is None else None

    def _check(self, value: Any) -> None:
        if type(value) is not str:
            raise self._type_error(value)
        max_length = self.max_length
        if max_length is not None and len(value) > max_length:
            raise _Invalid(
                lambda path: InvalidRequestError(
                    f"Invalid '{path}': string too long. Expected a string with maximum length "
                    f"{max_length}, but got a string with length {len(value)} instead.",
                    param=path,
                    code="string_above_max_length",
                )
            )


# OpenAI reads integers as 64-bit: a larger one is out of range, never "a number".
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _bound_error(
    what: str, above: bool, bound: int | float, value: int | float
) -> Callable[[str], InvalidRequestError]:
    """OpenAI's message for a number outside its range (`what`: "integer" or "decimal")."""
    side, sign = ("above maximum", "<=") if above else ("below minimum", ">=")
    code = f"{what}_{'above_max' if above else 'below_min'}_value"
    return lambda path: InvalidRequestError(
        f"Invalid '{path}': {what} {side} value. Expected a value {sign} {bound}, but got "
        f"{value} instead.",
        param=path,
        code=code,
    )


class Int(Spec):
    """An integer within [`minimum`, `maximum`] (by default the 64-bit range)."""

    kinds = frozenset({"integer"})
    expected = "an integer"

    def __init__(self, *, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def _check(self, value: Any) -> None:
        if type(value) is not int:
            if type(value) is float and value.is_integer() and not INT64_MIN <= value <= INT64_MAX:
                # orjson reads an integer literal past 64 bits as a float: still an integer.
                self._check_range(value)
            raise self._type_error(value)
        self._check_range(value)

    def _check_range(self, value: int | float) -> None:
        if value < self.minimum:
            raise _Invalid(_bound_error("integer", False, self.minimum, value))
        if value > self.maximum:
            raise _Invalid(_bound_error("integer", True, self.maximum, value))


class Num(Spec):
    """A number (integer or decimal), within [`minimum`, `maximum`] when they are given."""

    kinds = frozenset({"integer", "number"})
    expected = "a number"

    def __init__(
        self, *, minimum: int | float | None = None, maximum: int | float | None = None
    ) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def _check(self, value: Any) -> None:
        if type(value) not in (int, float):
            raise self._type_error(value)
        if self.minimum is not None and value < self.minimum:
            raise _Invalid(_bound_error("decimal", False, self.minimum, value))
        if self.maximum is not None and value > self.maximum:
            raise _Invalid(_bound_error("decimal", True, self.maximum, value))


class Bool(Spec):
    kinds = frozenset({"boolean"})
    expected = "a boolean"
    exact = bool

    def _check(self, value: Any) -> None:
        if type(value) is not bool:
            raise self._type_error(value)


class Null(Spec):
    kinds = frozenset({"null"})
    expected = "null"
    exact = type(None)

    def _check(self, value: Any) -> None:
        if value is not None:
            raise self._type_error(value)


class AnyValue(Spec):
    """Any JSON value (used for opaque payloads such as `arguments` objects or defaults)."""

    kinds = frozenset(_KIND_BY_TYPE.values())
    expected = "any JSON value"

    def _check(self, value: Any) -> None:
        return None


class FreeObject(Spec):
    """Any JSON object whose keys are not ours to check (metadata, JSON Schemas, headers)."""

    kinds = frozenset({"object"})
    expected = "an object"
    exact = dict

    def _check(self, value: Any) -> None:
        if type(value) is not dict:
            raise self._type_error(value)


class Enum(Spec):
    """A string that must be one of a fixed set of values."""

    kinds = frozenset({"string"})
    expected = "a string"

    def __init__(self, *values: str) -> None:
        self.values = values
        self._set = frozenset(values)

    def _check(self, value: Any) -> None:
        if type(value) is not str:
            raise self._type_error(value)
        if value not in self._set:
            raise _Invalid(lambda path: value_error(path, value, list(self.values)))


class Array(Spec):
    kinds = frozenset({"array"})
    expected = "an array"

    def __init__(
        self, items: Spec, *, min_items: int | None = None, max_items: int | None = None
    ) -> None:
        self.items = items
        self.min_items = min_items
        self.max_items = max_items

    def _check(self, value: Any) -> None:
        if type(value) is not list:
            raise self._type_error(value)
        if self.min_items is not None or self.max_items is not None:
            self._check_length(len(value))
        items = self.items
        check, exact = items._check, items.exact
        try:
            for i, item in enumerate(value):  # noqa: B007 - `i` names the failing item below
                if type(item) is not exact:
                    check(item)
        except _Invalid as exc:
            exc.steps.append((True, i))
            raise

    def _check_length(self, n: int) -> None:
        min_items, max_items = self.min_items, self.max_items
        if min_items and n < min_items:
            detail = "empty array" if n == 0 else "array too short"
            raise _Invalid(
                lambda path: InvalidRequestError(
                    f"Invalid '{path}': {detail}. Expected an array with minimum length "
                    f"{min_items}, but got an array with length {n} instead.",
                    param=path,
                    code="empty_array" if n == 0 else "array_below_min_length",
                )
            )
        if max_items is not None and n > max_items:
            raise _Invalid(
                lambda path: InvalidRequestError(
                    f"Invalid '{path}': array too long. Expected an array with maximum length "
                    f"{max_items}, but got an array with length {n} instead.",
                    param=path,
                    code="array_above_max_length",
                )
            )


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
        self._required_keys = frozenset(self.required)
        # key -> (the spec's `exact` type, its bound `_check`): one dict lookup per key of a
        # value and no attribute lookups, on the path every object of every request takes.
        self._fields: dict[str, tuple[type | None, Callable[[Any], None]]] = {
            key: (spec.exact, spec._check) for key, spec in self._all.items()
        }

    def _check(self, value: Any) -> None:
        if type(value) is not dict:
            raise self._type_error(value)
        fields = self._fields
        required = self.required
        try:
            for key, item in value.items():
                exact, check = fields[key]  # KeyError: an unknown key (handled below)
                if type(item) is exact:
                    continue
                if item is None and key not in required:
                    continue  # an optional null counts as absent
                check(item)
        except _Invalid as exc:
            exc.steps.append((False, key))
            raise
        except KeyError:
            if key in fields:
                raise  # not the lookup above (defensive: checks raise only _Invalid)
            raise _Invalid(_unknown_parameter, key) from None
        # One C-level subset test; the loop that names the missing key runs only on failure.
        required_keys = self._required_keys
        if required_keys and not value.keys() >= required_keys:
            for key in required:
                if key not in value:
                    raise _Invalid(_missing_parameter, key)


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
        # The branch by the value's Python type: one lookup instead of kind_of() and a lookup.
        self._by_type: dict[type, Spec] = {
            t: self.by_kind[k] for t, k in _KIND_BY_TYPE.items() if k in self.by_kind
        }

    def _check(self, value: Any) -> None:
        option = self._by_type.get(type(value))
        if option is None:
            raise self._type_error(value)
        option._check(value)


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

    def _check(self, value: Any) -> None:
        if type(value) is not dict:
            raise self._type_error(value)
        tag = self.tag
        name = value.get(tag)
        if name is None:
            name = self.infer(value) if self.infer is not None else None
            if name is None:
                raise _Invalid(_missing_parameter, tag)
        elif type(name) is not str:
            raise _Invalid(lambda path: type_error(path, "a string", name), tag)
        # `variants` is read on each call: a recursive spec may add variants after creation.
        spec = self.variants.get(name)
        if spec is None:
            raise _Invalid(lambda path: value_error(path, name, list(self.variants)), tag)
        spec._check(value)

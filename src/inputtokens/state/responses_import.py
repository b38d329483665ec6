"""Saved response objects into the store, so ``previous_response_id`` can name them.

``import_responses`` reads a JSON response object, a JSON array of them, or JSON Lines (one
per line), as saved from ``responses.create`` or ``GET /v1/responses/{id}``. A response object
does not carry its input, so two extension fields may give it: ``input`` (a string or a list
of items, as sent to ``responses.create``) or ``input_items`` (a list of items, or the saved
answer of ``GET /v1/responses/{id}/input_items``). Neither is kept in the stored object.

Everything is checked before anything is stored, and a bad entry is reported by where it is
(``line 3``, ``[2]``) in a ``ResponseImportError``. Pure over a ``Store``; the CLI's
``inputtokens responses import FILE`` calls it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import InputTokensError
from ..core.types import JSON
from ..formats import responses_schema as wire_schema
from ..formats.responses import item_type

if TYPE_CHECKING:
    from .store import Store

# Fields of an imported object that give its input; they are not part of the response.
INPUT_FIELDS = ("input", "input_items")


class ResponseImportError(ValueError):
    """A file that is not response objects; the message says where and what is wrong."""


def input_items(
    value: Any, store: Store | None = None, owners: Iterable[str] = ()
) -> tuple[list[JSON], int]:
    """The items a response was given, from a request's ``input``: a string is one user
    message; an ``item_reference`` becomes the stored item it names when one of `owners`
    has it. Every item gets an id (``store.item_with_id``). Returns the items and how many
    references stayed unresolved."""
    from .records import item_with_id

    if isinstance(value, str):
        return [item_with_id({"role": "user", "content": value})], 0
    items: list[JSON] = []
    unresolved = 0
    for item in value if isinstance(value, list) else ():
        if not isinstance(item, dict):
            continue
        if item_type(item) == "item_reference":
            found = None
            if store is not None and isinstance(item.get("id"), str):
                found = next(
                    (f for o in owners if (f := store.get_item(o, item["id"])) is not None), None
                )
            if found is None:
                unresolved += 1
                items.append(item_with_id({**item, "type": "item_reference"}))
                continue
            item = found
        items.append(item_with_id(item))
    return items, unresolved


def import_responses(store: Store, owner: str, source: str | Path) -> list[str]:
    """Store the response objects of `source` under `owner`; returns their ids in order. A
    response stored before under the same id is replaced.

    `source` is a path, or the text itself: a string is the text when it has more than one
    line or starts with ``{`` or ``[`` (or is empty), else a path."""
    if isinstance(source, str) and (
        "\n" in source or source.lstrip("\ufeff \t\r")[:1] in ("{", "[", "")
    ):
        text = source
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, ValueError) as exc:  # ValueError: UnicodeDecodeError, a NUL
            raise ResponseImportError(
                f"{source}: cannot be read, and is not JSON either ({exc})"
            ) from None
    text = text.removeprefix("\ufeff")
    entries = [(where, _checked(obj, where)) for where, obj in _objects(text)]
    if not entries:
        raise ResponseImportError("no response objects found (the input is empty)")
    ids = []
    for _, (response, given) in entries:
        store.put_response(owner, response, input_items(given, store, (owner,))[0])
        ids.append(str(response["id"]))
    return ids


def _objects(text: str) -> list[tuple[str, Any]]:
    """(where, object) for each entry: one JSON value, an array of them, or JSON Lines."""
    if not text.strip():
        return []
    try:
        whole = json.loads(text)
    except ValueError as exc:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) <= 1 or not _is_json(lines[0][1]):
            # Not JSON Lines (its first line is no value of its own): one broken document.
            raise ResponseImportError(f"not valid JSON: {exc}") from None
        out = []
        for n, line in lines:
            try:
                out.append((f"line {n}", json.loads(line)))
            except ValueError as line_exc:
                raise ResponseImportError(
                    f"line {n}: not a JSON object on one line (JSON Lines): {line_exc}"
                ) from None
        return out
    if isinstance(whole, list):
        return [(f"[{i}]", obj) for i, obj in enumerate(whole)]
    return [("the response object", whole)]


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _checked(obj: Any, where: str) -> tuple[JSON, list[JSON]]:
    """The response to store and the input it was given, or an error saying what is
    wrong."""

    def bad(message: str) -> ResponseImportError:
        return ResponseImportError(f"{where}: {message}")

    if not isinstance(obj, dict):
        raise bad(f"expected a response object, got {type(obj).__name__}")
    resp_id = obj.get("id")
    if not isinstance(resp_id, str) or not resp_id.startswith("resp"):
        raise bad(f"not a response: 'id' must be a string starting with 'resp', got {resp_id!r}")
    if obj.get("object", "response") != "response":
        raise bad(f"not a response: 'object' is {obj.get('object')!r}")
    output = obj.get("output")
    if not isinstance(output, list) or not all(
        isinstance(i, dict) and i.get("type") for i in output
    ):
        raise bad("'output' must be a list of output items, each with a 'type'")
    if not isinstance(obj.get("previous_response_id") or "", str):
        raise bad("'previous_response_id' must be a string or null")
    given = _given_input(obj, bad)
    for i, item in enumerate(given):
        try:
            wire_schema.INPUT_ITEM.validate(item, f"input[{i}]")
        except InputTokensError as exc:
            raise bad(f"input item {i} is not valid: {exc.message}") from None
    return {k: v for k, v in obj.items() if k not in INPUT_FIELDS}, given


def _given_input(obj: JSON, bad: Any) -> list[Any]:
    """The input items an imported object carries (none when it has neither field)."""
    if "input" in obj and "input_items" in obj:
        raise bad("give the input as 'input' or 'input_items', not both")
    value = obj.get("input", obj.get("input_items"))
    if isinstance(value, dict) and isinstance(value.get("data"), list):
        value = value["data"]  # a saved input_items listing
    if value is None:
        return []
    if isinstance(value, str):
        if "input" not in obj:
            raise bad("'input_items' must be a list of items")
        return [{"role": "user", "content": value}]
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise bad("'input' must be a string or a list of items")
    return value

"""Checks of what callers store (conversation items and metadata), shared by the HTTP API
and the CLI so both answer alike; no web framework needed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.errors import InvalidRequestError
from ..formats import responses_schema as wire_schema

if TYPE_CHECKING:
    from .store import Store

# OpenAI's limits: items added at once, metadata pairs and their lengths.
MAX_ITEMS_PER_CALL = 20
MAX_METADATA_PAIRS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512


def check_metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    """`value` as conversation metadata: at most 16 string pairs of bounded length."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequestError(
            f"Invalid type for '{param}': expected an object.", param=param, code="invalid_type"
        )
    if len(value) > MAX_METADATA_PAIRS:
        raise InvalidRequestError(
            f"Invalid '{param}': at most {MAX_METADATA_PAIRS} pairs are allowed.",
            param=param,
            code="object_above_max_properties",
        )
    for key, item in value.items():
        if len(key) > MAX_METADATA_KEY:
            raise InvalidRequestError(
                f"Invalid '{param}': keys are at most {MAX_METADATA_KEY} characters.",
                param=f"{param}.{key}",
                code="invalid_value",
            )
        if not isinstance(item, str) or len(item) > MAX_METADATA_VALUE:
            raise InvalidRequestError(
                f"Invalid '{param}.{key}': expected a string of at most "
                f"{MAX_METADATA_VALUE} characters.",
                param=f"{param}.{key}",
                code="invalid_value",
            )
    return dict(value)


def check_items(value: Any, param: str = "items", *, required: bool = False) -> list[Any]:
    """`value` as items to store: a list of at most 20 valid input items."""
    if value is None and not required:
        return []
    if value is None:
        raise InvalidRequestError(
            f"Missing required parameter: '{param}'.",
            param=param,
            code="missing_required_parameter",
        )
    if not isinstance(value, list):
        raise InvalidRequestError(
            f"Invalid type for '{param}': expected an array.", param=param, code="invalid_type"
        )
    if len(value) > MAX_ITEMS_PER_CALL:
        raise InvalidRequestError(
            f"Invalid '{param}': array too long. Expected an array with maximum length "
            f"{MAX_ITEMS_PER_CALL}, but got an array with length {len(value)} instead.",
            param=param,
            code="array_above_max_length",
        )
    for i, item in enumerate(value):
        wire_schema.INPUT_ITEM.validate(item, f"{param}[{i}]")
    return value


def dereference(store: Store, owner: str, items: list[Any], param: str) -> list[Any]:
    """Items to store, an item_reference replaced by a copy of the item it names."""
    out = []
    for i, item in enumerate(items):
        if item.get("type", "item_reference" if "role" not in item else "") == "item_reference":
            found = store.get_item(owner, str(item["id"]))
            if found is None:
                raise InvalidRequestError(
                    f"Item with id '{item['id']}' not found.",
                    param=f"{param}[{i}].id",
                    code="item_not_found",
                )
            item = {k: v for k, v in found.items() if k != "id"}
        out.append(item)
    return out

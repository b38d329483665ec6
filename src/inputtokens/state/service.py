"""The stored objects (conversations and their items, files, stored responses) as the
Conversations, Files and Responses APIs serve them, in one place that both faces call: the
HTTP routes (in a worker thread) and the CLI's store commands. Each operation checks its input
as OpenAI does, raises the same ``NotFoundError``/``InvalidRequestError``/
``PayloadTooLargeError`` whichever face called it, and returns the OpenAI-shaped object the
face answers with; so the two faces cannot drift apart.

Plain synchronous Python over a ``Store``: no web framework, no click, and no SQLAlchemy of its
own (the store brings it in when it is opened).
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..core.errors import InvalidRequestError, NotFoundError, PayloadTooLargeError
from ..core.types import JSON
from ..formats import responses_schema as wire_schema
from ..formats.responses import item_type
from ..formats.validation import value_error
from . import responses_import
from .records import ItemPage

if TYPE_CHECKING:
    from .store import Store

# OpenAI's limits: items added at once, metadata pairs and their lengths.
MAX_ITEMS_PER_CALL = 20
MAX_METADATA_PAIRS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512
# A page of a listing: its default and largest length, and the orders it may come in.
DEFAULT_PAGE = 20
MAX_PAGE = 100
ORDERS = ("asc", "desc")
# The purposes a file may be uploaded with (the SDK's FilePurpose).
FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")


class _Missing(enum.Enum):
    MISSING = "missing"


MISSING: Final = _Missing.MISSING
"""A parameter the caller left out, told apart from one given as null (``"metadata": null``
clears the metadata; leaving it out is an error)."""


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
        if item_type(item) == "item_reference":
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


def check_page(limit: int | str | None, order: str | None) -> tuple[int, str]:
    """A listing's `limit` (1 to 100; text as a query string gives it) and `order`;
    None is the default (20, newest first)."""
    if limit is None:
        limit = DEFAULT_PAGE
    elif isinstance(limit, str):
        # isdecimal, not isdigit: int() refuses digits such as "²", which isdigit accepts.
        limit = int(limit) if limit.isdecimal() else 0
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequestError(
            f"Invalid 'limit': expected an integer between 1 and {MAX_PAGE}.",
            param="limit",
            code="invalid_value",
        )
    order = "desc" if order is None else order
    if order not in ORDERS:
        raise InvalidRequestError(
            "Invalid 'order': expected 'asc' or 'desc'.", param="order", code="invalid_value"
        )
    return limit, order


def file_too_large(limit: int) -> PayloadTooLargeError:
    """The error of an upload over `limit` bytes (the HTTP face also raises it early, from the
    declared length of a body that cannot fit)."""
    return PayloadTooLargeError(
        f"The file is larger than the limit of {limit} bytes.",
        param="file",
        code="file_too_large",
    )


def _missing_parameter(param: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


def _conversation_missing(conv_id: str) -> NotFoundError:
    return NotFoundError(f"Conversation with id '{conv_id}' not found.", param="conversation_id")


def _item_missing(item_id: str) -> NotFoundError:
    return NotFoundError(f"Item with id '{item_id}' not found.", param="item_id")


def _file_missing(file_id: str) -> NotFoundError:
    return NotFoundError(f"No such File object: {file_id}", param="id")


def _response_missing(resp_id: str) -> NotFoundError:
    return NotFoundError(f"Response with id '{resp_id}' not found.", param="response_id")


class StoredObjects:
    """One caller's stored objects: every operation of the Conversations and Files APIs, and
    the stored-response part of the Responses API, with OpenAI's checks and errors.

    `owner` is whose objects the caller creates and sees; another owner's are not found (the
    HTTP face's owner is a digest of the caller's key, api/common.py).
    Parameters that come from a request are typed ``Any``: checking them is the point.
    """

    def __init__(self, store: Store, owner: str) -> None:
        self.store = store
        self.owner = owner

    # -- conversations ------------------------------------------------------------------------

    def create_conversation(self, metadata: Any = None, items: Any = None) -> JSON:
        """A new conversation with `metadata` and initial `items` (an item_reference stored
        as a copy of the item it names)."""
        checked = check_metadata(metadata)
        initial = check_items(items)
        conv = self.store.create_conversation(
            self.owner, checked, dereference(self.store, self.owner, initial, "items")
        )
        return conv.to_openai()

    def get_conversation(self, conv_id: str) -> JSON:
        conv = self.store.get_conversation(self.owner, conv_id)
        if conv is None:
            raise _conversation_missing(conv_id)
        return conv.to_openai()

    def update_conversation(self, conv_id: str, metadata: Any = MISSING) -> JSON:
        """Replace the conversation's metadata (None clears it; `MISSING` is an error)."""
        if metadata is MISSING:
            raise _missing_parameter("metadata")
        conv = self.store.update_conversation(self.owner, conv_id, check_metadata(metadata))
        if conv is None:
            raise _conversation_missing(conv_id)
        return conv.to_openai()

    def delete_conversation(self, conv_id: str) -> JSON:
        """Delete a conversation; the items stored responses share with it stay with them."""
        if not self.store.delete_conversation(self.owner, conv_id):
            raise _conversation_missing(conv_id)
        return {"id": conv_id, "object": "conversation.deleted", "deleted": True}

    def list_items(
        self,
        conv_id: str,
        *,
        limit: int | str | None = None,
        order: str | None = None,
        after: str | None = None,
    ) -> JSON:
        """A page of the conversation's items (see ``check_page`` for `limit` and `order`)."""
        size, direction = check_page(limit, order)
        page = self.store.list_items(self.owner, conv_id, limit=size, order=direction, after=after)
        if page is None:
            raise _conversation_missing(conv_id)
        return page.to_openai()

    def add_items(self, conv_id: str, items: Any) -> JSON:
        """Append `items` (required) to the conversation; returns the page of those added."""
        new = check_items(items, required=True)
        # References resolve before the conversation is looked up, as OpenAI orders the
        # errors: a reference to a missing item is a 400 even in a missing conversation.
        resolved = dereference(self.store, self.owner, new, "items")
        added = self.store.add_items(self.owner, conv_id, resolved)
        if added is None:
            raise _conversation_missing(conv_id)
        return ItemPage(added, has_more=False).to_openai()

    def get_item(self, conv_id: str, item_id: str) -> JSON:
        self.get_conversation(conv_id)  # a missing conversation is named before its item
        item = self.store.get_item(self.owner, item_id, conv_id)
        if item is None:
            raise _item_missing(item_id)
        return item

    def delete_item(self, conv_id: str, item_id: str) -> JSON:
        """Remove an item from the conversation; returns the conversation, as OpenAI does."""
        conv = self.get_conversation(conv_id)
        if not self.store.delete_item(self.owner, conv_id, item_id):
            raise _item_missing(item_id)
        return conv

    # -- files --------------------------------------------------------------------------------

    def upload_file(self, filename: str, purpose: Any, data: bytes | None, *, limit: int) -> JSON:
        """Store `data` (None: no file was sent) as `filename`, refused past `limit` bytes.

        A face reads at most ``limit + 1`` bytes, enough to tell a file over the limit."""
        if not isinstance(purpose, str) or not purpose:
            raise _missing_parameter("purpose")
        if purpose not in FILE_PURPOSES:
            raise value_error("purpose", purpose, list(FILE_PURPOSES))
        if data is None:
            raise _missing_parameter("file")
        if len(data) > limit:
            raise file_too_large(limit)
        return self.store.put_file(self.owner, filename, purpose, data).to_openai()

    def list_files(self) -> JSON:
        """The caller's files, newest first, as one page."""
        stored = self.store.list_files(self.owner)
        return {"object": "list", "data": [f.to_openai() for f in stored], "has_more": False}

    def get_file(self, file_id: str) -> JSON:
        stored = self.store.get_file(self.owner, file_id)
        if stored is None:
            raise _file_missing(file_id)
        return stored.to_openai()

    def file_content(self, file_id: str) -> bytes:
        found = self.store.file_with_content(self.owner, file_id)
        if found is None:
            raise _file_missing(file_id)
        return found[1]

    def delete_file(self, file_id: str) -> JSON:
        if not self.store.delete_file(self.owner, file_id):
            raise _file_missing(file_id)
        return {"id": file_id, "object": "file", "deleted": True}

    # -- stored responses ---------------------------------------------------------------------

    def get_response(self, resp_id: str) -> JSON:
        response = self.store.get_response(self.owner, resp_id)
        if response is None:
            raise _response_missing(resp_id)
        return response

    def list_input_items(
        self,
        resp_id: str,
        *,
        limit: int | str | None = None,
        order: str | None = None,
        after: str | None = None,
    ) -> JSON:
        """A page of the items the response was given (see ``check_page``)."""
        size, direction = check_page(limit, order)
        page = self.store.list_input_items(
            self.owner, resp_id, limit=size, order=direction, after=after
        )
        if page is None:
            raise _response_missing(resp_id)
        return page.to_openai()

    def delete_response(self, resp_id: str) -> JSON:
        """Delete the response (the items it shares with a conversation stay there)."""
        if not self.store.delete_response(self.owner, resp_id):
            raise _response_missing(resp_id)
        return {"id": resp_id, "object": "response", "deleted": True}

    def import_responses(self, source: str | Path) -> list[str]:
        """Store the saved response objects of `source` (their text, or a path; see
        ``responses_import.import_responses``); returns their ids in order."""
        try:
            return responses_import.import_responses(self.store, self.owner, source)
        except ValueError as exc:  # a ResponseImportError says where the input is wrong
            raise InvalidRequestError(str(exc), param=None, code="invalid_value") from None

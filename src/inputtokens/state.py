"""Stored state a count resolves: a conversation's items, a chain of previous responses, and
referenced items, in the order OpenAI puts them in the prompt.

OpenAI prepends what it has stored: the conversation's items (oldest first), or, for
``previous_response_id``, every response of the chain from the oldest on, each one's input
items and then its output items. An ``item_reference`` stands for the item it names. The
instructions of earlier responses are not carried over (OpenAI documents this), so only
items are.

This is the store's edge of counting: it reads the store (and, on a miss, an optional
``Fallback`` such as the upstream) and returns a new ``CountRequest``; rendering stays pure.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from .errors import InvalidRequestError
from .request import CountRequest

if TYPE_CHECKING:
    from .store import Store

JSON = dict[str, Any]

# A longer chain than this is refused rather than walked (and a cycle cannot hang a count).
MAX_CHAIN = 10_000


class Fallback(Protocol):
    """Where ids the store lacks are looked up (the upstream, with the caller's key).

    Each method returns None when the id is unknown there too; a result is then kept in the
    store, so the next count finds it locally.
    """

    def response(self, resp_id: str) -> tuple[JSON, list[JSON]] | None:
        """A response object and its input items, oldest first."""

    def conversation(self, conv_id: str) -> tuple[JSON, list[JSON]] | None:
        """A conversation object and all its items, oldest first."""


def needs_state(request: CountRequest) -> bool:
    """Whether counting `request` reads the store (a cheap check for the hot path)."""
    if request.conversation is not None or request.previous_response_id is not None:
        return True
    return any(_is_reference(item) for item in request.input)


def _is_reference(item: JSON) -> bool:
    kind = item.get("type")
    return kind == "item_reference" or (kind is None and "role" not in item)


def resolve_state(request: CountRequest, store: Store, owner: str,
                  fallback: Fallback | None = None) -> CountRequest:
    """`request` with its stored items in place: prepended, and references replaced."""
    given = tuple(_dereference(request.input, store, owner))
    if request.conversation is not None:
        stored, source = _conversation_items(request.conversation, store, owner, fallback), \
            "conversation"
    elif request.previous_response_id is not None:
        stored, source = _chain_items(request.previous_response_id, store, owner, fallback), \
            "previous_response"
    else:
        return replace(request, input=given)
    return replace(request, input=(*stored, *given), stored_items=len(stored),
                   stored_from=source)


def _dereference(given: tuple[JSON, ...], store: Store, owner: str) -> list[JSON]:
    out = []
    for i, item in enumerate(given):
        if not _is_reference(item):
            out.append(item)
            continue
        found = store.get_item(owner, str(item["id"]))
        if found is None:
            raise InvalidRequestError(f"Item with id '{item['id']}' not found.",
                                      param=f"input[{i}].id", code="item_not_found")
        out.append(found)
    return out


def _conversation_items(conv_id: str, store: Store, owner: str,
                        fallback: Fallback | None) -> list[JSON]:
    found = store.conversation_items(owner, conv_id)
    if found is None and fallback is not None:
        fetched = fallback.conversation(conv_id)
        if fetched is not None:
            from .store import StoredConversation

            conv, all_items = fetched
            store.cache_conversation(owner, StoredConversation(
                conv_id, int(conv.get("created_at") or 0), dict(conv.get("metadata") or {})),
                all_items)
            found = store.conversation_items(owner, conv_id)
    if found is None:
        raise InvalidRequestError(f"Conversation with id '{conv_id}' not found.",
                                  param="conversation", code="conversation_not_found")
    return found


def _chain_items(resp_id: str, store: Store, owner: str,
                 fallback: Fallback | None) -> list[JSON]:
    """The items of every response from the oldest of the chain to `resp_id`."""
    turns: list[list[JSON]] = []
    seen: set[str] = set()
    current: str | None = resp_id
    while current is not None:
        if current in seen or len(seen) >= MAX_CHAIN:
            raise InvalidRequestError(
                f"The chain of previous responses from '{resp_id}' loops or is longer than "
                f"{MAX_CHAIN} responses.", param="previous_response_id",
                code="invalid_value")
        seen.add(current)
        found = store.response_items(owner, current)
        if found is None and fallback is not None:
            fetched = fallback.response(current)
            if fetched is not None:
                store.put_response(owner, fetched[0], fetched[1])
                found = store.response_items(owner, current)
        if found is None:
            # The first id is the caller's; a missing ancestor is named too, so it is clear
            # which link of the chain is not stored.
            raise InvalidRequestError(f"Previous response with id '{current}' not found.",
                                      param="previous_response_id",
                                      code="previous_response_not_found")
        response, response_items = found
        turns.append(response_items)
        current = response.get("previous_response_id")
    return [item for turn in reversed(turns) for item in turn]

"""Stored state a count resolves: a conversation's items, a chain of previous responses, and
referenced items, in the order OpenAI puts them in the prompt.

OpenAI prepends what it has stored: the conversation's items (oldest first), or, for
``previous_response_id``, every response of the chain from the oldest on, each one's input
items and then its output items. An ``item_reference`` stands for the item it names. The
instructions of earlier responses are not carried over (OpenAI documents this), so only
items are.

This is the store's side of ``Sources.load_state`` (state/sources.py): it reads the store
(and, on a miss, an optional ``Fallback`` such as the upstream) and returns the items as a
``StoredState``; the pipeline puts them in place (count/needs.py) and renders purely.

What a fallback finds is kept under the fallback's own ``owner`` (upstream.py: a digest of the
caller's upstream key, which on the HTTP face is the caller's owner too), which lookups search
after the caller's owner when the two differ. A copy of an upstream
conversation older than the fallback's ``conversation_ttl_s`` is fetched again, since an
upstream conversation can gain items; responses and files never change, so their copies stay.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..core.errors import InvalidRequestError
from ..core.types import JSON
from ..count.needs import StateNeeds, StoredState

if TYPE_CHECKING:
    from .store import Store


# A longer chain than this is refused rather than walked (and a cycle cannot hang a count).
MAX_CHAIN = 10_000


class Fallback(Protocol):
    """Where ids the store lacks are looked up (the upstream, with the caller's key).

    Each method returns None when the id is unknown there too; a result is then kept in the
    store under ``owner``, so the next count finds it locally.
    """

    @property
    def owner(self) -> str:
        """The store owner its results are kept under, and looked up as after the caller's."""

    @property
    def conversation_ttl_s(self) -> float:
        """Seconds after which a kept copy of a conversation is fetched again."""

    def response(self, resp_id: str) -> tuple[JSON, list[JSON]] | None:
        """A response object and its input items, oldest first."""

    def conversation(self, conv_id: str) -> tuple[JSON, list[JSON]] | None:
        """A conversation object and all its items, oldest first."""

    def file(self, file_id: str) -> tuple[JSON, bytes] | None:
        """A file object (``filename``, ``purpose``, ``created_at``) and its content."""


def lookup_owners(owner: str, fallback: Fallback | None) -> tuple[str, ...]:
    """The owners whose stored objects a caller reaches: its own, then its fallback's."""
    if fallback is None or fallback.owner == owner:
        return (owner,)
    return (owner, fallback.owner)


def keep(write: Callable[[], object]) -> bool:
    """Run a store write that keeps a fallback's result; False when the id is another
    owner's already (a file id is unique in the store), and the result is then used unkept."""
    from sqlalchemy.exc import IntegrityError

    try:
        write()
    except IntegrityError:
        return False
    return True


def load_state(
    needs: StateNeeds, store: Store, owner: str, fallback: Fallback | None = None
) -> StoredState:
    """The stored items `needs` names, for `owner` (then from the fallback): referenced items
    first, then the conversation's items or the previous responses' chain."""
    owners = lookup_owners(owner, fallback)
    referenced: dict[str, JSON] = {}
    for ref in needs.references:
        if ref.id in referenced:
            continue
        found = _first(store.get_item(o, ref.id) for o in owners)
        if found is None:
            raise InvalidRequestError(
                f"Item with id '{ref.id}' not found.", param=ref.param, code="item_not_found"
            )
        referenced[ref.id] = found
    if needs.conversation is not None:
        prior = _conversation_items(needs.conversation, store, owner, fallback)
        return StoredState(tuple(prior), "conversation", referenced)
    if needs.previous_response_id is not None:
        prior = _chain_items(needs.previous_response_id, store, owner, fallback)
        return StoredState(tuple(prior), "previous_response", referenced)
    return StoredState((), "", referenced)


def _first(candidates: Any) -> Any:
    """The first of `candidates` (a lazy iterable) that is not None."""
    return next((c for c in candidates if c is not None), None)


def _conversation_items(
    conv_id: str, store: Store, owner: str, fallback: Fallback | None
) -> list[JSON]:
    found = None
    for where in lookup_owners(owner, fallback):
        found = store.conversation_items(where, conv_id)
        if found is not None:
            if fallback is not None and where == fallback.owner:
                fetched_at = store.upstream_fetched_at(where, conv_id)
                if (
                    fetched_at is not None
                    and time.time() - fetched_at >= fallback.conversation_ttl_s
                ):
                    found = _fetch_conversation(conv_id, store, fallback)  # a stale copy
            break
    else:
        if fallback is not None:
            found = _fetch_conversation(conv_id, store, fallback)
    if found is None:
        raise InvalidRequestError(
            f"Conversation with id '{conv_id}' not found.",
            param="conversation",
            code="conversation_not_found",
        )
    return found


def _fetch_conversation(conv_id: str, store: Store, fallback: Fallback) -> list[JSON] | None:
    """A conversation's items from the fallback, kept (a copy gone upstream is dropped)."""
    from .records import StoredConversation, item_with_id

    fetched = fallback.conversation(conv_id)
    if fetched is None:
        store.delete_conversation(fallback.owner, conv_id)
        return None
    conv, all_items = fetched
    metadata = conv.get("metadata")
    copy = StoredConversation(
        conv_id,
        int(conv.get("created_at") or 0),
        dict(metadata) if isinstance(metadata, dict) else {},
    )
    if keep(lambda: store.cache_upstream_conversation(fallback.owner, copy, all_items)):
        found = store.conversation_items(fallback.owner, conv_id)
        if found is not None:
            return found
    return [item_with_id(item) for item in all_items]


def _fetch_response(
    resp_id: str, store: Store, fallback: Fallback
) -> tuple[JSON, list[JSON]] | None:
    """A response and its items (input, then output) from the fallback, kept."""
    from .records import item_with_id

    fetched = fallback.response(resp_id)
    if fetched is None:
        return None
    response, input_items = fetched
    if keep(lambda: store.cache_response(fallback.owner, response, input_items)):
        found = store.response_items(fallback.owner, resp_id)
        if found is not None:
            return found
    return response, [item_with_id(i) for i in (*input_items, *(response.get("output") or ()))]


def _chain_items(resp_id: str, store: Store, owner: str, fallback: Fallback | None) -> list[JSON]:
    """The items of every response from the oldest of the chain to `resp_id`."""
    owners = lookup_owners(owner, fallback)
    turns: list[list[JSON]] = []
    seen: set[str] = set()
    current: str | None = resp_id
    while current is not None:
        if current in seen or len(seen) >= MAX_CHAIN:
            raise InvalidRequestError(
                f"The chain of previous responses from '{resp_id}' loops or is longer than "
                f"{MAX_CHAIN} responses.",
                param="previous_response_id",
                code="invalid_value",
            )
        seen.add(current)
        found = _first(store.response_items(o, current) for o in owners)
        if found is None and fallback is not None:
            found = _fetch_response(current, store, fallback)
        if found is None:
            # The first id is the caller's; a missing ancestor is named too, so it is clear
            # which link of the chain is not stored.
            raise InvalidRequestError(
                f"Previous response with id '{current}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        response, response_items = found
        turns.append(response_items)
        current = response.get("previous_response_id")
    return [item for turn in reversed(turns) for item in turn]

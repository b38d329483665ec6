"""What the store holds, as plain values: files, conversations, pages of items, item ids and
the owner digest of an API key.

Kept apart from store.py so that the HTTP routes and the counting path can use them without
importing SQLAlchemy (a third of a second at start-up); the database loads on first use.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from ..formats.responses import item_type


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file's metadata, shaped like OpenAI's file object by ``to_openai``."""

    id: str
    filename: str
    purpose: str
    bytes: int
    created_at: int

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }


@dataclass(frozen=True, slots=True)
class StoredConversation:
    """A conversation's own fields (its items are read separately)."""

    id: str
    created_at: int
    metadata: dict[str, str]

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "conversation",
            "created_at": self.created_at,
            "metadata": self.metadata,
        }


@dataclass(frozen=True, slots=True)
class ItemPage:
    """One page of a listing, and whether more follow it."""

    data: list[dict[str, Any]]
    has_more: bool

    def to_openai(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": self.data,
            "first_id": self.data[0]["id"] if self.data else None,
            "last_id": self.data[-1]["id"] if self.data else None,
            "has_more": self.has_more,
        }


# OpenAI's id prefixes per item type; other types get "item_".
_ITEM_PREFIXES = {
    "message": "msg_",
    "function_call": "fc_",
    "function_call_output": "fco_",
    "reasoning": "rs_",
    "custom_tool_call": "ctc_",
    "custom_tool_call_output": "ctco_",
    "web_search_call": "ws_",
    "file_search_call": "fs_",
    "computer_call": "cu_",
    "computer_call_output": "cuo_",
    "image_generation_call": "ig_",
    "code_interpreter_call": "ci_",
    "mcp_call": "mcp_",
    "compaction": "cmp_",
}


def item_with_id(item: dict[str, Any]) -> dict[str, Any]:
    """`item` as stored: with an id (its own, or a new one in OpenAI's style), and an explicit
    type (a message may omit it on the wire)."""
    kind = item_type(item)
    if kind == "message" and isinstance(item.get("content"), str):
        # OpenAI stores text content as one part; it counts the same either way.
        part = "output_text" if item.get("role") == "assistant" else "input_text"
        text_part: dict[str, Any] = {"type": part, "text": item["content"]}
        if part == "output_text":
            text_part["annotations"] = []
        item = {**item, "content": [text_part]}
        item.setdefault("status", "completed")
    if item.get("id") and item.get("type"):
        return item
    stored = {"type": kind, "id": item.get("id") or new_id(_ITEM_PREFIXES.get(kind, "item_"))}
    stored.update((k, v) for k, v in item.items() if k not in ("type", "id"))
    return stored


def key_owner(key: str) -> str:
    """The owner of what a caller with API key `key` stores: a digest, so the key itself is
    never stored (the server, the upstream copies and the CLI's --api-key all use it)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def new_id(prefix: str) -> str:
    """An id in OpenAI's style: a prefix and 24 random hex digits (``file-…``)."""
    return prefix + secrets.token_hex(12)

"""One line of a Batch API input file: validated as a batch line, counted by its own ``url``.

Pure apart from what the ``Sources`` it is given do (the store and fetching, for lines that
name stored files or URLs). A line that is not JSON, not a batch line or not a valid body is a
``LineResult`` with an error in OpenAI's shape, never an exception: one bad line does not stop
a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ..core import json_body
from ..core.errors import InvalidRequestError, wire_error
from ..core.models import DEFAULT_EMBEDDING_MODEL
from ..core.result import TokenCount
from ..core.token_cache import TokenCountCache
from ..count.needs import NO_SOURCES, Sources
from ..count.pipeline import (
    CountOptions,
    count_chat_request,
    count_embeddings_request,
    count_request,
    prepare,
    prepare_chat,
)
from ..count.plain_text import PlainTextCounter
from ..formats.embeddings import parse_embeddings_request

# The endpoints a Batch API file may name (OpenAI's Batch API reference).
BATCH_URLS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings")
_BATCH_KEYS = frozenset({"custom_id", "method", "url", "body"})


@dataclass(frozen=True, slots=True)
class LineResult:
    """What one line counted to, or why it could not be counted."""

    line: int  # from 1, as editors count
    custom_id: str | None
    url: str | None = None
    model: str | None = None
    input_tokens: int = 0
    exact: bool = False
    # The count is over the model's input limit: OpenAI would fail this line.
    over_context_window: bool = False
    input_limit: int = 0
    error: dict[str, Any] | None = None  # {"message", "code", "param"}

    def to_dict(self) -> dict[str, Any]:
        """The line of ``--output``: the count, or the error."""
        if self.error is not None:
            return {"line": self.line, "custom_id": self.custom_id, "error": self.error}
        out: dict[str, Any] = {
            "line": self.line,
            "custom_id": self.custom_id,
            "url": self.url,
            "model": self.model,
            "input_tokens": self.input_tokens,
            "exact": self.exact,
        }
        if self.over_context_window:
            out["over_context_window"] = True
        return out


def _error(
    line: int, custom_id: str | None, message: str, code: str, param: str | None
) -> LineResult:
    return LineResult(line, custom_id, error={"message": message, "code": code, "param": param})


@dataclass(frozen=True)
class Shortcuts:
    """What makes a batch's lines cheaper to count, as for a library call: the plain-text path
    (count/plain_text.py) and a content cache (the lines of a batch share instructions, tools
    and prefixes). The counts are the same without them."""

    plain: PlainTextCounter | None = None
    cache: TokenCountCache | None = None


NO_SHORTCUTS = Shortcuts()


def count_line(
    raw: bytes | str,
    line: int,
    options: CountOptions,
    sources: Sources = NO_SOURCES,
    shortcuts: Shortcuts = NO_SHORTCUTS,
) -> LineResult:
    """Count one raw line of a batch file (its number `line`, from 1)."""
    try:
        record = json_body.loads(raw, what="The line", fast=orjson.loads)
    except InvalidRequestError as exc:
        return _error(line, None, exc.message, "invalid_json", None)
    return count_record(record, line, options, sources, shortcuts)


def count_record(
    record: Any,
    line: int,
    options: CountOptions,
    sources: Sources = NO_SOURCES,
    shortcuts: Shortcuts = NO_SHORTCUTS,
) -> LineResult:
    """Count one decoded batch line (``{"custom_id", "method", "url", "body"}``)."""
    if not isinstance(record, Mapping):
        return _error(line, None, "A batch line must be a JSON object.", "invalid_batch_line", None)
    custom_id = record.get("custom_id")
    custom_id = custom_id if isinstance(custom_id, str) else None
    for key in ("custom_id", "method", "url", "body"):
        if key not in record:
            return _error(
                line, custom_id, f"Missing required field: '{key}'.", "invalid_batch_line", key
            )
    unknown = sorted(set(record) - _BATCH_KEYS)
    if unknown:
        return _error(
            line, custom_id, f"Unknown field: '{unknown[0]}'.", "invalid_batch_line", unknown[0]
        )
    if custom_id is None:
        return _error(
            line, None, "'custom_id' must be a string.", "invalid_batch_line", "custom_id"
        )
    if record["method"] != "POST":
        return _error(line, custom_id, "'method' must be 'POST'.", "invalid_batch_line", "method")
    url = record["url"]
    if url not in BATCH_URLS:
        return _error(
            line,
            custom_id,
            f"'url' must be one of {', '.join(BATCH_URLS)}; got {url!r}.",
            "invalid_batch_line",
            "url",
        )
    body = record["body"]
    try:
        result = _count_body(url, body, options, sources, shortcuts)
    except Exception as exc:  # every failure becomes the line's error, in OpenAI's shape
        error = wire_error(exc)
        fields = error.envelope["error"]
        param = fields.get("param")
        return _error(
            line,
            custom_id,
            fields["message"],
            fields.get("code") or "error",
            f"body.{param}" if param else "body",
        )
    over = _over_window(url, result)
    return LineResult(
        line,
        custom_id,
        url,
        result.model,
        result.input_tokens,
        result.exact,
        over,
        result.input_limit,
    )


def _count_body(
    url: str, body: Any, options: CountOptions, sources: Sources, shortcuts: Shortcuts
) -> TokenCount:
    cache = shortcuts.cache
    if url == "/v1/responses":
        if shortcuts.plain is not None:
            # None for any other body, and over the input limit: the pipeline counts those
            plain = shortcuts.plain.result(body, cache)
            if plain is not None:
                return plain
        return count_request(
            prepare(body, options),
            sources,
            limits=options.limits,
            cache=cache,
            models=options.models,
            enforce_limit=False,
        )
    if url == "/v1/chat/completions":
        return count_chat_request(
            prepare_chat(body, options),
            sources,
            limits=options.limits,
            cache=cache,
            models=options.models,
            enforce_limit=False,
        )
    request = parse_embeddings_request(body, default_model=DEFAULT_EMBEDDING_MODEL)
    return count_embeddings_request(request, enforce_limit=False)


def _over_window(url: str, result: TokenCount) -> bool:
    """Whether OpenAI would refuse the line for its size: the prompt over the model's input
    limit, or (embeddings) one entry over the per-entry limit."""
    if url == "/v1/embeddings":
        return any(part.tokens > result.input_limit for part in result.parts)
    return result.input_tokens > result.input_limit

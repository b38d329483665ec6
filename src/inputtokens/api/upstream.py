"""The upstream as seen from an HTTP request: which of the caller's headers go with it, and the
fallback a count uses to look up ids the store lacks (state/upstream.py does the lookups)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from ..settings import Settings
from ..state.records import key_owner
from ..state.upstream import FORWARDED_HEADERS, UpstreamFallback
from .common import bearer_token


def forwarded_headers(request: HTTPConnection) -> dict[str, str]:
    """The caller's headers that go to the upstream with its request."""
    return {
        name: value
        for name in FORWARDED_HEADERS
        if (value := request.headers.get(name)) is not None
    }


def upstream_fallback(settings: Settings, request: HTTPConnection) -> UpstreamFallback | None:
    """The fallback for one caller's count: None without an upstream or a bearer key."""
    token = bearer_token(request)
    if not settings.upstream_base_url or not token:
        return None
    return UpstreamFallback(
        base_url=settings.upstream_base_url.rstrip("/"),
        headers=tuple(forwarded_headers(request).items()),
        owner=key_owner(token),
        timeout_s=settings.upstream_timeout_s,
        conversation_ttl_s=settings.upstream_conversation_ttl_s,
        max_file_bytes=settings.max_file_bytes,
        max_items=settings.max_input_items,
    )

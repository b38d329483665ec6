"""OpenAI clients for the test servers: one per server and key, shared by a test module and
closed when it ends (conftest), so no socket is left to the garbage collector."""

from __future__ import annotations

from typing import Any

from openai import OpenAI

_open: dict[tuple[str, str], OpenAI] = {}


def openai_for(server: Any, key: str) -> OpenAI:
    """The client for `server` (a conftest LiveServer) that sends `key`."""
    client = _open.get((server.base_url, key))
    if client is None:
        client = _open[server.base_url, key] = OpenAI(
            base_url=f"{server.base_url}/v1", api_key=key, max_retries=0
        )
    return client


def close_all() -> None:
    for client in _open.values():
        client.close()
    _open.clear()

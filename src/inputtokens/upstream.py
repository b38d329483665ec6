"""The upstream (OpenAI, or anything serving its API): where ids the store lacks are looked up
with the caller's own key. Not configured: nothing is looked up."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.requests import Request

    from .settings import Settings
    from .state import Fallback


def upstream_fallback(settings: Settings, request: Request) -> Fallback | None:
    """The fallback for one caller's count; None until an upstream is configured."""
    return None

"""Type aliases every layer shares."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]  # a decoded JSON object: a body, an item, a tool, a stored object

"""Input items to prompt blocks, one renderer per item type, dispatched from a table.

Messages follow the verified framing rules. Tool history and hosted-tool items are rendered the
way the model is believed to see them and are marked as estimates until their rules are fitted
on recorded counts (see docs/counting-rules.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..models import ModelInfo
from .content import content_segments
from .framing import Framing
from .prompt import Block, Media, Text

JSON = dict[str, Any]
TOOL_HISTORY_REASON = "tool call items: rendering not yet confirmed by recorded counts"
# Opaque encrypted payloads: base64 of ciphertext, so about 3/4 of its length in bytes, at an
# assumed 4 bytes per token. A placeholder until it is calibrated on recorded cases.
_ENCRYPTED_CHARS_PER_TOKEN = 16 / 3


@dataclass
class ItemContext:
    """What item renderers share within one request."""

    model: ModelInfo
    framing: Framing
    call_names: dict[str, str] = field(default_factory=dict)  # call_id -> tool name


def _message(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    body = content_segments(item["content"], f"{path}.content", ctx.model, block)
    block.segments = ctx.framing.message(item["role"], body)


def _function_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    ctx.call_names[item["call_id"]] = item["name"]
    body = [Text(item["arguments"], f"{path}.arguments")]
    block.segments = ctx.framing.tool_call(f"functions.{item['name']}", body)
    block.estimate_reasons.append(TOOL_HISTORY_REASON)


def _custom_tool_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    ctx.call_names[item["call_id"]] = item["name"]
    body = [Text(item["input"], f"{path}.input")]
    block.segments = ctx.framing.tool_call(f"functions.{item['name']}", body, json=False)
    block.estimate_reasons.append(TOOL_HISTORY_REASON)


def _tool_output(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    name = ctx.call_names.get(item["call_id"])
    if name is None:
        block.estimate_reasons.append(
            f"output for call_id '{item['call_id']}' has no matching call in the input"
        )
        name = "unknown"
    output = item["output"]
    body = content_segments(output, f"{path}.output", ctx.model, block)
    block.segments = ctx.framing.tool_result(f"functions.{name}", body)
    block.estimate_reasons.append(TOOL_HISTORY_REASON)


def _encrypted(value: str, block: Block) -> Media:
    block.estimate_reasons.append(
        "encrypted content cannot be read offline: estimated from its length"
    )
    return Media("encrypted", round(len(value) / _ENCRYPTED_CHARS_PER_TOKEN), "encrypted content")


def _reasoning(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    texts = [part.get("text", "") for part in item.get("summary") or []]
    texts += [part.get("text", "") for part in item.get("content") or []]
    body: list[Any] = [Text("\n\n".join(texts), f"{path}.summary")] if texts else []
    if item.get("encrypted_content"):
        body.append(_encrypted(item["encrypted_content"], block))
    block.segments = ctx.framing.reasoning(body)
    block.estimate_reasons.append("reasoning items: rendering not yet confirmed by records")


def _compaction(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    block.segments = ctx.framing.reasoning([_encrypted(item["encrypted_content"], block)])


def _item_reference(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    block.estimate_reasons.append(
        f"item_reference '{item['id']}' is not resolved: referenced items need a store"
    )


_HIDDEN_KEYS = frozenset({"type", "id", "status", "call_id"})


def _generic(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    """Hosted-tool calls and outputs: their visible fields, as compact JSON."""
    kind = item["type"]
    visible = {k: v for k, v in item.items() if k not in _HIDDEN_KEYS and v is not None}
    body = [Text(json.dumps(visible, ensure_ascii=False, separators=(",", ":")), path)]
    if kind.endswith("_output") or kind in ("mcp_list_tools", "mcp_approval_response"):
        block.segments = ctx.framing.tool_result(kind.removesuffix("_output"), body)
    else:
        block.segments = ctx.framing.tool_call(kind, body)
    block.estimate_reasons.append(
        f"no verified rule for '{kind}' items: their visible fields are counted as JSON"
    )


ItemRenderer = Callable[[JSON, str, ItemContext, Block], None]

ITEM_RENDERERS: dict[str, ItemRenderer] = {
    "message": _message,
    "function_call": _function_call,
    "function_call_output": _tool_output,
    "custom_tool_call": _custom_tool_call,
    "custom_tool_call_output": _tool_output,
    "reasoning": _reasoning,
    "compaction": _compaction,
    "item_reference": _item_reference,
}


def item_type(item: JSON) -> str:
    """The item's type, inferred as the schema does when "type" is omitted."""
    kind = item.get("type")
    if kind is None:
        return "message" if "role" in item else "item_reference"
    return str(kind)


def render_item(item: JSON, path: str, ctx: ItemContext) -> Block:
    """One input item as a prompt block labelled with its JSON path."""
    block = Block(path, [], [])
    ITEM_RENDERERS.get(item_type(item), _generic)(item, path, ctx, block)
    return block

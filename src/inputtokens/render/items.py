"""Input items to prompt blocks, one renderer per item type, dispatched from a table.

Messages and function call/output pairs follow rules verified on recorded counts. Custom tool
calls, reasoning items and the hosted-tool items (hosted_items.py) are rendered the way the
model is believed to see them and are marked as estimates (see docs/counting-rules.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.models import ModelInfo
from ..state.sources import Attachments
from .content import content_segments
from .framing import Framing
from .hosted_items import HOSTED_RENDERERS
from .prompt import Block, Media, Segment, Text

JSON = dict[str, Any]
CUSTOM_CALL_REASON = "custom tool calls: free-text call rendering not verified on records"
# Opaque encrypted payloads: base64 of ciphertext, so about 3/4 of its length in bytes, at an
# assumed 4 bytes per token. A placeholder until it is calibrated on recorded cases.
_ENCRYPTED_CHARS_PER_TOKEN = 16 / 3


@dataclass
class ItemContext:
    """What item renderers share within one request."""

    model: ModelInfo
    framing: Framing
    attachments: Attachments
    call_names: dict[str, str] = field(default_factory=dict)  # call_id -> tool name


def _message(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    content = item["content"]
    if type(content) is str:  # the common case, without the call (as content_segments does)
        body: list[Segment] = [Text(content, f"{path}.content")]
    else:
        body = content_segments(content, f"{path}.content", ctx, block)
    block.segments = ctx.framing.message(item["role"], body)


def _recipient(item: JSON) -> str:
    """``functions.{name}``, or ``{namespace}.{name}`` for a tool of a namespace tool."""
    return f"{item.get('namespace') or 'functions'}.{item['name']}"


def _function_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    ctx.call_names[item["call_id"]] = _recipient(item)
    body = [Text(item["arguments"], f"{path}.arguments")]
    block.segments = ctx.framing.tool_call(_recipient(item), body)


def _custom_tool_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    ctx.call_names[item["call_id"]] = _recipient(item)
    body = [Text(item["input"], f"{path}.input")]
    block.segments = ctx.framing.tool_call(_recipient(item), body, json=False)
    block.estimate_reasons.append(CUSTOM_CALL_REASON)


def _tool_output(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    author = ctx.call_names.get(item["call_id"])
    if author is None:
        if item.get("name"):
            author = _recipient(item)
        else:
            block.estimate_reasons.append(
                f"output for call_id '{item['call_id']}' has no matching call in the input"
            )
            author = "functions.unknown"
    output = item["output"]
    body = content_segments(output, f"{path}.output", ctx, block)
    block.segments = ctx.framing.tool_result(author, body)
    if item["type"] == "custom_tool_call_output":
        block.estimate_reasons.append(CUSTOM_CALL_REASON)
    elif not isinstance(output, str):
        block.estimate_reasons.append("function_call_output with content parts: not recorded")


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
    if ctx.model.family != "oss":  # gpt-oss: the reference renders summaries as analysis
        block.estimate_reasons.append("reasoning items: rendering not yet confirmed by records")


def _compaction(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    block.segments = ctx.framing.reasoning([_encrypted(item["encrypted_content"], block)])


def _item_reference(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    # Counting replaces references with the stored items (state.py) before rendering; only a
    # direct call of render() with an unresolved reference gets here.
    block.estimate_reasons.append(
        f"item_reference '{item['id']}' is not resolved: render() was given it unresolved"
    )


def _generic(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    """An item type without a renderer of its own: its visible fields as compact JSON."""
    visible = {
        k: v
        for k, v in item.items()
        if k not in ("type", "id", "status", "call_id") and v is not None
    }
    body = [Text(json.dumps(visible, ensure_ascii=False, separators=(",", ":")), path)]
    block.segments = ctx.framing.tool_result(str(item["type"]), body)


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
    **HOSTED_RENDERERS,
}


def item_type(item: JSON) -> str:
    """The item's type, inferred as the schema does when "type" is omitted."""
    kind = item.get("type")
    if kind is None:
        return "message" if "role" in item else "item_reference"
    return str(kind)


def _is_message(item: JSON, role: str) -> bool:
    return item_type(item) == "message" and item.get("role") == role


def dropped_reasoning(items: tuple[JSON, ...], family: str) -> frozenset[int]:
    """Indexes of reasoning items the model no longer sees.

    Hosted models (OpenAI's reasoning guide): reasoning from a turn that has ended is dropped;
    a turn ends when a new user message follows. gpt-oss (harmony reference): when the last
    assistant message is a final answer, analysis before the first final answer is dropped.
    """
    # Not item_type(): an item without "type" is a message or a reference, never reasoning, and
    # this runs over every item of every request.
    reasoning = [i for i, item in enumerate(items) if item.get("type") == "reasoning"]
    if not reasoning:
        return frozenset()
    if family == "oss":
        assistant = [
            i
            for i, item in enumerate(items)
            if _is_message(item, "assistant")
            or item_type(item) in ("reasoning", "function_call", "custom_tool_call")
        ]
        finals = [i for i in assistant if _is_message(items[i], "assistant")]
        if not finals or assistant[-1] != finals[-1]:
            return frozenset()
        return frozenset(i for i in reasoning if i < finals[0])
    users = [i for i, item in enumerate(items) if _is_message(item, "user")]
    last_user = users[-1] if users else -1
    return frozenset(i for i in reasoning if i < last_user)


def render_item(item: JSON, path: str, ctx: ItemContext) -> Block:
    """One input item as a prompt block labelled with its JSON path."""
    block = Block(path, [], [])
    kind = item_type(item)
    renderer = ITEM_RENDERERS.get(kind)
    (renderer or _generic)(item, path, ctx, block)
    if renderer is None or kind in HOSTED_RENDERERS:
        block.estimate_reasons.append(
            f"'{kind}' items: no published rendering, their visible fields are counted"
        )
    return block

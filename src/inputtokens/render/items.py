"""Input items to prompt blocks, one renderer per item type, dispatched from a table.

Messages and function call/output pairs follow rules verified on recorded counts. Custom tool
calls, reasoning items and the hosted-tool items (hosted_items.py) are rendered the way the
model is believed to see them and are marked as estimates (see docs/counting-rules.md).

What differs per prompt family comes from the family's row (families.py): the framing and
whether reasoning rendering is confirmed arrive in the ``ItemContext``; the two rules for which
reasoning items the model no longer sees are defined here and named in the rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..core.reasons import reason
from ..core.types import JSON
from ..formats.responses import item_type
from .content import content_segments
from .context import ItemContext, ItemRenderer
from .hosted_items import HOSTED_RENDERERS, VERIFIED_ITEMS
from .prompt import Block, Media, Offset, Segment, Text

# Opaque encrypted payloads: base64 of ciphertext, so about 3/4 of its length in bytes, at an
# assumed 4 bytes per token. A placeholder until it is calibrated on recorded cases.
_ENCRYPTED_CHARS_PER_TOKEN = 16 / 3
# Reasons without fields that an item can add on every request, spelled once at import.
_CUSTOM_CALL = reason("custom_tool_call")
_ENCRYPTED = reason("encrypted_content")
_REASONING_UNCONFIRMED = reason("reasoning_unconfirmed")
_PREAMBLE_INFERRED = reason("preamble_inferred")
# The items that call a tool, before which an assistant message is a preamble.
_CALLS = frozenset({"function_call", "custom_tool_call"})


def _part_kinds(content: object) -> list[object]:
    """The ``type`` of each part of a content list (none for a string)."""
    if not isinstance(content, list):
        return []
    return [part.get("type") if isinstance(part, dict) else None for part in content]


def _image_only(kinds: list[object], ctx: ItemContext, block: Block) -> list[Segment]:
    """The fitted offset of content made of images and no text (docs/counting-rules.md,
    Images): recorded on chat models for one image alone (+1). Content that starts with an
    image is flagged otherwise: several images alone, an image before text, or a family
    without the record."""
    if not kinds or kinds[0] != "input_image":
        return []
    alone = all(kind == "input_image" for kind in kinds)
    fitted = ctx.image_only_content if alone else None
    if fitted is None or len(kinds) > 1:
        block.estimate_reasons.append(reason("image_first_content"))
    return [Offset(fitted, "content of an image without text")] if fitted else []


def _message(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    content = item["content"]
    if type(content) is str:  # the common case, without the call (as content_segments does)
        body: list[Segment] = [Text(content, f"{path}.content")]
    else:
        body = content_segments(content, f"{path}.content", ctx, block)
        # Only content that opens with an image can take the image-only offset: the list of
        # part kinds is built for those alone.
        first = content[0] if content else None
        if isinstance(first, dict) and first.get("type") == "input_image":
            body += _image_only(_part_kinds(content), ctx, block)
    if ctx.preambles and item["role"] == "assistant" and _preamble(item, ctx, block):
        block.segments = ctx.framing.preamble(body)
    else:
        block.segments = ctx.framing.message(item["role"], body)


def _preamble(item: JSON, ctx: ItemContext, block: Block) -> bool:
    """Whether an assistant message is a preamble, said on the commentary channel before a
    tool call (1 token more than a final answer: docs/counting-rules.md, Message framing):
    its ``phase`` says so, or it has none and a tool call comes right after it (flagged: one
    record)."""
    phase = item.get("phase")
    if phase is not None:
        return bool(phase == "commentary")
    after = ctx.next_item
    if after is not None and item_type(after) in _CALLS:
        block.estimate_reasons.append(_PREAMBLE_INFERRED)
        return True
    return False


def _recipient(item: JSON) -> str:
    """``functions.{name}``, or ``{namespace}.{name}`` for a tool of a namespace tool."""
    return f"{item.get('namespace') or 'functions'}.{item['name']}"


def _function_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    recipient = _recipient(item)
    ctx.call_names[item["call_id"]] = recipient
    body = [Text(item["arguments"], f"{path}.arguments")]
    block.segments = ctx.framing.tool_call(recipient, body)
    if ctx.declared is not None and recipient not in ctx.declared:
        block.estimate_reasons.append(reason("undeclared_tool_call", name=recipient))


def _custom_tool_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    ctx.call_names[item["call_id"]] = _recipient(item)
    body = [Text(item["input"], f"{path}.input")]
    block.segments = ctx.framing.tool_call(_recipient(item), body, json=False)
    block.estimate_reasons.append(_CUSTOM_CALL)


def _tool_output(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    author = ctx.call_names.get(item["call_id"])
    if author is None:
        if item.get("name"):
            author = _recipient(item)
        else:
            block.estimate_reasons.append(reason("unmatched_call_output", call_id=item["call_id"]))
            author = "functions.unknown"
    output = item["output"]
    body = content_segments(output, f"{path}.output", ctx, block)
    kinds = _part_kinds(output)
    body += _image_only(kinds, ctx, block)
    block.segments = ctx.framing.tool_result(author, body)
    if item["type"] == "custom_tool_call_output":
        block.estimate_reasons.append(_CUSTOM_CALL)
    elif not isinstance(output, str) and not (
        # Text and image parts are recorded on the families with the image-only record, a file
        # alone on those with the PDF record.
        (
            ctx.image_only_content is not None
            and all(kind in ("input_text", "input_image") for kind in kinds)
        )
        or (ctx.pdf_after_text is not None and kinds == ["input_file"])
    ):
        block.estimate_reasons.append(reason("output_content_parts"))


def _encrypted(value: str, block: Block) -> Media:
    block.estimate_reasons.append(_ENCRYPTED)
    return Media("encrypted", round(len(value) / _ENCRYPTED_CHARS_PER_TOKEN), "encrypted content")


def _reasoning(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    texts = [part.get("text", "") for part in item.get("summary") or []]
    texts += [part.get("text", "") for part in item.get("content") or []]
    body: list[Segment] = [Text("\n\n".join(texts), f"{path}.summary")] if texts else []
    if item.get("encrypted_content"):
        body.append(_encrypted(item["encrypted_content"], block))
    block.segments = ctx.framing.reasoning(body)
    if not ctx.reasoning_confirmed:
        block.estimate_reasons.append(_REASONING_UNCONFIRMED)


def _compaction(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    block.segments = ctx.framing.reasoning([_encrypted(item["encrypted_content"], block)])


def _item_reference(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    # Counting replaces references with the stored items (state.py) before rendering; only a
    # direct call of render() with an unresolved reference gets here.
    block.estimate_reasons.append(reason("unresolved_reference", id=item["id"]))


def _generic(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    """An item type without a renderer of its own: its visible fields as compact JSON."""
    visible = {
        k: v
        for k, v in item.items()
        if k not in ("type", "id", "status", "call_id") and v is not None
    }
    body = [Text(json.dumps(visible, ensure_ascii=False, separators=(",", ":")), path)]
    block.segments = ctx.framing.tool_result(str(item["type"]), body)


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


def _is_message(item: JSON, role: str) -> bool:
    return item_type(item) == "message" and item.get("role") == role


def _reasoning_indexes(items: Sequence[JSON]) -> list[int]:
    # Not item_type(): an item without "type" is a message or a reference, never reasoning, and
    # this runs over every item of every request.
    return [i for i, item in enumerate(items) if item.get("type") == "reasoning"]


def ended_turn_reasoning(items: Sequence[JSON]) -> frozenset[int]:
    """Indexes of reasoning items the hosted models no longer see (OpenAI's reasoning guide):
    reasoning from a turn that has ended is dropped; a turn ends when a new user message
    follows."""
    reasoning = _reasoning_indexes(items)
    if not reasoning:
        return frozenset()
    users = [i for i, item in enumerate(items) if _is_message(item, "user")]
    last_user = users[-1] if users else -1
    return frozenset(i for i in reasoning if i < last_user)


def analysis_before_final(items: Sequence[JSON]) -> frozenset[int]:
    """Indexes of reasoning items gpt-oss no longer sees (the harmony reference's
    ``auto_drop_analysis``): when the last assistant item is a final answer (an assistant
    message), the analysis before the first final answer is dropped."""
    reasoning = _reasoning_indexes(items)
    if not reasoning:
        return frozenset()
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


def render_item(item: JSON, path: str, ctx: ItemContext) -> Block:
    """One input item as a prompt block labelled with its JSON path."""
    block = Block(path, [], [])
    kind = item_type(item)
    renderer = ITEM_RENDERERS.get(kind)
    (renderer or _generic)(item, path, ctx, block)
    if renderer is None or (kind in HOSTED_RENDERERS and kind not in VERIFIED_ITEMS):
        block.estimate_reasons.append(reason("unpublished_item", type=kind))
    return block

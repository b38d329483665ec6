"""A Chat Completions body to the prompt the model sees (docs/counting-rules.md, Chat
Completions).

The building blocks are the Responses renderer's: the family's framing (framing.py), the
``functions`` namespace (tools.py), the response-format section and the message blocks
(system.py), content parts with the image and file rules (content.py). What differs on Chat
Completions is one row per prompt family (``CHAT_ROWS``), fitted on the recorded Chat
Completions counts (../shared/accuracy/chat_completions.jsonl):

- chat models show the tools under the ``# Tools`` / ``## functions`` headings, in a system
  message of their own or joined to a leading system message;
- reasoning models put the tools in a developer message, with a hidden text of their own
  (82 tokens after it, fitted) and their own tool offsets (``HOSTED_CHAT_STYLE``); a tool
  call costs 1 less than on Responses, its arguments counted as compact JSON; an assistant
  message's text 2 less; images and PDF pages carry fitted costs (flagged).

Pure: the request, the model and the loaded media in, a ``Prompt`` out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..core.models import ModelInfo
from ..core.reasons import reason
from ..core.types import JSON
from ..formats.chat import ChatRequest
from ..media.loaded import DEFAULT_INLINE_LIMITS, NOTHING_LOADED, InlineLimits, LoadedMedia
from .content import content_segments, file_segments
from .context import ItemContext
from .families import FAMILIES
from .framing import Framing
from .prompt import Block, Offset, Prompt, Segment, Text
from .system import Section, format_section, tools_section
from .tools import HOSTED_CHAT_STYLE, ToolStyle

_JOIN = "\n\n"


@dataclass(frozen=True, slots=True)
class ChatRow:
    """How one prompt family differs on Chat Completions from the same family on Responses."""

    # The tools are shown under the ``# Tools`` / ``## functions`` headings.
    headings: bool
    # Offsets of the message the tools (or the response format) open, as on Responses.
    opening_offset: Mapping[str, int]
    # The tools join a leading system (or developer) message instead of a message of their own.
    join_leading_system: bool
    # A hidden text added when the request has tools (fitted; None: none recorded).
    tools_hidden: int | None
    # Whether counts of this family's tools are confirmed by the records (a reason otherwise).
    tools_confirmed: bool
    # The tool style on Chat Completions when it differs from the family's (None: the same).
    tool_style: ToolStyle | None = None
    # Fitted offset of each tool call (with its result) against the family's call framing.
    call_offset: int = 0
    # Tool call arguments are counted as compact JSON (a reason when that changes them).
    compact_arguments: bool = False
    # Fitted offset of an assistant message with text against the family's message framing.
    assistant_text_offset: int = 0
    # Fitted offset of each image (None: as on Responses, no reason).
    image_offset: int | None = None
    # PDFs: the offset after a text part (the pages' text without the file's name, as the chat
    # family on Responses) and the cost of each page beside its text (None: as on Responses).
    pdf_after_text: int | None = None
    pdf_page: int | None = None
    # Whether several calls in one assistant message are covered by the records.
    parallel_calls_confirmed: bool = True


CHAT_ROWS: dict[str, ChatRow] = {
    "chat": ChatRow(
        headings=True,
        opening_offset={"tools": -1, "text.format": -4},
        join_leading_system=True,
        tools_hidden=None,
        tools_confirmed=True,
    ),
    # docs/counting-rules.md, Chat Completions: every rule below with its records.
    "harmony": ChatRow(
        headings=True,
        opening_offset={"tools": -2, "text.format": -4},
        join_leading_system=False,
        tools_hidden=82,
        tools_confirmed=True,
        tool_style=HOSTED_CHAT_STYLE,
        call_offset=-1,
        compact_arguments=True,
        assistant_text_offset=-2,
        image_offset=+2,
        pdf_after_text=+4,
        pdf_page=213,
        parallel_calls_confirmed=False,
    ),
    "oss": ChatRow(
        headings=True,
        opening_offset={},
        join_leading_system=False,
        tools_hidden=None,
        tools_confirmed=False,
    ),
}

# Models whose Chat Completions prompt holds a hidden text of its own (fitted, flagged): the one
# o1-mini record (test_system_prompt_role_o1_mini#0, two user messages) is 8 above the harmony
# framing.
CHAT_MODEL_HIDDEN: dict[str, int] = {"o1-mini": 8}


def _flat_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A chat tool entry as the tool definition the namespace declares: the ``function`` (or
    ``custom``) object's fields with the entry's type."""
    kind = tool["type"]
    return {"type": kind, **tool[kind]}


def _flat_format(response_format: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A ``response_format`` as the format value the response-format section takes."""
    if not response_format or response_format.get("type") != "json_schema":
        return response_format or {}
    return {"type": "json_schema", **response_format["json_schema"]}


def _text(content: Any) -> str:
    """The text of a string or a list of text/refusal parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(str(p.get("text") or p.get("refusal") or "") for p in content)


class _ChatRenderer:
    """One request's rendering state: the context content parts need, and the call names."""

    def __init__(self, request: ChatRequest, model: ModelInfo, ctx: ItemContext) -> None:
        self.request, self.model, self.ctx = request, model, ctx
        self.framing: Framing = ctx.framing
        self.row = CHAT_ROWS[model.family]

    def message_body(self, message: JSON, path: str, block: Block) -> list[Segment]:
        content = message.get("content")
        if content is None or isinstance(content, str):
            return [Text(content or "", f"{path}.content")]
        segments: list[Segment] = []
        for i, part in enumerate(content):
            part_path = f"{path}.content[{i}]"
            kind = part["type"]
            if kind == "text":
                segments.append(Text(part["text"], f"{part_path}.text"))
            elif kind == "refusal":
                segments.append(Text(part["refusal"], f"{part_path}.refusal"))
            elif kind == "image_url":
                image = part["image_url"]
                as_part = {"type": "input_image", "image_url": image["url"]}
                if image.get("detail"):
                    as_part["detail"] = image["detail"]
                segments += content_segments([as_part], f"{part_path}.image_url", self.ctx, block)
                if self.row.image_offset is not None:
                    segments.append(Offset(self.row.image_offset, "image on Chat Completions"))
                    block.estimate_reasons.append(reason("chat_reasoning_image"))
            elif kind == "file":
                file = {"type": "input_file", **part["file"]}
                after_text = i > 0 and content[i - 1]["type"] == "text"
                segments += file_segments(
                    file, f"{part_path}.file", self.ctx, block, after_text, self.row.pdf_page
                )
            else:  # input_audio
                block.estimate_reasons.append(reason("chat_audio"))
        return segments

    def arguments(self, arguments: str, block: Block) -> str:
        """A call's arguments as counted: compact JSON where the row says so (a reason when
        that changes them), as sent otherwise."""
        if not self.row.compact_arguments:
            return arguments
        try:
            compact = json.dumps(json.loads(arguments), separators=(",", ":"), ensure_ascii=False)
        except ValueError:
            return arguments
        if compact != arguments:
            block.estimate_reasons.append(reason("chat_call_arguments"))
        return compact

    def render_message(self, message: JSON, path: str) -> Block:
        block = Block(path, [], [])
        role = message["role"]
        framing = self.framing
        if role == "tool":
            author = self.ctx.call_names.get(message["tool_call_id"], "functions.unknown")
            block.segments = framing.tool_result(author, self.message_body(message, path, block))
            return block
        if role == "function":
            text = Text(message.get("content") or "", f"{path}.content")
            block.segments = framing.tool_result(f"functions.{message['name']}", [text])
            return block
        segments: list[Segment] = []
        body = self.message_body(message, path, block)
        author = role
        if isinstance(message.get("name"), str):
            # The cookbook's count: the name's tokens and one more; shown here as ``role:name``.
            author = f"{role}:{message['name']}"
            block.estimate_reasons.append(reason("chat_message_name"))
        calls = message.get("tool_calls") or ()
        legacy = message.get("function_call")
        has_text = any(not isinstance(s, Text) or s.text for s in body)
        if role != "assistant" or has_text or not (calls or legacy):
            segments += framing.message(author, body)
            if role == "assistant" and self.row.assistant_text_offset:
                segments.append(
                    Offset(self.row.assistant_text_offset, "assistant message on Chat Completions")
                )
                block.estimate_reasons.append(reason("chat_reasoning_assistant"))
        if len(calls) > 1 and not self.row.parallel_calls_confirmed:
            block.estimate_reasons.append(reason("chat_parallel_calls"))
        for i, call in enumerate(calls):
            call_path = f"{path}.tool_calls[{i}]"
            kind = call["type"]
            recipient = f"functions.{call[kind]['name']}"
            self.ctx.call_names[call["id"]] = recipient
            if kind == "function":
                arguments = self.arguments(call["function"]["arguments"], block)
                args = Text(arguments, f"{call_path}.function.arguments")
                segments += framing.tool_call(recipient, [args])
            else:
                args = Text(call["custom"]["input"], f"{call_path}.custom.input")
                segments += framing.tool_call(recipient, [args], json=False)
                block.estimate_reasons.append(reason("custom_tool_call"))
            if self.row.call_offset:
                segments.append(Offset(self.row.call_offset, "tool call on Chat Completions"))
        if legacy:
            args = Text(legacy["arguments"], f"{path}.function_call.arguments")
            segments += framing.tool_call(f"functions.{legacy['name']}", [args])
        block.segments = segments
        return block


def _system_blocks(
    request: ChatRequest, model: ModelInfo, framing: Framing, style: ToolStyle
) -> tuple[list[Block], int]:
    """The tools and response-format blocks, and how many leading messages they absorbed (a
    leading system message the tools join)."""
    row = CHAT_ROWS[model.family]
    style = row.tool_style or style
    tools = [_flat_tool(t) for t in request.tools]
    sections = [
        s
        for s in (
            tools_section(tools, replace(style, headings=row.headings)),
            format_section(_flat_format(request.response_format), model.encoding),
        )
        if s
    ]
    if not sections:
        return [], 0
    reasons: list[str] = []
    if tools and not row.tools_confirmed:
        reasons.append(reason("chat_reasoning_tools", model=model.id))
    first = request.messages[0]
    absorbed = 0
    leading: list[Section] = []
    if row.join_leading_system and first["role"] in ("system", "developer") and "name" not in first:
        leading = [Section("messages[0]", _text(first["content"]))]
        absorbed = 1
    blocks: list[Block] = []
    visible = [s for s in (*leading, *sections) if s.text]
    role = "system" if model.family == "chat" else framing.system_role
    for section in (*leading, *sections):
        opening = section is visible[0]
        segments: list[Segment] = framing.open(role) if opening else []
        if opening and section.label in row.opening_offset:
            segments.append(
                Offset(row.opening_offset[section.label], f"{section.label} open the message")
            )
        if section.text:
            segments.append(Text(section.text if opening else _JOIN + section.text, section.label))
        segments.extend(section.offsets)
        if section is visible[-1]:
            segments.extend(framing.close())
        blocks.append(Block(section.label, segments, list(section.reasons)))
    if tools and row.tools_hidden:
        blocks[-1].segments.append(Offset(row.tools_hidden, "hidden text of tools"))
    blocks[-1].estimate_reasons.extend(reasons)
    return blocks, absorbed


def render_chat(
    request: ChatRequest,
    model: ModelInfo,
    media: LoadedMedia = NOTHING_LOADED,
    limits: InlineLimits = DEFAULT_INLINE_LIMITS,
) -> Prompt:
    """The prompt of a Chat Completions body for `model`: one block per message, the tools
    and response format, the reply priming."""
    family = FAMILIES[model.family]
    row = CHAT_ROWS[model.family]
    framing = family.framing
    ctx = ItemContext(
        model,
        framing,
        media,
        limits,
        family.reasoning_confirmed,
        image_only_content=family.image_only_content,
        pdf_after_text=family.pdf_after_text if row.pdf_page is None else row.pdf_after_text,
    )
    blocks, absorbed = _system_blocks(request, model, framing, family.tool_style)
    renderer = _ChatRenderer(request, model, ctx)
    messages: Sequence[JSON] = request.messages
    for i in range(absorbed, len(messages)):
        blocks.append(renderer.render_message(messages[i], f"messages[{i}]"))
    priming = Block("priming", framing.priming(), [])
    hidden = CHAT_MODEL_HIDDEN.get(model.id)
    if hidden:
        priming.segments.append(Offset(hidden, f"hidden text of {model.id} on Chat Completions"))
        priming.estimate_reasons.append(reason("chat_model_hidden", model=model.id, tokens=hidden))
    if not model.framing_verified:
        priming.estimate_reasons.append(reason("framing_unverified", model=model.id))
    if model.unconfirmed:
        priming.estimate_reasons.extend(model.unconfirmed)
    blocks.append(priming)
    return Prompt(model.id, model.encoding, blocks)

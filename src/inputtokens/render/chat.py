"""A Chat Completions body to the prompt the model sees (docs/counting-rules.md, Chat
Completions).

The building blocks are the Responses renderer's: the family's framing (framing.py), the
``functions`` namespace (tools.py), the response-format section and the message blocks
(system.py), content parts with the image and file rules (content.py). What differs on Chat
Completions is one row per prompt family (``CHAT_ROWS``), fitted on the recorded Chat
Completions counts (../shared/accuracy/chat_completions.jsonl):

- chat models show the tools under the ``# Tools`` / ``## functions`` headings, in a system
  message of their own or joined to a leading system message (fitted -2); a call's arguments
  are compact JSON, a ``tool`` message is authored ``{name} to=assistant``; several calls of
  one message are one ``multi_tool_use.parallel`` call whose outputs are authored ``{name}``;
  a PDF costs 212 tokens per page more than on Responses;
- reasoning models put the tools in a developer message, with a hidden text of their own
  (82 tokens after it, fitted) and their own tool offsets (``HOSTED_CHAT_STYLE``); a tool
  call costs 1 less than on Responses, its arguments counted as compact JSON; an assistant
  message's text 2 less; images and PDF pages carry fitted costs (flagged).

Pure: the request, the model and the loaded media in, a ``Prompt`` out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..core.errors import InvalidRequestError
from ..core.models import ModelInfo, TileRule
from ..core.reasons import reason
from ..core.types import JSON
from ..formats.chat import ChatRequest
from ..media.audio import AUDIO_TOKENS_PER_SECOND, AudioError, audio_seconds, audio_tokens
from ..media.files import FileError, decode_file_data
from ..media.loaded import DEFAULT_INLINE_LIMITS, NOTHING_LOADED, InlineLimits, LoadedMedia
from .content import file_segments, image_segment
from .context import ItemContext
from .evidence import flag_fitted_models
from .families import FAMILIES
from .framing import Framing
from .prompt import Block, Media, Offset, Prompt, Segment, Text
from .system import Section, format_section, message_blocks, tools_section
from .tools import HOSTED_CHAT_STYLE, ToolStyle

_JOIN = "\n\n"
_IMAGE_SIZE = re.compile(r"image (\d+)x(\d+) ")
_TILE_FIT = 2048  # a tile rule first scales an image to fit inside 2048 x 2048


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
    # Offset of the tools (or response format) joining a leading system message (fitted).
    join_offset: int = 0
    # The author of a ``tool`` message: ``functions.{name}`` as on Responses, or ``{name}
    # to=assistant`` (chat models on Chat Completions, fitted).
    result_author: str = "functions.{name}"
    # A call's JSON ``arguments`` are parsed and shown as compact JSON (chat models, fitted).
    compact_arguments: bool = False
    # Several function calls of one assistant message are one call to
    # ``multi_tool_use.parallel`` (chat models, fitted), whose outputs have this author.
    parallel_result_author: str | None = None
    # Whether compacting the arguments is confirmed by many records (a reason otherwise, when
    # it changes them).
    compact_arguments_confirmed: bool = True
    # Tokens a PDF costs per page beyond its text and the file framing of the Responses rule
    # (fitted on 1-page records; None: unrecorded).
    pdf_page_tokens: int | None = None
    # The offset of a PDF right after a text part, when it differs from the family's on
    # Responses (None: the family's).
    pdf_after_text: int | None = None
    # The tool style on Chat Completions when it differs from the family's (None: the same).
    tool_style: ToolStyle | None = None
    # Fitted offset of each tool call (with its result) against the family's call framing.
    call_offset: int = 0
    # Fitted offset of an assistant message with text against the family's message framing.
    assistant_text_offset: int = 0
    # Fitted offset of each image (None: as on Responses, no reason).
    image_offset: int | None = None
    # Whether several calls in one assistant message, each its own call, are covered by the
    # records (chat models: one ``multi_tool_use.parallel`` call instead).
    parallel_calls_confirmed: bool = True
    # The family's records were checked shape by shape (chat models): shapes they do not show
    # are flagged (legacy functions, text beside calls, unrecorded tool options, a format
    # without tools or joined to a system message), and a non-strict schema that requires
    # everything is shown as the strict one.
    shapes_checked: bool = False


CHAT_ROWS: dict[str, ChatRow] = {
    "chat": ChatRow(
        headings=True,
        opening_offset={"tools": -1, "text.format": -4},
        join_leading_system=True,
        tools_hidden=None,
        tools_confirmed=True,
        join_offset=-2,
        result_author="{name} to=assistant",
        compact_arguments=True,
        parallel_result_author="{name}",
        pdf_page_tokens=212,
        shapes_checked=True,
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
        compact_arguments_confirmed=False,
        assistant_text_offset=-2,
        image_offset=+2,
        pdf_after_text=+4,
        pdf_page_tokens=213,
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


def _requires_everything(schema: Any) -> bool:
    """Whether every object of the schema lists all its properties as ``required`` and says
    nothing of additional properties: what strict mode would imply anyway."""
    if isinstance(schema, list):
        return all(_requires_everything(s) for s in schema)
    if not isinstance(schema, Mapping):
        return True
    props = schema.get("properties")
    if isinstance(props, Mapping):
        required = schema.get("required")
        if "additionalProperties" in schema or not isinstance(required, list):
            return False
        if sorted(map(str, required)) != sorted(props) or len(required) != len(props):
            return False
        if not all(_requires_everything(p) for p in props.values()):
            return False
    return all(
        _requires_everything(v)
        for k, v in schema.items()
        if k not in ("properties", "required", "enum", "const", "default", "examples")
    )


def _flat_format(response_format: Mapping[str, Any] | None, chat_model: bool) -> Mapping[str, Any]:
    """A ``response_format`` as the format value the response-format section takes.

    Chat models: a schema without ``strict: true`` that requires every property of every
    object, and says nothing of additional properties, is shown as the strict one (its
    ``required`` lists left out): the two records of such a schema (``native_output#0``,
    ``#1``, gpt-4o) are exactly that, and 7 below it with the lists shown."""
    if not response_format or response_format.get("type") != "json_schema":
        return response_format or {}
    flat = {"type": "json_schema", **response_format["json_schema"]}
    if chat_model and flat.get("strict") is not True and _requires_everything(flat.get("schema")):
        flat["strict"] = True
    return flat


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
        self.parallel_ids: set[str] = set()  # the calls made through multi_tool_use.parallel

    def arguments(self, text: str, block: Block) -> str:
        """A call's arguments as shown: compact JSON where the row says so and they parse (a
        reason where that changes them and the row's records do not confirm it)."""
        if not self.row.compact_arguments:
            return text
        try:
            value = json.loads(text)
        except ValueError:
            return text
        compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        if compact != text and not self.row.compact_arguments_confirmed:
            block.estimate_reasons.append(reason("chat_call_arguments"))
        return compact

    def parallel_call(self, calls: Sequence[JSON], path: str, block: Block) -> list[Segment]:
        """Several function calls of one message as the one call to ``multi_tool_use.parallel``
        the model made: ``{"tool_uses":[{"recipient_name":"functions.{name}","parameters":
        {arguments}}, ...]}`` as compact JSON."""
        uses = []
        declared = {t["function"]["name"] for t in self.request.tools if t["type"] == "function"}
        undeclared = sorted({c["function"]["name"] for c in calls} - declared)
        if len(calls) != 2 or undeclared:
            block.estimate_reasons.append(
                reason(
                    "chat_parallel_calls",
                    calls=len(calls),
                    undeclared=f" (to undeclared {', '.join(undeclared)})" if undeclared else "",
                )
            )
        for call in calls:
            function = call["function"]
            self.ctx.call_names[call["id"]] = function["name"]
            self.parallel_ids.add(call["id"])
            try:
                parameters = json.loads(function["arguments"])
            except ValueError:
                parameters = function["arguments"]
            uses.append(
                {"recipient_name": f"functions.{function['name']}", "parameters": parameters}
            )
        text = json.dumps({"tool_uses": uses}, separators=(",", ":"), ensure_ascii=False)
        return self.framing.tool_call("multi_tool_use.parallel", [Text(text, f"{path}.tool_calls")])

    def check_large_image(self, segments: Sequence[Segment], block: Block) -> None:
        """Flag an image a tile rule scales down to fit 2048 px: the records of one such image
        disagree (docs/counting-rules.md, Chat Completions)."""
        if not isinstance(self.model.image_rule, TileRule):
            return
        for segment in segments:
            size = _IMAGE_SIZE.match(segment.label) if isinstance(segment, Media) else None
            if size and max(int(size[1]), int(size[2])) > _TILE_FIT:
                block.estimate_reasons.append(
                    reason("chat_large_image", width=size[1], height=size[2])
                )

    def audio(self, audio: JSON, path: str, block: Block) -> Media:
        """An audio clip at the assumed rate of its duration, read from its bytes (flagged:
        no rule is published for Chat Completions)."""
        try:
            data = decode_file_data(audio["data"], self.ctx.limits.max_file_bytes)
            seconds = audio_seconds(data, audio["format"])
        except FileError as exc:
            raise InvalidRequestError(str(exc), param=f"{path}.data", code=exc.code) from None
        except AudioError as exc:
            raise InvalidRequestError(
                f"The audio could not be read: {exc}.", param=f"{path}.data", code="invalid_value"
            ) from None
        block.estimate_reasons.append(reason("chat_audio", rate=AUDIO_TOKENS_PER_SECOND))
        label = f"audio {audio['format']} {seconds:.2f}s"
        return Media("audio", audio_tokens(seconds), label, param=path)

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
                # Errors name `messages[i].content[j].image_url` (the part's image_url object).
                image_segments = [image_segment(as_part, part_path, self.ctx, block)]
                self.check_large_image(image_segments, block)
                segments += image_segments
                if self.row.image_offset is not None:
                    segments.append(Offset(self.row.image_offset, "image on Chat Completions"))
                    block.estimate_reasons.append(reason("chat_reasoning_image"))
            elif kind == "file":
                file = {"type": "input_file", **part["file"]}
                after_text = i > 0 and content[i - 1]["type"] == "text"
                segments += file_segments(
                    file, f"{part_path}.file", self.ctx, block, after_text, self.row.pdf_page_tokens
                )
            else:  # input_audio
                segments.append(self.audio(part["input_audio"], f"{part_path}.input_audio", block))
        return segments

    def render_message(self, message: JSON, path: str) -> Block:
        block = Block(path, [], [])
        role = message["role"]
        framing = self.framing
        if role == "tool":
            name = self.ctx.call_names.get(message["tool_call_id"])
            if name is None:
                name = "unknown"
                block.estimate_reasons.append(
                    reason("unmatched_call_output", call_id=message["tool_call_id"])
                )
            template = self.row.result_author
            if message["tool_call_id"] in self.parallel_ids and self.row.parallel_result_author:
                template = self.row.parallel_result_author
            author = template.format(name=name)
            block.segments = framing.tool_result(author, self.message_body(message, path, block))
            return block
        if role == "function":
            if self.row.shapes_checked:
                block.estimate_reasons.append(reason("chat_legacy_functions"))
            text = Text(message.get("content") or "", f"{path}.content")
            author = self.row.result_author.format(name=message["name"])
            block.segments = framing.tool_result(author, [text])
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
            block.estimate_reasons.append(reason("chat_parallel_calls_each"))
        if self.row.shapes_checked:  # shapes no Chat Completions record shows
            if has_text and (calls or legacy):
                block.estimate_reasons.append(reason("chat_call_with_text"))
            if legacy:
                block.estimate_reasons.append(reason("chat_legacy_functions"))
        functions = [c for c in calls if c["type"] == "function"]
        if self.row.parallel_result_author and len(functions) > 1:
            segments += self.parallel_call(functions, path, block)
            calls = [c for c in calls if c["type"] != "function"]
        for i, call in enumerate(calls):
            call_path = f"{path}.tool_calls[{i}]"
            kind = call["type"]
            recipient = f"functions.{call[kind]['name']}"
            self.ctx.call_names[call["id"]] = call[kind]["name"]
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
            arguments = self.arguments(legacy["arguments"], block)
            args = Text(arguments, f"{path}.function_call.arguments")
            segments += framing.tool_call(f"functions.{legacy['name']}", [args])
        block.segments = segments
        return block


def _unrecorded_options(request: ChatRequest) -> list[str]:
    """Reasons for options with tools that no chat-model record shows (the records have
    ``tool_choice`` absent, ``auto`` or ``required``, and a leading ``system`` message)."""
    found = []
    choice = request.tool_choice
    if choice not in (None, "auto", "required"):
        shown = choice if isinstance(choice, str) else "a named tool"
        found.append(
            reason("chat_unrecorded", what=f"tool_choice {shown}", how="counted as nothing")
        )
    if request.parallel_tool_calls is False:
        found.append(
            reason("chat_unrecorded", what="parallel_tool_calls false", how="counted as nothing")
        )
    if request.messages and request.messages[0]["role"] == "developer":
        found.append(
            reason(
                "chat_unrecorded",
                what="a leading developer message with tools",
                how="the tools joined to it as to a system message",
            )
        )
    return found


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
            tools_section(
                tools,
                replace(style, headings=row.headings, chat_completions=True),
            ),
            format_section(
                _flat_format(request.response_format, row.shapes_checked), model.encoding
            ),
        )
        if s
    ]
    if not sections:
        return [], 0
    reasons: list[str] = []
    if tools and not row.tools_confirmed:
        reasons.append(reason("chat_reasoning_tools", model=model.id))
    if tools and request.legacy_functions and row.shapes_checked:
        reasons.append(reason("chat_legacy_functions"))
    if tools and row.shapes_checked:
        reasons += _unrecorded_options(request)
    first = request.messages[0]
    absorbed = 0
    leading: Section | None = None
    if row.join_leading_system and first["role"] in ("system", "developer") and "name" not in first:
        leading = Section("messages[0]", _text(first["content"]))
        absorbed = 1
    fmt = next((s for s in sections if s.label == "text.format"), None)
    if fmt is not None and row.shapes_checked:
        if not tools:
            reasons.append(reason("chat_format_alone"))
        elif leading is not None:
            reasons.append(reason("chat_format_joined"))
        else:  # the recorded shape: a description line is confirmed there
            fmt.reasons[:] = [r for r in fmt.reasons if r != reason("format_description")]
    blocks = message_blocks(
        framing.system_role,
        framing,
        sections,
        row.opening_offset,
        leading=leading,
        join_offset=row.join_offset,
    )
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
    framing = family.framing
    row = CHAT_ROWS[model.family]
    ctx = ItemContext(
        model,
        framing,
        media,
        limits,
        family.reasoning_confirmed,
        image_only_content=family.image_only_content,
        pdf_after_text=family.pdf_after_text if row.pdf_after_text is None else row.pdf_after_text,
    )
    blocks, absorbed = _system_blocks(request, model, framing, family.tool_style)
    renderer = _ChatRenderer(request, model, ctx)
    messages: Sequence[JSON] = request.messages
    for i in range(absorbed, len(messages)):
        blocks.append(renderer.render_message(messages[i], f"messages[{i}]"))
    flag_fitted_models(blocks, model, family.fitted_on)
    priming = Block("priming", framing.priming(), [])
    if not model.framing_verified:
        priming.estimate_reasons.append(reason("framing_unverified", model=model.id))
    if model.unconfirmed:
        priming.estimate_reasons.extend(model.unconfirmed)
    hidden = CHAT_MODEL_HIDDEN.get(model.id)
    if hidden:
        priming.segments.append(Offset(hidden, f"hidden text of {model.id} on Chat Completions"))
        priming.estimate_reasons.append(reason("chat_model_hidden", model=model.id, tokens=hidden))
    blocks.append(priming)
    return Prompt(model.id, model.encoding, blocks)

"""Message framing per prompt family: how a message, a tool call and a tool result are wrapped.

Three families (see docs/prompt-format.md); ``oss`` is harmony as the gpt-oss reference
renderer writes it:

- ``ChatFraming`` (non-reasoning models): ``<|im_start|>{role}<|im_sep|>{body}<|im_end|>``,
  4 tokens plus the body; the reply is primed with ``<|im_start|>assistant<|im_sep|>`` (3).
- ``HarmonyFraming`` (reasoning models): ``<|start|>{role}<|message|>{body}<|end|>``, 4 plus
  the body; an assistant message carries ``<|channel|>final`` (6), a preamble before a tool
  call ``<|channel|>commentary`` (7); the reply is primed with ``<|start|>assistant`` (2).
  ``harmony`` and ``oss`` differ only in ``constrain_json``.

Both are pure and stateless; a renderer asks its framing for segments and never spells tokens.
Which family uses which framing is a row of the table in families.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from .prompt import Segment, Special, Text

# Framing segments are shared constants; only the body of a message is built per request.
_IM_START, _IM_SEP, _IM_END = Special("<|im_start|>"), Special("<|im_sep|>"), Special("<|im_end|>")
_START, _MESSAGE, _END = Special("<|start|>"), Special("<|message|>"), Special("<|end|>")
_CHANNEL, _CONSTRAIN, _CALL = Special("<|channel|>"), Special("<|constrain|>"), Special("<|call|>")
# Header texts of every call, tool result and priming: built once (segments are immutable).
_ASSISTANT, _COMMENTARY, _ANALYSIS = Text("assistant"), Text("commentary"), Text("analysis")


@lru_cache(maxsize=512)  # bounded: tool-call roles carry arbitrary tool names
def _chat_open(role: str) -> tuple[Segment, ...]:
    return (_IM_START, Text(role), _IM_SEP)


@lru_cache(maxsize=512)  # bounded: tool-call roles carry arbitrary tool names
def _harmony_open(role: str) -> tuple[Segment, ...]:
    if role == "assistant":
        return (_START, Text("assistant"), _CHANNEL, Text("final"), _MESSAGE)
    return (_START, Text(role), _MESSAGE)


class ChatFraming:
    """ChatML framing of the non-reasoning chat models."""

    system_role = "system"  # the role of the message carrying tools and the response format

    def open(self, role: str) -> list[Segment]:
        return list(_chat_open(role))

    def close(self) -> list[Segment]:
        return [_IM_END]

    def message(self, role: str, body: Sequence[Segment]) -> list[Segment]:
        return [*_chat_open(role), *body, _IM_END]

    def tool_call(
        self, recipient: str, body: Sequence[Segment], json: bool = True
    ) -> list[Segment]:
        return self.message(f"assistant to={recipient}", body)

    def preamble(self, body: Sequence[Segment]) -> list[Segment]:
        return self.message("assistant", body)

    def tool_result(self, author: str, body: Sequence[Segment]) -> list[Segment]:
        return self.message(author, body)

    def reasoning(self, body: Sequence[Segment]) -> list[Segment]:
        return self.message("assistant", body)

    def priming(self) -> list[Segment]:
        return list(_chat_open("assistant"))


class HarmonyFraming:
    """Harmony framing of the reasoning models.

    `constrain_json`: whether a call with JSON arguments carries `` <|constrain|>json`` in its
    header. The harmony reference (gpt-oss) writes it; recorded counts of OpenAI's hosted models
    are 3 tokens lower per call, which is exactly that marker (docs/counting-rules.md).
    """

    system_role = "developer"

    def __init__(self, constrain_json: bool) -> None:
        self.constrain_json = constrain_json

    def open(self, role: str) -> list[Segment]:
        return list(_harmony_open(role))

    def close(self) -> list[Segment]:
        return [_END]

    def message(self, role: str, body: Sequence[Segment]) -> list[Segment]:
        return [*_harmony_open(role), *body, _END]

    def tool_call(
        self, recipient: str, body: Sequence[Segment], json: bool = True
    ) -> list[Segment]:
        """A call; `json` arguments may be marked with ``<|constrain|>json`` (free text never)."""
        if json and self.constrain_json:
            return [
                _START,
                Text(f"assistant to={recipient}"),
                _CHANNEL,
                Text("commentary "),
                _CONSTRAIN,
                Text("json"),
                _MESSAGE,
                *body,
                _CALL,
            ]
        return [
            _START,
            Text(f"assistant to={recipient}"),
            _CHANNEL,
            _COMMENTARY,
            _MESSAGE,
            *body,
            _CALL,
        ]

    def preamble(self, body: Sequence[Segment]) -> list[Segment]:
        """An assistant message on the ``commentary`` channel: what the model says before it
        calls a tool (harmony's preambles)."""
        return [_START, _ASSISTANT, _CHANNEL, _COMMENTARY, _MESSAGE, *body, _END]

    def tool_result(self, author: str, body: Sequence[Segment]) -> list[Segment]:
        return [
            _START,
            Text(f"{author} to=assistant"),
            _CHANNEL,
            _COMMENTARY,
            _MESSAGE,
            *body,
            _END,
        ]

    def reasoning(self, body: Sequence[Segment]) -> list[Segment]:
        return [_START, _ASSISTANT, _CHANNEL, _ANALYSIS, _MESSAGE, *body, _END]

    def priming(self) -> list[Segment]:
        return [_START, _ASSISTANT]


Framing = ChatFraming | HarmonyFraming

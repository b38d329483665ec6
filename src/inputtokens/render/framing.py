"""Message framing per prompt family: how a message, a tool call and a tool result are wrapped.

Two families (see docs/prompt-format.md):

- ``ChatFraming`` (non-reasoning models): ``<|im_start|>{role}<|im_sep|>{body}<|im_end|>``,
  4 tokens plus the body; the reply is primed with ``<|im_start|>assistant<|im_sep|>`` (3).
- ``HarmonyFraming`` (reasoning models): ``<|start|>{role}<|message|>{body}<|end|>``, 4 plus
  the body; an assistant message carries ``<|channel|>final`` (6); the reply is primed with
  ``<|start|>assistant`` (2).

Both are pure and stateless; a renderer asks its framing for segments and never spells tokens.
"""

from __future__ import annotations

from .prompt import Segment, Special, Text


class ChatFraming:
    """ChatML framing of the non-reasoning chat models."""

    system_role = "system"  # the role of the message carrying tools and the response format

    def open(self, role: str) -> list[Segment]:
        return [Special("<|im_start|>"), Text(role), Special("<|im_sep|>")]

    def close(self) -> list[Segment]:
        return [Special("<|im_end|>")]

    def message(self, role: str, body: list[Segment]) -> list[Segment]:
        return [*self.open(role), *body, *self.close()]

    def tool_call(self, recipient: str, body: list[Segment], json: bool = True) -> list[Segment]:
        return self.message(f"assistant to={recipient}", body)

    def tool_result(self, author: str, body: list[Segment]) -> list[Segment]:
        return self.message(author, body)

    def reasoning(self, body: list[Segment]) -> list[Segment]:
        return self.message("assistant", body)

    def priming(self) -> list[Segment]:
        return self.open("assistant")


class HarmonyFraming:
    """Harmony framing of the reasoning models, with no hidden system message."""

    system_role = "developer"

    def open(self, role: str) -> list[Segment]:
        if role == "assistant":
            return [Special("<|start|>"), Text("assistant"), Special("<|channel|>"),
                    Text("final"), Special("<|message|>")]
        return [Special("<|start|>"), Text(role), Special("<|message|>")]

    def close(self) -> list[Segment]:
        return [Special("<|end|>")]

    def message(self, role: str, body: list[Segment]) -> list[Segment]:
        return [*self.open(role), *body, *self.close()]

    def tool_call(self, recipient: str, body: list[Segment], json: bool = True) -> list[Segment]:
        """A call; `json` arguments are marked with ``<|constrain|>json`` (free text is not)."""
        constraint: list[Segment] = [Special("<|constrain|>"), Text("json")] if json else []
        return [Special("<|start|>"), Text(f"assistant to={recipient}"), Special("<|channel|>"),
                Text("commentary" + (" " if json else "")), *constraint,
                Special("<|message|>"), *body, Special("<|call|>")]

    def tool_result(self, author: str, body: list[Segment]) -> list[Segment]:
        return [Special("<|start|>"), Text(f"{author} to=assistant"), Special("<|channel|>"),
                Text("commentary"), Special("<|message|>"), *body, Special("<|end|>")]

    def reasoning(self, body: list[Segment]) -> list[Segment]:
        return [Special("<|start|>"), Text("assistant"), Special("<|channel|>"),
                Text("analysis"), Special("<|message|>"), *body, Special("<|end|>")]

    def priming(self) -> list[Segment]:
        return [Special("<|start|>"), Text("assistant")]


Framing = ChatFraming | HarmonyFraming

FRAMINGS: dict[str, Framing] = {"chat": ChatFraming(), "harmony": HarmonyFraming()}

"""Parse and validate a Chat Completions body into a ``ChatRequest``.

The body is checked against ``chat_schema.BODY`` (every role, content part, tool and option),
then against the rules that span fields. Errors are ``InvalidRequestError`` with ``param`` as
the JSON path (``messages[2].content[0].type``). Messages stay the decoded dicts they arrived
as: validated values, never mutated. A chat body is rendered as itself (render/chat.py), never
converted to a Responses body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.errors import InvalidRequestError
from ..core.types import JSON
from . import chat_schema


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A validated Chat Completions body, reduced to what can change the prompt."""

    model: str
    messages: tuple[JSON, ...]
    # ``tools`` entries, plus legacy ``functions`` as function tools (their definitions share a
    # shape; how each is shown is the renderer's business).
    tools: tuple[JSON, ...] = ()
    tool_choice: Any = None
    response_format: JSON | None = None
    legacy_functions: bool = False  # the tools came from ``functions``
    parallel_tool_calls: bool | None = None
    model_defaulted: bool = False  # the body named no model: `model` is the default one
    # ``max_completion_tokens`` (or the older ``max_tokens``): the reply's budget.
    max_output_tokens: int | None = None
    fallbacks: tuple[str, ...] = ()  # a gateway's: counted with when `model` is not countable


def parse_chat_request(
    body: Any, *, default_model: str, max_messages: int | None = None
) -> ChatRequest:
    """Validate a decoded JSON body and build a ChatRequest.

    >>> parse_chat_request(
    ...     {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]},
    ...     default_model="gpt-5",
    ... ).messages
    ({'role': 'user', 'content': 'Hi'},)
    """
    if not isinstance(body, Mapping):
        raise InvalidRequestError(
            "The request body must be a JSON object.", param=None, code="invalid_type"
        )
    if "messages" not in body:
        raise InvalidRequestError(
            "Missing required parameter: 'messages'.",
            param="messages",
            code="missing_required_parameter",
        )
    chat_schema.BODY.validate(body, "")
    messages = body["messages"]
    if max_messages is not None and len(messages) > max_messages:
        raise InvalidRequestError(
            f"Invalid 'messages': array too long. Expected an array with maximum length "
            f"{max_messages}, but got an array with length {len(messages)} instead.",
            param="messages",
            code="array_above_max_length",
        )
    tools = body.get("tools") or ()
    functions = body.get("functions") or ()
    if tools and functions:
        raise InvalidRequestError(
            "Mutually exclusive parameters: Ensure you are only providing one of: "
            "'tools' or 'functions'.",
            param="functions",
            code="mutually_exclusive_parameters",
        )
    _check_tool_calls(messages)
    model = body.get("model")
    if functions:
        tools = tuple({"type": "function", "function": f} for f in functions)
    return ChatRequest(
        model=default_model if model is None else model,
        messages=tuple(messages),
        tools=tuple(tools),
        tool_choice=body.get("tool_choice", body.get("function_call")),
        response_format=body.get("response_format"),
        legacy_functions=bool(functions),
        parallel_tool_calls=body.get("parallel_tool_calls"),
        model_defaulted=model is None,
        max_output_tokens=body.get("max_completion_tokens", body.get("max_tokens")),
        fallbacks=tuple(body.get("fallbacks") or ()),
    )


def _check_tool_calls(messages: list[JSON]) -> None:
    """A ``tool`` message answers a call of an earlier assistant message, as OpenAI requires."""
    called: set[str] = set()
    for i, message in enumerate(messages):
        role = message["role"]
        if role == "assistant":
            for call in message.get("tool_calls") or ():
                called.add(call["id"])
        elif role == "tool" and message["tool_call_id"] not in called:
            raise InvalidRequestError(
                "Invalid parameter: messages with role 'tool' must be a response to a "
                "preceeding message with 'tool_calls'.",
                param=f"messages[{i}].role",
                code="invalid_value",
            )

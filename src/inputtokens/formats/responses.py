"""Parse and validate a count request body into a frozen ``CountRequest``.

The body is checked against ``wire_schema.BODY`` (every field, every item and tool type), then
against the rules that span fields (``conversation`` with ``previous_response_id``, empty input).
Errors are ``InvalidRequestError`` with ``param`` as the JSON path.

Items stay the decoded JSON dicts they arrived as: validated values, never mutated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.errors import InvalidRequestError
from ..core.types import JSON
from . import responses_schema as wire_schema


@dataclass(slots=True)
class CountRequest:
    """A validated count request. `input` is always a tuple of items (a string becomes one
    user message).

    A value: nothing changes it after parsing (not a frozen dataclass only because frozen
    construction costs three times as much on the per-request path). ``parse_request`` builds
    it positionally: keep its arguments in step with the order of the fields.
    """

    model: str
    input: tuple[JSON, ...] = ()
    input_is_text: bool = False  # `input` was a plain string (rendered as one user message)
    instructions: str | None = None
    tools: tuple[JSON, ...] = ()
    tool_choice: Any = None
    text: JSON | None = None
    reasoning: JSON | None = None
    truncation: str | None = None
    conversation: str | None = None
    previous_response_id: str | None = None
    parallel_tool_calls: bool | None = None
    fallbacks: tuple[str, ...] = ()  # a gateway's: counted with when `model` is not countable
    # Set when stored state is applied (count/needs.py): how many leading `input` items came
    # from the store, and from where ("conversation" or "previous_response"); they are
    # labelled by it.
    stored_items: int = 0
    stored_from: str = ""
    model_defaulted: bool = False  # the body named no model: `model` is the default one
    # The reply's budget the body asks for (it does not change the count; the rich view
    # says whether the input leaves room for it).
    max_output_tokens: int | None = None

    def item_label(self, index: int) -> str:
        """The label of item `index` of the full input: where a stored item came from, or the
        JSON path of a sent one (stored items come first)."""
        if index < self.stored_items:
            return f"{self.stored_from}[{index}]"
        if self.input_is_text:
            return "input"
        return f"input[{index - self.stored_items}]"


def item_type(item: JSON) -> str:
    """The type of a validated input item; one without "type" is a message when it has a
    role, else an item reference (as the schema infers it)."""
    kind = item.get("type")
    if kind is None:
        return "message" if "role" in item else "item_reference"
    return str(kind)


def parse_request(
    body: Any, *, default_model: str, max_input_items: int | None = None
) -> CountRequest:
    """Validate a decoded JSON body and build a CountRequest.

    >>> parse_request({"model": "gpt-5", "input": "Hi"}, default_model="gpt-4o").input
    ({'role': 'user', 'content': 'Hi'},)
    """
    if type(body) is not dict and not isinstance(body, Mapping):
        raise InvalidRequestError(
            "The request body must be a JSON object.", param=None, code="invalid_type"
        )
    wire_schema.BODY.validate(body, "")
    # From here on the body is a validated dict: each field is read once, and exact type
    # checks stand in for isinstance (`conversation` is a string, an object or null; `input` a
    # string, an array or null), which matters on the per-request path.
    get = body.get
    conversation = get("conversation")
    previous_response_id = get("previous_response_id")
    if conversation is not None and previous_response_id is not None:
        raise InvalidRequestError(
            "Mutually exclusive parameters: Ensure you are only providing one of: "
            "'previous_response_id' or 'conversation'.",
            param=None,
            code="mutually_exclusive_parameters",
        )
    if type(conversation) is dict:
        conversation = conversation["id"]
    raw_input = get("input")
    input_is_text = type(raw_input) is str
    if input_is_text:
        if not raw_input:
            raise InvalidRequestError(
                "Invalid 'input': empty string. Expected a string with minimum length 1, "
                "but got an empty string instead.",
                param="input",
                code="empty_string",
            )
        items: tuple[JSON, ...] = ({"role": "user", "content": raw_input},)
    elif type(raw_input) is list:
        if not raw_input:
            raise InvalidRequestError(
                "Invalid 'input': empty array. Expected an array with minimum length 1, "
                "but got an empty array instead.",
                param="input",
                code="empty_array",
            )
        if max_input_items is not None and len(raw_input) > max_input_items:
            raise InvalidRequestError(
                f"Invalid 'input': array too long. Expected an array with maximum length "
                f"{max_input_items}, but got an array with length {len(raw_input)} instead.",
                param="input",
                code="array_above_max_length",
            )
        items = tuple(raw_input)
    else:
        if conversation is None and previous_response_id is None:
            raise InvalidRequestError(
                "Missing required parameter: 'input'.",
                param="input",
                code="missing_required_parameter",
            )
        items = ()
    model = get("model")
    tools = get("tools")
    fallbacks = get("fallbacks")
    # Positional, in field order: a third of the cost of keywords on this per-request path.
    return CountRequest(
        default_model if model is None else model,  # model
        items,  # input
        input_is_text,  # input_is_text
        get("instructions"),  # instructions
        tuple(tools) if tools else (),  # tools
        get("tool_choice"),  # tool_choice
        get("text"),  # text
        get("reasoning"),  # reasoning
        get("truncation"),  # truncation
        conversation,  # conversation
        previous_response_id,  # previous_response_id
        get("parallel_tool_calls"),  # parallel_tool_calls
        tuple(fallbacks) if fallbacks else (),  # fallbacks
        0,  # stored_items
        "",  # stored_from
        model is None,  # model_defaulted
        get("max_output_tokens"),  # max_output_tokens
    )

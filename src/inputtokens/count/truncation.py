"""The context window: refuse an input that does not fit, or drop its oldest items.

With ``truncation: "disabled"`` (the default) an input over the model's input limit is a 400
``context_length_exceeded``. With ``"auto"`` the oldest input items are dropped until the rest
fits. Instructions, tools and the response format are never dropped. A tool output is never
kept without its call, so a cut that would orphan one moves past it.

Choosing the cut needs no re-counting: every item is its own block of the prompt, and blocks
are tokenized apart (render/prompt.py), so dropping an item removes exactly its block's
tokens. The caller renders the kept items once more to get the final exact count.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.errors import InvalidRequestError
from ..core.types import JSON

CONTEXT_LENGTH_MESSAGE = (
    "Your input exceeds the context window of this model. Please adjust your input and try again."
)
# Items that answer a call: keeping one whose call was dropped would leave an orphan.
_OUTPUT_TYPES = frozenset(
    {
        "function_call_output",
        "custom_tool_call_output",
        "computer_call_output",
        "local_shell_call_output",
        "shell_call_output",
        "apply_patch_call_output",
        "mcp_approval_response",
        "tool_search_output",
    }
)


def context_length_error(
    tokens: int | None = None, limit: int | None = None, param: str = "input"
) -> InvalidRequestError:
    """OpenAI's 400 for a prompt over the model's input limit, naming `param` (the items).

    With the figures (`tokens` counted, the model's `limit`), OpenAI's message gains them
    between its two sentences, and the error carries them as ``details`` (``input_tokens``,
    ``max_input_tokens``, ``tokens_over``) for the rich view.

    >>> context_length_error(9215, 8192).details["tokens_over"]
    1023
    """
    if tokens is None or limit is None:
        return InvalidRequestError(
            CONTEXT_LENGTH_MESSAGE, param=param, code="context_length_exceeded"
        )
    over = tokens - limit
    first, rest = CONTEXT_LENGTH_MESSAGE.split(". ", 1)
    message = f"{first}: {tokens} input tokens, {over} over its limit of {limit}. {rest}"
    details = {"input_tokens": tokens, "max_input_tokens": limit, "tokens_over": over}
    return InvalidRequestError(
        message, param=param, code="context_length_exceeded", details=details
    )


def items_to_drop(items: Sequence[JSON], item_tokens: Sequence[int], excess: int) -> int:
    """How many leading items to drop so that at least `excess` tokens go.

    Raises context_length_exceeded when dropping all but the last item is not enough, as
    OpenAI does when nothing it may drop makes the input fit.
    """
    dropped_tokens = 0
    cut = 0
    while dropped_tokens < excess:
        if cut >= len(items) - 1:
            raise context_length_error()
        dropped_tokens += item_tokens[cut]
        cut += 1
    # A kept output whose call was dropped would be an orphan: move the cut past it.
    while True:
        dropped_calls = {item.get("call_id") for item in items[:cut]} - {None}
        orphans = [
            i
            for i in range(cut, len(items))
            if items[i].get("type") in _OUTPUT_TYPES and items[i].get("call_id") in dropped_calls
        ]
        if not orphans:
            return cut
        cut = orphans[-1] + 1
        if cut >= len(items):
            raise context_length_error()

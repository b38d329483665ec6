"""inputtokens: count OpenAI Responses API input tokens offline, as OpenAI bills them (and
Chat Completions bodies' with ``count_chat_tokens``).

>>> from inputtokens import count_input_tokens
>>> count_input_tokens({"model": "gpt-5", "input": "Tell me a joke."}).input_tokens
11
"""

from ._version import __version__
from .core.errors import (
    AuthenticationError,
    InputTokensError,
    InvalidRequestError,
    ModelNotFoundError,
    NotFoundError,
    PayloadTooLargeError,
    TokenizationError,
)
from .core.models import ModelInfo, lookup_model
from .core.result import PartCount, TokenCount
from .formats.responses import CountRequest, parse_request
from .library import (
    count_chat_tokens,
    count_embedding_tokens,
    count_input_tokens,
    render_chat_prompt,
    render_prompt,
)
from .render.prompt import Prompt
from .settings import Settings

__all__ = [
    "AuthenticationError",
    "CountRequest",
    "InputTokensError",
    "InvalidRequestError",
    "ModelInfo",
    "ModelNotFoundError",
    "NotFoundError",
    "PartCount",
    "PayloadTooLargeError",
    "Prompt",
    "Settings",
    "TokenCount",
    "TokenizationError",
    "__version__",
    "count_chat_tokens",
    "count_embedding_tokens",
    "count_input_tokens",
    "lookup_model",
    "parse_request",
    "render_chat_prompt",
    "render_prompt",
]

# Public objects report the package as their home, so reprs and docs show the public path.
for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and not isinstance(_obj, str):
        try:
            _obj.__module__ = "inputtokens"
        except (AttributeError, TypeError):
            pass
del _name, _obj

"""Errors raised by inputtokens, each carrying OpenAI's error fields.

Hierarchy::

    InputTokensError                  base; .message .type .param .code .status
    ├── InvalidRequestError           400: the body breaks the request schema (param = JSON path)
    │   ├── ModelNotFoundError        400: `model` names no model in the registry
    │   └── TokenizationError         400: the tokenizer could not process a piece of text
    ├── AuthenticationError           401: a bearer key is required and was missing or wrong
    ├── NotFoundError                 404: no such route or object
    ├── RequestTimeoutError           408: the request body took too long to arrive
    └── PayloadTooLargeError          413: the body is over the configured size limit

Every face (the HTTP routes, the bare count route, the CLI) turns an exception into an answer
through ``wire_error``, the one mapper: an ``InputTokensError`` becomes its status and OpenAI's
envelope ``{"error": {"message", "type", "param", "code"}}``; anything else becomes a 500
``server_error`` whose message never shows the exception (faces log it).

An error may carry figures (``details``, e.g. ``input_tokens`` and ``max_input_tokens`` of a
``context_length_exceeded``). They join the envelope's ``error`` object only where the caller
asked for the rich view (``wire_error(exc, rich=True)``: ``?verbose=true``, ``count --json``);
the plain envelope keeps exactly OpenAI's four keys.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, TypeVar


class InputTokensError(Exception):
    """Base class: an error that has an OpenAI-shaped HTTP representation."""

    status: int = 400
    type: str = "invalid_request_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        # Figures behind the error, for the rich view only (never OpenAI's keys).
        self.details: Mapping[str, Any] = details or {}

    def to_envelope(self, rich: bool = False) -> dict[str, Any]:
        """The error as OpenAI's JSON envelope; `rich` adds the error's ``details``."""
        error = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        if rich and self.details:
            error.update({k: v for k, v in self.details.items() if k not in error})
        return {"error": error}


class InvalidRequestError(InputTokensError):
    """Raised when the request body does not follow the schema; `param` is the JSON path."""


def did_you_mean(value: str, candidates: Iterable[str]) -> str:
    """ " Did you mean 'x'?" for the candidate closest to a mistyped `value` (standard
    library difflib), or "" when none is close. Appended to an error's message.

    >>> did_you_mean("mesage", ["message", "reasoning", "function_call"])
    " Did you mean 'message'?"
    >>> did_you_mean("zzz", ["message"])
    ''
    """
    close = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def _digits(name: str) -> str:
    return "".join(re.findall(r"\d", name))


def closest_model(model: str, known: Iterable[str]) -> str:
    """``did_you_mean`` for a model name, among the known names with the same digits: 'gpt5'
    is a typo of 'gpt-5', but 'gpt-9' names another version, not 'gpt-5'.

    >>> closest_model("gpt5", ["gpt-5", "gpt-4o", "o3"])
    " Did you mean 'gpt-5'?"
    >>> closest_model("gpt-9", ["gpt-5", "gpt-4o", "o3"])
    ''
    """
    digits = _digits(model)
    return did_you_mean(model, (k for k in known if _digits(k) == digits))


class ModelNotFoundError(InvalidRequestError):
    """Raised when `model` is not in the model registry; `known` (the registry's names) adds
    the closest one to the message."""

    def __init__(self, model: str, known: Iterable[str] = ()) -> None:
        super().__init__(
            f"The requested model '{model}' does not exist.{closest_model(model, known)}",
            param="model",
            code="model_not_found",
        )


class TokenizationError(InvalidRequestError):
    """Raised when the tokenizer fails on a piece of text that splitting.py could not avoid."""


class AuthenticationError(InputTokensError):
    """Raised when API keys are configured and the request's bearer key is not one of them."""

    status = 401


class NotFoundError(InputTokensError):
    """Raised for an unknown route or stored object."""

    status = 404


class RequestTimeoutError(InputTokensError):
    """Raised when a request's body does not arrive within the server's body timeout."""

    status = 408


class PayloadTooLargeError(InputTokensError):
    """Raised when the request body exceeds the configured byte limit."""

    status = 413


class UnsupportedMediaTypeError(InputTokensError):
    """Raised when the request body is encoded in a way this service cannot decode."""

    status = 415


E = TypeVar("E", bound=InputTokensError)


def with_hint(exc: E, hint: str) -> E:
    """A copy of `exc` whose message ends with `hint` (a sentence saying the fix)."""
    hinted = copy.copy(exc)
    hinted.message = f"{exc.message} {hint}"
    hinted.args = (hinted.message,)
    return hinted


SERVER_ERROR_MESSAGE = "The server had an error processing your request."


class WireError(NamedTuple):
    """An exception as a face answers it: an HTTP status and OpenAI's error envelope."""

    status: int
    envelope: dict[str, Any]
    expected: bool  # False: not an InputTokensError (a bug), which the face should log


def wire_error(exc: BaseException, *, rich: bool = False) -> WireError:
    """The one mapping from an exception to OpenAI's answer, shared by every face; `rich`
    (the caller asked for the rich view) adds the error's figures to its envelope.

    >>> wire_error(NotFoundError("No such File object: f", param="id")).status
    404
    >>> wire_error(KeyError("x")).envelope["error"]["type"]
    'server_error'
    """
    if isinstance(exc, InputTokensError):
        return WireError(exc.status, exc.to_envelope(rich), True)
    envelope = {
        "error": {
            "message": SERVER_ERROR_MESSAGE,
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    return WireError(500, envelope, False)

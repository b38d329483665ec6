"""Errors raised by inputtokens, each carrying OpenAI's error fields.

Hierarchy::

    InputTokensError                  base; .message .type .param .code .status
    ├── InvalidRequestError           400: the body breaks the request schema (param = JSON path)
    │   ├── ModelNotFoundError        400: `model` names no model in the registry
    │   └── TokenizationError         400: the tokenizer could not process a piece of text
    ├── AuthenticationError           401: a bearer key is required and was missing or wrong
    ├── NotFoundError                 404: no such route or object
    └── PayloadTooLargeError          413: the body is over the configured size limit

Every error maps to OpenAI's envelope ``{"error": {"message", "type", "param", "code"}}`` via
``to_envelope``; the HTTP layer does that in one place.
"""

from __future__ import annotations

from typing import Any


class InputTokensError(Exception):
    """Base class: an error that has an OpenAI-shaped HTTP representation."""

    status: int = 400
    type: str = "invalid_request_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code

    def to_envelope(self) -> dict[str, Any]:
        """The error as OpenAI's JSON envelope."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequestError(InputTokensError):
    """Raised when the request body does not follow the schema; `param` is the JSON path."""


class ModelNotFoundError(InvalidRequestError):
    """Raised when `model` is not in the model registry."""

    def __init__(self, model: str) -> None:
        super().__init__(
            f"The requested model '{model}' does not exist.", param="model", code="model_not_found"
        )


class TokenizationError(InvalidRequestError):
    """Raised when the tokenizer fails on a piece of text that splitting.py could not avoid."""


class AuthenticationError(InputTokensError):
    """Raised when API keys are configured and the request's bearer key is not one of them."""

    status = 401


class NotFoundError(InputTokensError):
    """Raised for an unknown route or stored object."""

    status = 404


class PayloadTooLargeError(InputTokensError):
    """Raised when the request body exceeds the configured byte limit."""

    status = 413

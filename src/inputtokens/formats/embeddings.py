"""Parse and validate an Embeddings body (``POST /v1/embeddings``) into an ``EmbeddingsRequest``.

``input`` is a string, an array of strings, an array of token ids or an array of arrays of
token ids, as OpenAI accepts it; each entry is embedded (and billed) on its own. Errors are
``InvalidRequestError`` naming the field (``input[3]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.errors import InvalidRequestError
from .validation import AnyValue, Array, Enum, Int, Obj, Str

# OpenAI's limit on the entries of one request (its Embeddings reference).
MAX_EMBEDDING_INPUTS = 2048

_BODY = Obj(
    {"input": AnyValue()},
    {
        "model": Str(),
        "fallbacks": Array(Str()),  # a gateway's, as on Responses bodies
        "dimensions": Int(minimum=1),
        "encoding_format": Enum("float", "base64"),
        "user": Str(),
    },
)

# One entry: its text, or the token ids sent in its place.
EmbeddingInput = str | tuple[int, ...]


@dataclass(frozen=True, slots=True)
class EmbeddingsRequest:
    """A validated Embeddings body: the model and each input entry."""

    model: str
    inputs: tuple[EmbeddingInput, ...]
    input_is_text: bool = False  # `input` was one string (its entry is labelled `input`)
    model_defaulted: bool = False  # the body named no model: `model` is the default one
    fallbacks: tuple[str, ...] = ()  # a gateway's: counted with when `model` is not countable


def _token_ids(value: list[Any], path: str) -> tuple[int, ...]:
    for i, token in enumerate(value):
        if type(token) is not int or token < 0:
            raise InvalidRequestError(
                f"Invalid '{path}[{i}]': expected a token id (a non-negative integer).",
                param=f"{path}[{i}]",
                code="invalid_type",
            )
    if not value:
        raise _empty(path, "array")
    return tuple(value)


def _empty(path: str, kind: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid '{path}': empty {kind}. Expected a non-empty {kind}.",
        param=path,
        code=f"empty_{kind}",
    )


def parse_embeddings_request(body: Any, *, default_model: str) -> EmbeddingsRequest:
    """Validate a decoded JSON body and build an EmbeddingsRequest.

    >>> body = {"input": ["a", "b"]}
    >>> parse_embeddings_request(body, default_model="text-embedding-3-small").inputs
    ('a', 'b')
    """
    if not isinstance(body, Mapping):
        raise InvalidRequestError(
            "The request body must be a JSON object.", param=None, code="invalid_type"
        )
    if "input" not in body:
        raise InvalidRequestError(
            "Missing required parameter: 'input'.", param="input", code="missing_required_parameter"
        )
    _BODY.validate(body, "")
    raw = body["input"]
    model = body.get("model") or default_model
    defaulted = not body.get("model")
    fallbacks = tuple(body.get("fallbacks") or ())
    if isinstance(raw, str):
        if not raw:
            raise _empty("input", "string")
        return EmbeddingsRequest(model, (raw,), True, defaulted, fallbacks)
    if not isinstance(raw, list):
        raise InvalidRequestError(
            "Invalid type for 'input': expected a string or an array of strings or token ids.",
            param="input",
            code="invalid_type",
        )
    if not raw:
        raise _empty("input", "array")
    if len(raw) > MAX_EMBEDDING_INPUTS:
        raise InvalidRequestError(
            f"Invalid 'input': array too long. Expected an array with maximum length "
            f"{MAX_EMBEDDING_INPUTS}, but got an array with length {len(raw)} instead.",
            param="input",
            code="array_above_max_length",
        )
    if all(type(v) is int for v in raw):  # one entry given as token ids
        return EmbeddingsRequest(model, (_token_ids(raw, "input"),), True, defaulted, fallbacks)
    inputs: list[EmbeddingInput] = []
    for i, entry in enumerate(raw):
        path = f"input[{i}]"
        if isinstance(entry, str):
            if not entry:
                raise _empty(path, "string")
            inputs.append(entry)
        elif isinstance(entry, list):
            inputs.append(_token_ids(entry, path))
        else:
            raise InvalidRequestError(
                f"Invalid type for '{path}': expected a string or an array of token ids.",
                param=path,
                code="invalid_type",
            )
    return EmbeddingsRequest(model, tuple(inputs), False, defaulted, fallbacks)

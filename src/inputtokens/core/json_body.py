"""JSON bodies: one parse and one wording of what is wrong with them, for every face.

The HTTP routes, the CLI and batch lines all read bytes and go through ``loads``, so a body
that is not JSON gets the same message wherever it is sent: what is wrong and where, as the
line and column (1-based, in characters) of the decoded text, or, for bytes that are not
UTF-8, the byte offset. A face may pass a faster parser (``fast``, the HTTP face's orjson); the
message is still worked out here, with the standard library, once the fast parser has refused.

>>> def message(raw: bytes) -> str:
...     try:
...         loads(raw)
...     except InvalidRequestError as exc:
...         return exc.message
...     return "valid"
>>> print(message(b'[1,'))
The request body is not valid JSON: Expecting value at line 1, column 4.
>>> print(message(b'"\\xff"'))
The request body is not valid UTF-8: cannot decode byte 0xff at byte offset 1 (invalid start byte).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .errors import InvalidRequestError

DEFAULT_WHAT = "The request body"


def loads(
    raw: bytes | str, *, what: str = DEFAULT_WHAT, fast: Callable[[bytes], Any] | None = None
) -> Any:
    """`raw` parsed as JSON, or an ``invalid_json`` error saying what is wrong and where.
    `what` names the document in the message ("The request body", "The line")."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if fast is not None:
        try:
            return fast(data)
        except ValueError as exc:  # orjson.JSONDecodeError is a ValueError
            raise json_error(data, what, fallback=str(exc)) from None
    try:
        return _strict_loads(_text(data, what))
    except (ValueError, RecursionError):
        raise json_error(data, what) from None


def json_error(raw: bytes, what: str = DEFAULT_WHAT, *, fallback: str = "") -> InvalidRequestError:
    """The error for `raw`, which a parser refused: bytes that are not UTF-8 (with the byte
    offset), else the standard library's reason with the line and column. `fallback` is the
    refusing parser's own reason, for a document the standard library would accept."""
    try:
        _strict_loads(_text(raw, what))
    except InvalidRequestError as exc:
        return exc
    except json.JSONDecodeError as exc:
        return _invalid(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        )
    except ValueError as exc:
        return _invalid(f"{what} is not valid JSON: {exc}.")
    except RecursionError:
        return _invalid(f"{what} is nested too deeply.")
    return _invalid(f"{what} is not valid JSON: {fallback or 'refused by the parser'}.")


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = raw[exc.start]
        raise _invalid(
            f"{what} is not valid UTF-8: cannot decode byte 0x{byte:02x} at byte offset "
            f"{exc.start} ({exc.reason})."
        ) from None


def _strict_loads(text: str) -> Any:
    return json.loads(text, parse_constant=_no_constant)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _invalid(message: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=None, code="invalid_json")

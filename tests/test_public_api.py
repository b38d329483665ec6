"""The public API: ``inputtokens.__all__`` is exactly this list, sorted, and all importable."""

from __future__ import annotations

import importlib

import inputtokens

PUBLIC = [
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


def test_all_is_the_explicit_sorted_list() -> None:
    assert inputtokens.__all__ == PUBLIC
    assert PUBLIC == sorted(PUBLIC)
    assert len(set(PUBLIC)) == len(PUBLIC)


def test_every_public_name_is_importable() -> None:
    module = importlib.import_module("inputtokens")
    for name in PUBLIC:
        assert getattr(module, name) is not None, name
    namespace: dict[str, object] = {}
    exec("from inputtokens import *", namespace)
    assert set(PUBLIC) <= set(namespace)


def test_public_objects_report_the_package_as_their_home() -> None:
    for name in PUBLIC:
        obj = getattr(inputtokens, name)
        if isinstance(obj, str):
            continue
        assert obj.__module__ == "inputtokens", name


def test_error_hierarchy() -> None:
    base = inputtokens.InputTokensError
    invalid = inputtokens.InvalidRequestError
    assert issubclass(invalid, base)
    assert issubclass(inputtokens.ModelNotFoundError, invalid)
    assert issubclass(inputtokens.TokenizationError, invalid)
    for name, status in [
        ("InvalidRequestError", 400),
        ("ModelNotFoundError", 400),
        ("TokenizationError", 400),
        ("AuthenticationError", 401),
        ("NotFoundError", 404),
        ("PayloadTooLargeError", 413),
    ]:
        cls = getattr(inputtokens, name)
        assert issubclass(cls, base)
        assert cls.status == status, name


def test_version_is_a_string() -> None:
    assert isinstance(inputtokens.__version__, str) and inputtokens.__version__

"""The gateway variant's habits (/work/shared/spec/gateway-input-tokens-extended.txt): provider
prefixes on model names, ``fallbacks``, and its ``extra_fields`` and ``input_tokens_details``
keys in the rich view, on the three request formats."""

from __future__ import annotations

import base64
import io
import wave
from typing import Any

import httpx
import pytest

from inputtokens import (
    InvalidRequestError,
    ModelNotFoundError,
    count_chat_tokens,
    count_embedding_tokens,
    count_input_tokens,
    lookup_model,
)
from inputtokens.core.models import lookup_embedding_model, split_provider
from inputtokens.core.reasons import reason

ROUTES = {
    "responses": "/v1/responses/input_tokens",
    "chat_completion": "/v1/chat/completions/input_tokens",
    "embedding": "/v1/embeddings/input_tokens",
}


def _body(kind: str, model: str, **extra: Any) -> dict[str, Any]:
    if kind == "responses":
        return {"model": model, "input": "Tell me a joke.", **extra}
    if kind == "chat_completion":
        return {"model": model, "messages": [{"role": "user", "content": "Hi"}], **extra}
    return {"model": model, "input": ["Hello world", "Good night"], **extra}


# The model each format is counted with (embeddings have their own models).
MODEL = {"responses": "gpt-4o", "chat_completion": "gpt-4o", "embedding": "text-embedding-3-small"}
COUNT = {"responses": count_input_tokens, "chat_completion": count_chat_tokens}


def _count(kind: str, body: dict[str, Any]) -> Any:
    if kind == "embedding":
        return count_embedding_tokens(body)
    return COUNT[kind](body)


# ---- provider prefixes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "resolved"),
    [
        ("openai/gpt-4o", "gpt-4o"),
        ("azure/gpt-4o", "gpt-4o"),
        ("openai/gpt-4o-2024-08-06", "gpt-4o"),
        ("azure/gpt-35-turbo", "gpt-35-turbo"),
        ("openai/ft:gpt-4o-mini:org::id", "gpt-4o-mini"),
        ("openai/gpt-5.9", "gpt-5.9"),  # fail open for a known family, prefix and all
    ],
)
def test_a_provider_prefix_resolves_in_the_registry(name: str, resolved: str) -> None:
    assert lookup_model(name).id == resolved


@pytest.mark.parametrize("name", ["anthropic/claude-sonnet-4", "openai/claude-3", "gpt-4o/x"])
def test_another_provider_or_an_unknown_model_stays_not_found(name: str) -> None:
    with pytest.raises(ModelNotFoundError):
        lookup_model(name)


def test_embedding_models_take_the_prefix_too() -> None:
    assert lookup_embedding_model("azure/text-embedding-3-large").id == "text-embedding-3-large"
    assert split_provider("vertex/gemini") == ("openai", "vertex/gemini")


@pytest.mark.parametrize("kind", sorted(ROUTES))
@pytest.mark.parametrize("provider", ["openai", "azure"])
def test_a_prefixed_model_counts_as_the_bare_one_on_each_format(kind: str, provider: str) -> None:
    bare = _count(kind, _body(kind, MODEL[kind]))
    prefixed = _count(kind, _body(kind, f"{provider}/{MODEL[kind]}"))
    assert prefixed.input_tokens == bare.input_tokens
    rich = prefixed.to_rich()
    assert (rich["requested_model"], rich["model"]) == (f"{provider}/{MODEL[kind]}", MODEL[kind])
    assert rich["extra_fields"]["provider"] == provider
    assert rich["exact"] == bare.exact
    if kind != "embedding":  # priced as the bare name (the pricing extra is installed)
        assert rich["cost_usd"] == bare.to_rich()["cost_usd"] is not None


@pytest.mark.parametrize("kind", sorted(ROUTES))
def test_a_prefixed_model_over_http(http: httpx.Client, kind: str) -> None:
    body = _body(kind, f"openai/{MODEL[kind]}")
    plain = http.post(ROUTES[kind], json=body)
    assert plain.status_code == 200, plain.text
    rich = http.post(ROUTES[kind], params={"verbose": "true"}, json=body).json()
    assert rich["input_tokens"] == plain.json()["input_tokens"]
    assert (rich["requested_model"], rich["model"]) == (body["model"], MODEL[kind])


# ---- fallbacks ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(ROUTES))
def test_an_uncountable_model_is_counted_as_its_first_countable_fallback(kind: str) -> None:
    fallbacks = ["anthropic/claude-3-haiku", f"openai/{MODEL[kind]}", "gpt-4.1"]
    result = _count(kind, _body(kind, "claude-sonnet-4", fallbacks=fallbacks))
    assert result.input_tokens == _count(kind, _body(kind, MODEL[kind])).input_tokens
    rich = result.to_rich()
    assert (rich["requested_model"], rich["fallback"]) == ("claude-sonnet-4", fallbacks[1])
    assert rich["model"] == MODEL[kind]
    flag = reason("model_fallback", model="claude-sonnet-4", fallback=fallbacks[1])
    assert not rich["exact"] and flag in rich["estimate_reasons"]
    assert rich["extra_fields"]["model_requested"] == "claude-sonnet-4"
    assert rich["extra_fields"]["provider"] == "openai"


@pytest.mark.parametrize("kind", sorted(ROUTES))
def test_a_countable_model_ignores_its_fallbacks(kind: str) -> None:
    alone = _count(kind, _body(kind, MODEL[kind]))
    result = _count(kind, _body(kind, MODEL[kind], fallbacks=["gpt-3.5-turbo"]))
    assert (result.input_tokens, result.fallback, result.exact) == (
        alone.input_tokens,
        None,
        alone.exact,
    )


@pytest.mark.parametrize("kind", sorted(ROUTES))
def test_all_uncountable_stays_model_not_found_naming_model(http: httpx.Client, kind: str) -> None:
    body = _body(kind, "claude-sonnet-4", fallbacks=["anthropic/claude-3-haiku", "gemini-2.5"])
    with pytest.raises(ModelNotFoundError) as info:
        _count(kind, body)
    assert "claude-sonnet-4" in str(info.value)
    answer = http.post(ROUTES[kind], json=body)
    error = answer.json()["error"]
    assert answer.status_code == 400
    assert (error["code"], error["param"]) == ("model_not_found", "model")
    assert "'claude-sonnet-4'" in error["message"]


@pytest.mark.parametrize("kind", sorted(ROUTES))
@pytest.mark.parametrize(
    "fallbacks", [[{"provider": "openai", "model": "gpt-4o"}], "gpt-4o", ["gpt-4o", 4]]
)
def test_fallbacks_are_an_array_of_strings(kind: str, fallbacks: Any) -> None:
    # The variant's reference: `fallbacks` string[]; Bifrost's objects are not this API's.
    with pytest.raises(InvalidRequestError) as info:
        _count(kind, _body(kind, "claude-sonnet-4", fallbacks=fallbacks))
    assert info.value.param in ("fallbacks", "fallbacks[0]", "fallbacks[1]")
    assert info.value.code == "invalid_type"


def test_fallbacks_over_http_name_the_fallback(http: httpx.Client) -> None:
    body = _body("responses", "claude-sonnet-4", fallbacks=["openai/gpt-4o-mini"])
    plain = http.post(ROUTES["responses"], json=body)
    mini = count_input_tokens(_body("responses", "gpt-4o-mini")).input_tokens
    assert plain.json() == {"object": "response.input_tokens", "input_tokens": mini}
    rich = http.post(ROUTES["responses"], params={"verbose": "1"}, json=body).json()
    assert (rich["model"], rich["fallback"]) == ("gpt-4o-mini", "openai/gpt-4o-mini")


# ---- the variant's extra_fields and input_tokens_details -----------------------------------


@pytest.mark.parametrize("kind", sorted(ROUTES))
def test_the_rich_view_carries_the_variants_fields(http: httpx.Client, kind: str) -> None:
    body = _body(kind, f"azure/{MODEL[kind]}")
    plain = http.post(ROUTES[kind], json=body).json()
    assert set(plain) == {"object", "input_tokens"}  # OpenAI's answer shape stays
    rich = http.post(ROUTES[kind], params={"verbose": "true"}, json=body).json()
    extra = rich["extra_fields"]
    assert set(extra) == {"request_type", "provider", "model_requested", "latency"}
    assert (extra["request_type"], extra["provider"]) == (kind, "azure")
    assert extra["model_requested"] == body["model"]
    assert isinstance(extra["latency"], float) and 0 <= extra["latency"] < 60_000
    details = rich["input_tokens_details"]
    assert list(details) == [
        "text_tokens",
        "audio_tokens",
        "image_tokens",
        "file_tokens",
        "cached_tokens",
    ]
    assert details["cached_tokens"] == 0
    assert sum(v for k, v in details.items() if k != "cached_tokens") == rich["input_tokens"]


def test_audio_tokens_are_their_own_figure() -> None:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(8000)
        clip.writeframes(b"\0\0" * 8000)  # one second: 10 tokens
    data = base64.b64encode(buf.getvalue()).decode()
    part = {"type": "input_audio", "input_audio": {"data": data, "format": "wav"}}
    content = [{"type": "text", "text": "What is said?"}, part]
    result = count_chat_tokens(
        {"model": "gpt-4o", "messages": [{"role": "user", "content": content}]}
    )
    details = result.to_rich()["input_tokens_details"]
    assert details["audio_tokens"] == 10
    assert details["text_tokens"] + details["audio_tokens"] == result.input_tokens

"""The Embeddings face: count_embedding_tokens, POST /v1/embeddings/input_tokens and the CLI,
on bodies built with the real ``openai`` client's types."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from openai import BadRequestError, OpenAI
from openai.types import EmbeddingCreateParams

from inputtokens import InvalidRequestError, count_embedding_tokens
from inputtokens.cli import cli
from inputtokens.core.tokenizer import get_encoding

CL100K = get_encoding("cl100k_base")
TEXTS = ["The food was delicious and the waiter...", "日本語のテキスト", "<|endoftext|> is text"]


def test_each_entry_counts_its_own_tokens() -> None:
    body: EmbeddingCreateParams = {"model": "text-embedding-3-small", "input": TEXTS}
    result = count_embedding_tokens(dict(body))
    expected = [len(CL100K.encode_ordinary(t)) for t in TEXTS]
    assert [p.tokens for p in result.parts] == expected
    assert [p.label for p in result.parts] == ["input[0]", "input[1]", "input[2]"]
    assert result.input_tokens == sum(expected)
    assert result.exact
    assert result.to_openai() == {"object": "embedding.input_tokens", "input_tokens": sum(expected)}


def test_token_ids_count_as_their_length() -> None:
    one = count_embedding_tokens({"model": "text-embedding-3-large", "input": [1, 2, 3]})
    assert (one.input_tokens, one.parts[0].label) == (3, "input")
    many = count_embedding_tokens({"model": "text-embedding-ada-002", "input": [[1, 2], "Hi"]})
    assert many.input_tokens == 3


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"model": "text-embedding-3-small"}, "input", "missing_required_parameter"),
        ({"input": ""}, "input", "empty_string"),
        ({"input": []}, "input", "empty_array"),
        ({"input": ["ok", ""]}, "input[1]", "empty_string"),
        ({"input": ["ok", 3.5]}, "input[1]", "invalid_type"),
        ({"input": [[1, -2]]}, "input[0][1]", "invalid_type"),
        ({"input": ["x"] * 2049}, "input", "array_above_max_length"),
        ({"input": ["ok", "word " * 8200]}, "input[1]", "context_length_exceeded"),
        ({"input": "x", "dimensions": 0}, "dimensions", "integer_below_min_value"),
        ({"input": "x", "mood": 1}, "mood", "unknown_parameter"),
        ({"input": "x", "model": "gpt-4o"}, "model", "model_not_found"),
    ],
)
def test_bad_bodies_name_the_field(body: dict[str, Any], param: str, code: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        count_embedding_tokens(body)
    assert (info.value.param, info.value.code) == (param, code)


def test_the_limit_is_the_models(http: httpx.Client) -> None:
    at_limit = " a" * 8192  # 8,192 tokens in cl100k
    assert len(CL100K.encode_ordinary(at_limit)) == 8192
    assert count_embedding_tokens({"input": at_limit}).input_tokens == 8192
    with pytest.raises(InvalidRequestError):
        count_embedding_tokens({"input": at_limit, "model": "text-embedding-ada-002"})


def test_the_openai_client_counts_an_embeddings_body_over_http(
    openai_client: OpenAI, http: httpx.Client
) -> None:
    body: EmbeddingCreateParams = {
        "model": "text-embedding-3-small",
        "input": TEXTS,
        "dimensions": 256,
        "encoding_format": "float",
    }
    answer = openai_client.post("/embeddings/input_tokens", body=dict(body), cast_to=object)
    assert answer == count_embedding_tokens(dict(body)).to_openai()
    alias = http.post("/openai/v1/embeddings/input_tokens", json=body)
    assert alias.json() == answer
    rich = http.post("/v1/embeddings/input_tokens?verbose=true", json=body).json()
    assert [p["part"] for p in rich["breakdown"]] == ["input[0]", "input[1]", "input[2]"]
    with pytest.raises(BadRequestError) as info:
        openai_client.post("/embeddings/input_tokens", body={"input": [""]}, cast_to=object)
    assert isinstance(info.value.body, dict) and info.value.body["param"] == "input[0]"


def test_the_cli_detects_an_embeddings_body() -> None:
    body = {"model": "text-embedding-3-small", "input": TEXTS}
    result = CliRunner().invoke(cli, ["count", "-"], input=json.dumps(body))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(count_embedding_tokens(body).input_tokens)
    forced = CliRunner().invoke(
        cli, ["count", "--api", "embeddings", "-"], input=json.dumps({"input": "Hi"})
    )
    assert forced.stdout.strip() == "1"

"""The plain HTTP answer is built without orjson (TokenCount.openai_json): byte for byte what
orjson writes for to_openai(), for each kind of count."""

from __future__ import annotations

import orjson
import pytest

from inputtokens import count_chat_tokens, count_embedding_tokens, count_input_tokens
from inputtokens.core.result import TokenCount


@pytest.mark.parametrize(
    "result",
    [
        count_input_tokens({"model": "gpt-5", "input": "Hello there"}),
        count_chat_tokens({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}),
        count_embedding_tokens({"input": ["one", "two"]}),
    ],
    ids=lambda r: r.object,
)
def test_openai_json_is_what_orjson_writes(result: TokenCount) -> None:
    assert result.openai_json() == orjson.dumps(result.to_openai())
    assert orjson.loads(result.openai_json()) == result.to_openai()

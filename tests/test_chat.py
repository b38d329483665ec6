"""The Chat Completions face: count_chat_tokens, POST /v1/chat/completions/input_tokens (and its
gateway alias) and the CLI, on bodies built with the real ``openai`` client's types."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from openai import BadRequestError, OpenAI
from openai.types.chat import (
    ChatCompletionMessageParam,
    ChatCompletionToolParam,
    CompletionCreateParams,
)

from inputtokens import InvalidRequestError, count_chat_tokens, count_input_tokens
from inputtokens.cli import cli

WEATHER_TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}
TURN: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 21 C"},
]


def _body(model: str, messages: list[ChatCompletionMessageParam], **extra: Any) -> dict[str, Any]:
    body: CompletionCreateParams = {"model": model, "messages": messages, **extra}  # type: ignore[typeddict-item]
    return dict(body)


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1", "gpt-5", "o3-mini"])
def test_plain_messages_count_as_the_same_messages_on_responses(model: str) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Tell me a joke."},
        {"role": "developer", "content": "Keep it clean."},
        {"role": "user", "content": "Why?"},
    ]
    chat = count_chat_tokens(_body(model, messages))
    responses = count_input_tokens({"model": model, "input": messages})
    assert chat.input_tokens == responses.input_tokens
    assert chat.exact
    assert chat.to_openai() == {
        "object": "chat.completion.input_tokens",
        "input_tokens": chat.input_tokens,
    }
    assert [p.label for p in chat.parts] == [
        "messages[0]",
        "messages[1]",
        "messages[2]",
        "messages[3]",
        "priming",
    ]


def test_an_assistant_message_on_a_chat_model_counts_as_on_responses() -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "Tell me a joke."},
        {"role": "assistant", "content": "Why did the chicken cross the road?"},
        {"role": "user", "content": "Why?"},
    ]
    chat = count_chat_tokens(_body("gpt-4o", messages))
    assert (
        chat.input_tokens == count_input_tokens({"model": "gpt-4o", "input": messages}).input_tokens
    )
    assert chat.exact


def test_a_tool_turn_counts_its_calls_and_results() -> None:
    with_turn = count_chat_tokens(_body("gpt-4o", TURN, tools=[WEATHER_TOOL]))
    without = count_chat_tokens(_body("gpt-4o", TURN[:2], tools=[WEATHER_TOOL]))
    assert with_turn.input_tokens > without.input_tokens
    labels = [p.label for p in with_turn.parts]
    assert "messages[2]" in labels and "messages[3]" in labels


def test_legacy_functions_count_like_tools() -> None:
    functions = [WEATHER_TOOL["function"]]
    legacy = count_chat_tokens(_body("gpt-4o", TURN[:2], functions=functions))
    tools = count_chat_tokens(_body("gpt-4o", TURN[:2], tools=[WEATHER_TOOL]))
    assert legacy.input_tokens == tools.input_tokens


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"model": "gpt-4o"}, "messages", "missing_required_parameter"),
        ({"model": "gpt-4o", "messages": []}, "messages", "empty_array"),
        (
            {"model": "gpt-4o", "messages": [{"role": "bot", "content": "x"}]},
            "messages[0].role",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "txt"}]}]},
            "messages[0].content[0].type",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": "x", "mood": 1}]},
            "messages[0].mood",
            "unknown_parameter",
        ),
        (
            {
                "model": "gpt-4o",
                "messages": [{"role": "tool", "tool_call_id": "c", "content": "x"}],
            },
            "messages[0].role",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "input": "x"},
            "input",
            "unknown_parameter",
        ),
        (
            {
                "model": "gpt-4o",
                "messages": [{"role": "user", "content": "x"}],
                "tools": [WEATHER_TOOL],
                "functions": [WEATHER_TOOL["function"]],
            },
            "functions",
            "mutually_exclusive_parameters",
        ),
    ],
)
def test_bad_bodies_name_the_field(body: dict[str, Any], param: str, code: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        count_chat_tokens(body)
    assert (info.value.param, info.value.code) == (param, code)


def test_unknown_model_is_model_not_found() -> None:
    with pytest.raises(InvalidRequestError) as info:
        count_chat_tokens({"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]})
    assert info.value.code == "model_not_found"


# ---- HTTP --------------------------------------------------------------------------------------


def test_the_openai_client_counts_a_chat_body_over_http(
    openai_client: OpenAI, http: httpx.Client
) -> None:
    body = _body("gpt-4o", TURN, tools=[WEATHER_TOOL], tool_choice="auto", temperature=0.2)
    answer = openai_client.post("/chat/completions/input_tokens", body=body, cast_to=object)
    assert answer == {
        "object": "chat.completion.input_tokens",
        "input_tokens": count_chat_tokens(body).input_tokens,
    }
    alias = http.post("/openai/v1/chat/completions/input_tokens", json=body)
    assert alias.status_code == 200 and alias.json() == answer
    rich = http.post("/v1/chat/completions/input_tokens?verbose=true", json=body).json()
    assert rich["object"] == "chat.completion.input_tokens"
    assert [p["part"] for p in rich["breakdown"]][-2:] == ["messages[3]", "priming"]


def test_the_same_body_on_the_two_routes_is_two_answers(http: httpx.Client) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "input": "Hi"}
    first = http.post("/v1/responses/input_tokens", json=body)
    chat = http.post("/v1/chat/completions/input_tokens", json=body)
    assert first.status_code == 400 and first.json()["error"]["param"] == "messages"
    assert chat.status_code == 400 and chat.json()["error"]["param"] == "input"


def test_a_bad_chat_body_is_an_openai_error(openai_client: OpenAI) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "x"}]}]}
    with pytest.raises(BadRequestError) as info:
        openai_client.post("/chat/completions/input_tokens", body=body, cast_to=object)
    error = info.value.body
    assert isinstance(error, dict)
    assert error["param"] == "messages[0].content[0].type"


# ---- CLI ---------------------------------------------------------------------------------------


def test_the_cli_detects_a_chat_body_and_takes_api_chat() -> None:
    body = _body("gpt-4o", TURN[:2])
    expected = str(count_chat_tokens(body).input_tokens)
    runner = CliRunner()
    detected = runner.invoke(cli, ["count", "-"], input=json.dumps(body))
    assert detected.exit_code == 0, detected.stderr
    assert detected.stdout.strip() == expected
    forced = runner.invoke(cli, ["count", "--api", "chat", "-"], input=json.dumps(body))
    assert forced.stdout.strip() == expected
    shown = runner.invoke(cli, ["render", "-"], input=json.dumps(body))
    assert shown.stdout.startswith("<|im_start|>system<|im_sep|>Be brief.<|im_end|>")


def _wav(seconds: float, rate: int = 8000) -> str:
    import base64
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(b"\0\0" * int(seconds * rate))
    return base64.b64encode(buf.getvalue()).decode()


def test_audio_counts_its_duration_and_says_it_is_an_estimate() -> None:
    def body(data: str) -> dict[str, Any]:
        part = {"type": "input_audio", "input_audio": {"data": data, "format": "wav"}}
        content = [{"type": "text", "text": "What is said?"}, part]
        return {"model": "gpt-4o", "messages": [{"role": "user", "content": content}]}

    short, long = count_chat_tokens(body(_wav(1.0))), count_chat_tokens(body(_wav(2.55)))
    assert long.input_tokens - short.input_tokens == 26 - 10
    assert not short.exact and any("input_audio" in r for r in short.estimate_reasons)
    (audio,) = short.parts[0].media
    assert (audio.kind, audio.tokens) == ("audio", 10)
    with pytest.raises(InvalidRequestError) as info:
        count_chat_tokens(body("bm90IGF1ZGlv"))
    assert info.value.param == "messages[0].content[1].input_audio.data"


def test_mp3_duration_is_read_from_its_first_frame() -> None:
    from inputtokens.media.audio import AudioError, audio_seconds

    frame = b"\xff\xfb\x90\x00"  # MPEG-1 Layer III, 128 kbit/s
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\0" * 10  # an ID3v2 tag of 10 bytes
    assert audio_seconds(tag + frame + b"\0" * (16000 - 4), "mp3") == 1.0
    with pytest.raises(AudioError):
        audio_seconds(b"\0" * 100, "mp3")

"""What the counter tells about limits: models' input limits, errors over the window with
their figures, room left for the reply, a defaulted model, one breakdown part per tool."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from inputtokens.cli.main import cli
from inputtokens.count.pipeline import (
    DEFAULT_OPTIONS,
    count_chat_request,
    count_request,
    prepare,
    prepare_chat,
)

COUNT_PATH = "/v1/responses/input_tokens"


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


# Item 4: every model listing shows the window, the input limit and the output limit.


def test_models_list_shows_each_models_input_limit(http: httpx.Client) -> None:
    cards = {c["id"]: c for c in http.get("/v1/models").json()["data"]}
    assert cards["gpt-5"]["context_window"] == 400_000
    assert cards["gpt-5"]["max_input_tokens"] == 272_000
    assert cards["gpt-5"]["max_output_tokens"] == 128_000
    assert cards["gpt-4o"]["max_input_tokens"] == 128_000
    one = http.get("/v1/models/gpt-5-2025-08-07").json()
    assert (one["id"], one["max_input_tokens"]) == ("gpt-5-2025-08-07", 272_000)


def test_cli_models_shows_each_models_input_limit() -> None:
    rows = {r["id"]: r for r in json.loads(invoke("models", "--json").output)}
    assert rows["gpt-5"] == {
        "id": "gpt-5",
        "family": "harmony",
        "encoding": "o200k_base",
        "context_window": 400_000,
        "max_input_tokens": 272_000,
        "max_output_tokens": 128_000,
    }
    table = invoke("models").output.splitlines()
    assert table[0].split() == ["model", "family", "encoding", "context", "max", "in", "max", "out"]
    gpt5 = next(line for line in table if line.startswith("gpt-5 "))
    assert gpt5.split() == ["gpt-5", "harmony", "o200k_base", "400000", "272000", "128000"]


# Item 5: a body without a model is counted with the default one, and the rich view says so.

_DEFAULTED = [
    (COUNT_PATH, {"input": "Hi"}, "gpt-5"),
    (
        "/v1/chat/completions/input_tokens",
        {"messages": [{"role": "user", "content": "Hi"}]},
        "gpt-5",
    ),
    ("/v1/embeddings/input_tokens", {"input": "Hi"}, "text-embedding-3-small"),
]


@pytest.mark.parametrize(("path", "body", "default"), _DEFAULTED)
def test_rich_view_says_the_model_was_defaulted(
    http: httpx.Client, path: str, body: dict[str, Any], default: str
) -> None:
    rich = http.post(path, params={"verbose": "true"}, json=body).json()
    assert (rich["model"], rich["requested_model"], rich["model_defaulted"]) == (
        default,
        None,
        True,
    )
    named = http.post(path, params={"verbose": "true"}, json={**body, "model": default}).json()
    assert (named["requested_model"], named["model_defaulted"]) == (default, False)
    # OpenAI's plain answer is unchanged.
    assert set(http.post(path, json=body).json()) == {"object", "input_tokens"}


@pytest.mark.parametrize("api", ["responses", "chat", "embeddings"])
def test_count_json_says_the_model_was_defaulted(api: str) -> None:
    body = {"messages": [{"role": "user", "content": "Hi"}]} if api == "chat" else {"input": "Hi"}
    rich = json.loads(invoke("count", "--json", "--api", api, input=json.dumps(body)).output)
    assert (rich["requested_model"], rich["model_defaulted"]) == (None, True)
    named = invoke("count", "--json", "--api", api, "-m", rich["model"], input=json.dumps(body))
    assert json.loads(named.output)["model_defaulted"] is False


# Item 2: over the window, OpenAI's error with the figures: in the message always, as fields
# of the error only in the rich view.

_WORDS = " ".join(f"word{i}" for i in range(1500))  # about 3,000 cl100k tokens
_OVER = {
    "model": "gpt-4",
    "input": [{"role": "user", "content": f"{i} {_WORDS}"} for i in range(4)],
}
_OVER_CHAT = {"model": "gpt-4", "messages": _OVER["input"]}


def _over_total(body: dict[str, Any], chat: bool = False) -> int:
    if chat:
        return count_chat_request(
            prepare_chat(body, DEFAULT_OPTIONS), enforce_limit=False
        ).input_tokens
    return count_request(prepare(body), enforce_limit=False).input_tokens


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        (COUNT_PATH, _OVER, "input"),
        (
            COUNT_PATH,
            {
                **_OVER,
                "truncation": "auto",
                "input": [_OVER["input"][0]] * 3 + [{"role": "user", "content": _WORDS * 3}],
            },
            "input",
        ),
        ("/v1/chat/completions/input_tokens", _OVER_CHAT, "messages"),
    ],
)
def test_context_length_exceeded_gives_the_figures(
    http: httpx.Client, path: str, body: dict[str, Any], param: str
) -> None:
    chat = "messages" in body
    total = _over_total({k: v for k, v in body.items() if k != "truncation"}, chat)
    plain = http.post(path, json=body)
    assert plain.status_code == 400
    error = plain.json()["error"]
    # OpenAI's code, type and param, and exactly OpenAI's keys.
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["code"], error["type"], error["param"]) == (
        "context_length_exceeded",
        "invalid_request_error",
        param,
    )
    assert f"{total} input tokens, {total - 8192} over its limit of 8192" in error["message"]
    rich = http.post(path, params={"verbose": "true"}, json=body).json()["error"]
    assert {k: rich[k] for k in ("input_tokens", "max_input_tokens", "tokens_over")} == {
        "input_tokens": total,
        "max_input_tokens": 8192,
        "tokens_over": total - 8192,
    }
    assert {k: rich[k] for k in error} == error


def test_count_json_error_gives_the_figures() -> None:
    total = _over_total(_OVER)
    rich = invoke("count", "--json", input=json.dumps(_OVER))
    assert rich.exit_code == 1
    error = json.loads(rich.stderr)["error"]
    assert (error["code"], error["input_tokens"], error["max_input_tokens"]) == (
        "context_length_exceeded",
        total,
        8192,
    )
    plain = json.loads(invoke("count", input=json.dumps(_OVER)).stderr)["error"]
    assert set(plain) == {"message", "type", "param", "code"}
    assert str(total) in plain["message"]


def test_embeddings_entry_over_its_limit_gives_the_figures(http: httpx.Client) -> None:
    body = {"model": "text-embedding-3-small", "input": ["ok", "word " * 8200]}
    path = "/v1/embeddings/input_tokens"
    error = http.post(path, params={"verbose": "1"}, json=body).json()["error"]
    assert (error["param"], error["max_input_tokens"]) == ("input[1]", 8192)
    assert error["input_tokens"] - 8192 == error["tokens_over"] > 0
    assert "max_input_tokens" not in http.post(path, json=body).json()["error"]


# Item 3: does the reply still fit? truncation "auto" fits the input to the window only.


def _long_conversation(turns: int = 300) -> list[dict[str, Any]]:
    return [
        {
            "role": "user" if i % 2 == 0 else "assistant",
            "content": " ".join(f"turn{i} word{j}" for j in range(300)),
        }
        for i in range(turns)
    ]


def test_auto_truncation_leaves_no_room_reserved_for_the_reply(http: httpx.Client) -> None:
    body = {
        "model": "gpt-4o-mini",
        "truncation": "auto",
        "max_output_tokens": 4000,
        "input": _long_conversation(),
    }
    rich = http.post(COUNT_PATH, params={"verbose": "true"}, json=body).json()
    dropped = rich["truncation"]["dropped_items"]
    assert dropped > 0
    # The kept items fill the window: exactly what they cost sent alone (no reply reserved).
    kept = {**body, "input": body["input"][dropped:], "truncation": "disabled"}
    assert rich["input_tokens"] == http.post(COUNT_PATH, json=kept).json()["input_tokens"]
    assert 0 < rich["room_for_output"] == 128_000 - rich["input_tokens"] < 4000
    assert rich["requested_max_output_tokens"] == 4000
    assert rich["output_fits"] is False
    [warning] = rich["warnings"]
    assert f"leaves {rich['room_for_output']} of the 128000-token context window" in warning
    assert f'truncation "auto" dropped {dropped} item(s)' in warning
    # One item fewer would not have fitted: the cut is the smallest one.
    one_more = {**kept, "input": body["input"][dropped - 1 :]}
    assert http.post(COUNT_PATH, json=one_more).status_code == 400


@pytest.mark.parametrize(
    ("path", "body", "fits"),
    [
        (COUNT_PATH, {"model": "gpt-4o", "input": "Hi", "max_output_tokens": 4000}, True),
        (COUNT_PATH, {"model": "gpt-4o", "input": "Hi", "max_output_tokens": 20000}, False),
        (COUNT_PATH, {"model": "gpt-4o", "input": "Hi"}, None),
        (
            "/v1/chat/completions/input_tokens",
            {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 99},
            True,
        ),
        (
            "/v1/chat/completions/input_tokens",
            {
                "model": "gpt-4",
                "messages": [{"role": "user", "content": _WORDS}],
                "max_completion_tokens": 8000,
            },
            False,
        ),
    ],
)
def test_rich_view_says_whether_the_reply_fits(
    http: httpx.Client, path: str, body: dict[str, Any], fits: bool | None
) -> None:
    rich = http.post(path, params={"verbose": "true"}, json=body).json()
    asked = body.get("max_output_tokens", body.get("max_completion_tokens", body.get("max_tokens")))
    assert rich["requested_max_output_tokens"] == asked
    assert rich["output_fits"] is fits
    assert bool(rich["warnings"]) is (fits is False)
    if asked == 20000:
        assert rich["warnings"] == [
            "max_output_tokens 20000 is above the model's output limit of 16384 tokens"
        ]


# Item 8: one breakdown part per tool (the same total), and render --files.

_TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Get the weather.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
    {
        "type": "function",
        "name": "search_docs",
        "description": "Search the documentation and return the best passages with titles.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string", "description": "What to search for"}},
            "required": ["query"],
        },
    },
    {"type": "web_search"},
]


@pytest.mark.parametrize("model", ["gpt-5", "gpt-4o", "o3"])
def test_breakdown_has_one_part_per_tool_with_the_same_total(
    http: httpx.Client, model: str
) -> None:
    body = {"model": model, "instructions": "Be brief.", "input": "Hi", "tools": _TOOLS}
    rich = http.post(COUNT_PATH, params={"verbose": "true"}, json=body).json()
    parts = {p["part"]: p["tokens"] for p in rich["breakdown"]}
    assert [p for p in parts if p.startswith("tools")] == [
        "tools",
        "tools[0]",
        "tools[1]",
        "tools[2]",
    ]
    assert sum(parts.values()) == rich["input_tokens"]
    assert rich["input_tokens"] == http.post(COUNT_PATH, json=body).json()["input_tokens"]
    # Each tool's part is what the tools block loses without it.
    for i in range(len(_TOOLS)):
        without = {**body, "tools": _TOOLS[:i] + _TOOLS[i + 1 :]}
        loses = rich["input_tokens"] - http.post(COUNT_PATH, json=without).json()["input_tokens"]
        assert parts[f"tools[{i}]"] == loses
    if model == "gpt-5":  # web_search's hidden prompt is the expensive one
        assert parts["tools[2]"] == 4420 > parts["tools[1]"] > parts["tools[0]"]


def test_chat_breakdown_has_one_part_per_tool(http: httpx.Client) -> None:
    tools = [
        {"type": "function", "function": {k: v for k, v in t.items() if k != "type"}}
        for t in _TOOLS[:2]
    ]
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "tools": tools}
    path = "/v1/chat/completions/input_tokens"
    rich = http.post(path, params={"verbose": "true"}, json=body).json()
    parts = [p["part"] for p in rich["breakdown"]]
    assert parts[:3] == ["tools", "tools[0]", "tools[1]"]
    assert sum(p["tokens"] for p in rich["breakdown"]) == rich["input_tokens"]


def test_render_files_shows_the_text_taken_from_a_pdf(tmp_path: Any) -> None:
    import base64

    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_font("helvetica", size=14)
    pdf.add_page()
    pdf.cell(text="Quarterly revenue grew")
    data = base64.b64encode(bytes(pdf.output())).decode()
    part = {"type": "input_file", "filename": "report.pdf", "file_data": data}
    body = json.dumps({"model": "gpt-4o", "input": [{"role": "user", "content": [part]}]})
    plain = invoke("render", input=body).output
    shown = invoke("render", "--files", input=body).output
    assert "Quarterly revenue grew" not in plain
    marker = "<[file report.pdf (pdf, 1 page(s)):"
    assert marker in plain and marker in shown
    after = shown.split(marker, 1)[1]  # the name is not counted for a PDF on gpt-4o
    assert "<[file text>\nQuarterly revenue grew\n<file text]>" in after
    # Only the view changes: the rest of the prompt is the same.
    assert shown.replace("<[file text>\nQuarterly revenue grew\n<file text]>", "") == plain

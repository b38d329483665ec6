"""The HTTP service over a real socket, driven by the openai package and by httpx.

Expected counts are derived from the tokenizer and the documented framing rule (see
``Expected`` in conftest.py), never copied from the counter's own output.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest

from inputtokens import lookup_model
from inputtokens.core.models import MODELS
from inputtokens.core.tokenizer import get_encoding

COUNT_PATH = "/v1/responses/input_tokens"
JOKE = "Tell me a joke."
# The known prompts (docs/prompt-format.md), as the model sees them.
GPT5_JOKE_PROMPT = "<|start|>user<|message|>Tell me a joke.<|end|><|start|>assistant"
GPT4O_HI_PROMPT = "<|im_start|>user<|im_sep|>Hi<|im_end|><|im_start|>assistant<|im_sep|>"

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the weather.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
# The tool as the documented TypeScript-like namespace (render/tools.py module docstring).
WEATHER_NAMESPACE = (
    "# Tools\n"
    "\n"
    "## functions\n"
    "\n"
    "namespace functions {\n"
    "\n"
    "// Get the weather.\n"
    "type get_weather = (_: {\n"
    "city: string,\n"
    "}) => any;\n"
    "\n"
    "} // namespace functions"
)


def _as_dict(obj: Any) -> dict[str, Any]:
    """An openai response model as a plain dict, extra (non-OpenAI) fields included."""
    data = obj.model_dump()
    data.update(obj.model_extra or {})
    return data


# ---- counting through the openai client ------------------------------------------------------


def test_known_fact_gpt5_joke_is_11(openai_client, expected) -> None:
    result = openai_client.responses.input_tokens.count(model="gpt-5", input=JOKE)
    assert result.object == "response.input_tokens"
    assert result.input_tokens == expected.reasoning([("user", JOKE)]) == 11


@pytest.mark.parametrize(
    ("model", "family", "encoding"),
    [
        ("gpt-5", "reasoning", "o200k_base"),
        ("o3", "reasoning", "o200k_base"),
        ("gpt-4o", "chat", "o200k_base"),
        ("gpt-4", "chat", "cl100k_base"),
    ],
)
def test_string_input(openai_client, expected, model: str, family: str, encoding: str) -> None:
    text = "How many r's are in 'strawberry'? Answer in   three words.\n"
    result = openai_client.responses.input_tokens.count(model=model, input=text)
    rule = expected.reasoning if family == "reasoning" else expected.chat
    assert result.input_tokens == rule([("user", text)], encoding)


def test_message_list_reasoning_model(openai_client, expected) -> None:
    messages = [
        ("system", "You are a careful assistant."),
        ("user", "What is 2+2?"),
        ("assistant", "4."),
        ("developer", "Answer with digits only."),
        ("user", "And 3 × 7?"),
    ]
    result = openai_client.responses.input_tokens.count(
        model="gpt-5", input=[{"role": r, "content": c} for r, c in messages]
    )
    assert result.input_tokens == expected.reasoning(messages)


def test_message_list_chat_model_with_content_parts(openai_client, expected) -> None:
    # Several text parts of one message run together with nothing between them.
    parts = ["Summarise: ", "the quick brown fox", " jumps over the lazy dog."]
    result = openai_client.responses.input_tokens.count(
        model="gpt-4o-mini",
        input=[
            {"role": "system", "content": "Be short."},
            {"role": "user", "content": [{"type": "input_text", "text": p} for p in parts]},
        ],
    )
    assert result.input_tokens == expected.chat([("system", "Be short."), ("user", "".join(parts))])


def test_instructions_reasoning_model_become_a_developer_message(openai_client, expected) -> None:
    result = openai_client.responses.input_tokens.count(
        model="gpt-5", instructions="You are terse.", input="Hi"
    )
    assert result.input_tokens == expected.reasoning(
        [("developer", "You are terse."), ("user", "Hi")]
    )


def test_instructions_chat_model_become_a_system_message(openai_client, expected) -> None:
    result = openai_client.responses.input_tokens.count(
        model="gpt-4o", instructions="You are terse.", input="Hi"
    )
    assert result.input_tokens == expected.chat([("system", "You are terse."), ("user", "Hi")])


def test_function_tool_reasoning_model(openai_client, expected) -> None:
    # Harmony: instructions and tools share one developer message, joined by a blank line;
    # each section is tokenized on its own (recorded: tools after instructions cost n(T) + 1,
    # so the instructions' final "." never merges with the blank line).
    result = openai_client.responses.input_tokens.count(
        model="gpt-5", instructions="Be brief.", input="Hi", tools=[WEATHER_TOOL]
    )
    messages = expected.reasoning([("developer", "Be brief."), ("user", "Hi")])
    assert result.input_tokens == messages + expected.n("\n\n" + WEATHER_NAMESPACE)
    assert expected.n("\n\n" + WEATHER_NAMESPACE) == 1 + expected.n(WEATHER_NAMESPACE)


def test_function_tool_chat_model(openai_client, expected) -> None:
    # Chat models, a described tool: the Chat Completions layout. The namespace under its
    # headings joins the instructions' system message (after a blank line, tokenized apart),
    # 2 less for the join and 1 less for a tool with undescribed parameters (both fitted).
    result = openai_client.responses.input_tokens.count(
        model="gpt-4o", instructions="Be brief.", input="Hi", tools=[WEATHER_TOOL]
    )
    messages = expected.chat([("system", "Be brief."), ("user", "Hi")])
    assert result.input_tokens == messages + expected.n("\n\n" + WEATHER_NAMESPACE) - 2 - 1


def test_bare_function_tool_chat_model(openai_client, expected) -> None:
    # Chat models, a tool without description: the namespace without its two headings is a
    # system message of its own, which costs 1 less than its framing and text, and a tool with
    # parameters 1 less again (both fitted on records).
    bare = {key: value for key, value in WEATHER_TOOL.items() if key != "description"}
    result = openai_client.responses.input_tokens.count(
        model="gpt-4o", instructions="Be brief.", input="Hi", tools=[bare]
    )
    namespace = WEATHER_NAMESPACE.removeprefix("# Tools\n\n## functions\n\n").replace(
        "// Get the weather.\n", ""
    )
    assert (
        result.input_tokens
        == expected.chat([("system", "Be brief."), ("system", namespace), ("user", "Hi")]) - 2
    )


def test_tool_adds_tokens(openai_client) -> None:
    count = openai_client.responses.input_tokens.count
    without = count(model="gpt-5", input="Hi").input_tokens
    with_tool = count(model="gpt-5", input="Hi", tools=[WEATHER_TOOL]).input_tokens
    assert with_tool > without


def test_model_snapshot_name_counts_as_its_base_model(openai_client, expected) -> None:
    count = openai_client.responses.input_tokens.count
    snapshot = count(model="gpt-4o-2024-08-06", input="Hi")
    assert snapshot.input_tokens == expected.chat([("user", "Hi")])
    rich = count(model="gpt-4o-2024-08-06", input="Hi", extra_query={"verbose": "true"})
    data = _as_dict(rich)
    assert data["model"] == "gpt-4o"
    assert data["requested_model"] == "gpt-4o-2024-08-06"


def test_missing_model_uses_the_default(openai_client, expected) -> None:
    result = openai_client.responses.input_tokens.count(input=JOKE)
    assert result.input_tokens == expected.reasoning([("user", JOKE)])  # default model: gpt-5


# ---- raw HTTP: answer shape and aliases ------------------------------------------------------


def test_plain_answer_is_exactly_openais_shape(http: httpx.Client, expected) -> None:
    response = http.post(COUNT_PATH, json={"model": "gpt-5", "input": JOKE})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "object": "response.input_tokens",
        "input_tokens": expected.reasoning([("user", JOKE)]),
    }


@pytest.mark.parametrize("alias", ["/openai/v1/responses/input_tokens"])
def test_gateway_alias_gives_the_same_answer(http: httpx.Client, alias: str) -> None:
    body = {
        "model": "gpt-4o",
        "instructions": "Be kind.",
        "input": "Hello there",
        "tools": [WEATHER_TOOL],
    }
    main = http.post(COUNT_PATH, json=body)
    other = http.post(alias, json=body)
    assert main.status_code == other.status_code == 200
    assert other.json() == main.json()


def test_gateway_alias_through_openai_client(base_url: str, expected) -> None:
    from openai import OpenAI

    with OpenAI(base_url=f"{base_url}/openai/v1", api_key="sk-x", max_retries=0) as client:
        result = client.responses.input_tokens.count(model="gpt-5", input=JOKE)
    assert result.input_tokens == expected.reasoning([("user", JOKE)])


# ---- the verbose view --------------------------------------------------------------------------


def _check_rich(data: dict[str, Any], expected_total: int, model: str) -> None:
    info = lookup_model(model)
    assert data["object"] == "response.input_tokens"
    assert data["input_tokens"] == expected_total
    assert data["model"] == info.id
    assert data["encoding"] == info.encoding
    assert data["exact"] is True
    assert data["estimate_reasons"] == []
    assert data["context_window"] == info.context_window
    assert data["max_output_tokens"] == info.max_output_tokens
    assert data["remaining_context"] == info.context_window - expected_total
    assert [p["part"] for p in data["breakdown"]] == ["input", "priming"]
    assert sum(p["tokens"] for p in data["breakdown"]) == expected_total
    assert data["input_tokens_details"]["text_tokens"] == expected_total
    assert data["input_tokens_details"]["image_tokens"] == 0
    assert "tokens" not in data and "token_strings" not in data


def test_verbose_via_query(openai_client, expected) -> None:
    result = openai_client.responses.input_tokens.count(
        model="gpt-5", input=JOKE, extra_query={"verbose": "true"}
    )
    data = _as_dict(result)
    _check_rich(data, expected.reasoning([("user", JOKE)]), "gpt-5")
    # Priming of a reasoning model is <|start|>assistant: 2 tokens.
    assert data["breakdown"][-1]["tokens"] == 2


def test_verbose_via_header(openai_client, expected) -> None:
    result = openai_client.responses.input_tokens.count(
        model="gpt-4o", input="Hi", extra_headers={"Inputtokens-Verbose": "true"}
    )
    data = _as_dict(result)
    _check_rich(data, expected.chat([("user", "Hi")]), "gpt-4o")
    assert data["breakdown"][-1]["tokens"] == 3


@pytest.mark.parametrize("value", ["false", "0", "no", ""])
def test_verbose_off_values_give_the_plain_answer(http: httpx.Client, value: str) -> None:
    response = http.post(COUNT_PATH, params={"verbose": value}, json={"input": "Hi"})
    assert response.status_code == 200
    assert set(response.json()) == {"object", "input_tokens"}


def test_estimated_request_says_so_in_verbose_view(http: httpx.Client) -> None:
    hosted = {"type": "web_search", "search_context_size": "low"}
    body = {"model": "gpt-5", "input": "Hi", "tools": [hosted]}
    data = http.post(COUNT_PATH, params={"verbose": "true"}, json=body).json()
    assert data["exact"] is False
    assert data["estimate_reasons"]
    tools_part = next(p for p in data["breakdown"] if p["part"] == "tools")
    assert tools_part["exact"] is False and tools_part["estimate_reasons"]


# ---- token ids and strings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "text", "prompt"),
    [("gpt-5", JOKE, GPT5_JOKE_PROMPT), ("gpt-4o", "Hi", GPT4O_HI_PROMPT)],
)
def test_tokens_true_returns_ids_and_strings(
    http: httpx.Client, expected, model: str, text: str, prompt: str
) -> None:
    body = {"model": model, "input": text}
    response = http.post(COUNT_PATH, params={"tokens": "true"}, json=body)
    assert response.status_code == 200
    data = response.json()
    assert len(data["tokens"]) == data["input_tokens"]
    assert len(data["token_strings"]) == data["input_tokens"]
    assert all(isinstance(t, int) for t in data["tokens"])
    # The strings spell out the rendered prompt, framing tokens included.
    assert "".join(data["token_strings"]) == prompt
    # The user's text appears as its ordinary encoding, contiguously.
    ids = data["tokens"]
    text_ids = get_encoding("o200k_base").encode_ordinary(text)
    assert any(ids[i : i + len(text_ids)] == text_ids for i in range(len(ids) - len(text_ids) + 1))
    # tokens=true implies the verbose view.
    assert "breakdown" in data


def test_tokens_via_openai_client_and_header(openai_client) -> None:
    result = openai_client.responses.input_tokens.count(
        model="gpt-5", input=JOKE, extra_headers={"Inputtokens-Tokens": "true"}
    )
    data = _as_dict(result)
    assert len(data["tokens"]) == len(data["token_strings"]) == result.input_tokens


def test_special_token_syntax_in_user_text_is_plain_text(http: httpx.Client, expected) -> None:
    text = "<|im_end|><|endoftext|> not special"
    data = http.post(COUNT_PATH, json={"model": "gpt-4o", "input": text}).json()
    assert data["input_tokens"] == expected.chat([("user", text)])


# ---- models, health, openapi -----------------------------------------------------------------


def test_models_list_shape(http: httpx.Client) -> None:
    response = http.get("/v1/models")
    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "list"
    ids = [m["id"] for m in data["data"]]
    assert len(ids) == len(set(ids)) == len(MODELS)
    assert {"gpt-4o", "gpt-5", "o3"} <= set(ids)
    for card in data["data"]:
        assert card["object"] == "model"
        assert isinstance(card["context_window"], int) and card["context_window"] > 0
        assert card["context_window"] == MODELS[card["id"]].context_window


def test_models_list_through_openai_client(openai_client) -> None:
    ids = {m.id for m in openai_client.models.list()}
    assert ids == set(MODELS)


def test_model_snapshot_resolves(http: httpx.Client, openai_client) -> None:
    response = http.get("/v1/models/gpt-4o-2024-08-06")
    assert response.status_code == 200
    card = response.json()
    assert card["id"] == "gpt-4o-2024-08-06"  # OpenAI answers with the id that was asked for
    assert card["resolved_model"] == "gpt-4o"
    assert card["object"] == "model"
    assert card["context_window"] == lookup_model("gpt-4o").context_window
    assert openai_client.models.retrieve("gpt-4o-2024-08-06").id == "gpt-4o-2024-08-06"


def test_unknown_model_is_a_404_envelope(http: httpx.Client) -> None:
    response = http.get("/v1/models/no-such-model")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "message": "The model 'no-such-model' does not exist.",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


def test_healthz(http: httpx.Client) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "worker": os.getpid()}  # served in process


def test_openapi_document(http: httpx.Client) -> None:
    response = http.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert "post" in doc["paths"][COUNT_PATH]
    assert "post" in doc["paths"]["/openai/v1/responses/input_tokens"]
    assert doc["info"]["title"] == "inputtokens"


def test_the_document_lists_exactly_the_served_routes() -> None:
    from starlette.routing import Route

    from inputtokens.api.app import create_app
    from inputtokens.api.openapi import openapi_document

    served = {
        (route.path.replace(":path", ""), method.lower())
        for route in create_app().routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {
        (path, method) for path, ops in openapi_document()["paths"].items() for method in ops
    }
    assert documented == served - {("/openapi.json", "get")}


def test_documented_paths_without_parameters_answer(http: httpx.Client) -> None:
    doc = http.get("/openapi.json").json()
    for path, ops in doc["paths"].items():
        if "{" in path:
            continue
        if "get" in ops:
            assert http.get(path).status_code == 200, path
        if "post" in ops and path.endswith("input_tokens") and "/batches/" not in path:
            body: dict[str, object] = {"input": "x"}
            if "/chat/" in path:
                body = {"messages": [{"role": "user", "content": "x"}]}
            elif "/embeddings/" in path:
                body = {"input": "x"}
            assert http.post(path, json=body).status_code == 200, path


# ---- routing errors ----------------------------------------------------------------------------


def test_unknown_route_is_a_404_envelope(http: httpx.Client) -> None:
    response = http.get("/v1/nothing-here")
    assert response.status_code == 404
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "not_found"
    assert error["param"] is None
    assert "/v1/nothing-here" in error["message"]


def test_wrong_method_is_a_405_envelope(http: httpx.Client) -> None:
    response = http.get(COUNT_PATH)
    assert response.status_code == 405
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "method_not_allowed"
    assert error["param"] is None
    # RFC 9110 §15.5.6: a 405 response must say which methods are allowed.
    assert "POST" in response.headers.get("allow", "")


def test_concurrent_requests_agree(http: httpx.Client, expected) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"message number {i} " * (i + 1) for i in range(12)]

    def one(text: str) -> int:
        response = http.post(COUNT_PATH, json={"model": "gpt-5", "input": text})
        return int(response.json()["input_tokens"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(one, texts))
    assert results == [expected.reasoning([("user", t)]) for t in texts]

"""A fuzzer over the HTTP service's OpenAPI document, against a real server on loopback.

The operations come from ``GET /openapi.json``; every one is driven (a route added to the
document without a way to fuzz it fails ``test_every_documented_operation_is_fuzzed``). The
bodies the document describes are loose (items and tools are plain objects), so most bodies are
real ones mutated: the recorded requests of ../shared/accuracy (when present) and the seeds
below, with values replaced, dropped, retyped or added at random JSON paths, or swapped for
words the seeds use. Raw bodies (truncated, not UTF-8, deeply nested, non-JSON numbers) and
random query strings, path ids and multipart forms come on top.

Every answer must be below 500, and every 4xx must be OpenAI's envelope,
``{"error": {"message", "type", "param", "code"}}`` and nothing else (docs/http.md, Errors).

Bounded: 400 examples per fuzz test, each one request (a few for a batch upload); about 20-35 s
in all on a 2-core machine. No per-example deadline (a large count may take a moment) and no
example database; a failure prints the draws that reproduce it. ``INPUTTOKENS_FUZZ_SCALE``
multiplies the example counts for a longer run by hand (10 took about 5 minutes, all passing).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from inputtokens.settings import Settings

from .conftest import LiveServer

ACCURACY_DIR = Path(__file__).resolve().parents[2] / "shared" / "accuracy"
SCALE = float(os.environ.get("INPUTTOKENS_FUZZ_SCALE", "1") or 1)


def _examples(n: int) -> int:
    return max(1, int(n * SCALE))


FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,  # no example database in the working tree
)

JSON = Any
Path_ = tuple[str | int, ...]

# ---- seeds -------------------------------------------------------------------------------------

_PNG_1x1 = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
    "hQGAhKmMIQAAAABJRU5ErkJggg=="
)
_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather of a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]}},
        "required": ["city"],
    },
    "strict": True,
}
RESPONSES_SEEDS: list[JSON] = [
    {"model": "gpt-5", "input": "Tell me a joke."},
    {
        "model": "gpt-4o",
        "instructions": "Be brief.",
        "input": [
            {"role": "developer", "content": "Answer in French."},
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is in this image?"},
                    {"type": "input_image", "image_url": _PNG_1x1, "detail": "high"},
                    {"type": "input_file", "filename": "a.txt", "file_data": "aGVsbG8="},
                ],
            },
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "hm"}]},
        ],
        "tools": [_TOOL, {"type": "web_search"}],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}},
        "reasoning": {"effort": "low"},
        "parallel_tool_calls": False,
        "truncation": "auto",
    },
    {"model": "o3", "input": [{"role": "assistant", "content": "Hi."}], "fallbacks": ["gpt-5"]},
]
CHAT_SEEDS: list[JSON] = [
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]},
    {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Look:"},
                    {"type": "image_url", "image_url": {"url": _PNG_1x1, "detail": "low"}},
                ],
            },
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
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {k: v for k, v in _TOOL.items() if k not in ("type", "strict")},
            }
        ],
        "tool_choice": "auto",
        "response_format": {"type": "json_object"},
    },
]
EMBEDDINGS_SEEDS: list[JSON] = [
    {"model": "text-embedding-3-small", "input": "The food was delicious."},
    {"model": "text-embedding-3-large", "input": ["one", "two"], "dimensions": 256},
    {"model": "text-embedding-ada-002", "input": [[1, 2, 3], [4]], "encoding_format": "float"},
]
ITEM_SEEDS: list[JSON] = [
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]},
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hi"}]},
    {"role": "user", "content": "plain"},
]


def _accuracy_requests() -> tuple[list[JSON], list[JSON]]:
    """Small recorded requests: (Responses bodies, Chat Completions bodies)."""
    responses: list[JSON] = []
    chat: list[JSON] = []
    for path in sorted(ACCURACY_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or len(line) > 20_000:
                continue
            case = json.loads(line)
            request = case.get("request")
            if isinstance(request, dict):
                is_chat = case.get("request_format") == "chat.completions"
                (chat if is_chat else responses).append(request)
    return responses, chat


_RECORDED_RESPONSES, _RECORDED_CHAT = _accuracy_requests()
RESPONSES_SEEDS += _RECORDED_RESPONSES
CHAT_SEEDS += _RECORDED_CHAT


def _words(values: list[JSON]) -> list[str]:
    """Every key and short string of the seeds: what a structure-aware mutation swaps in."""
    found: set[str] = set()

    def walk(value: JSON) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                found.add(key)
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)
        elif isinstance(value, str) and len(value) <= 40:
            found.add(value)

    walk(values)
    return sorted(found)


WORDS = _words(RESPONSES_SEEDS + CHAT_SEEDS + EMBEDDINGS_SEEDS + ITEM_SEEDS)

# ---- strategies --------------------------------------------------------------------------------

_EDGE_NUMBERS = [0, -1, 1, 2**31, 2**63, -(2**63) - 1, 10**400, 1e308, -0.0, 0.5, 1e-320]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(_EDGE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),  # json.dumps writes NaN and Infinity
    st.text(max_size=30),
    st.sampled_from(WORDS),
    st.sampled_from(["", " ", "\x00", "\ud800", "data:", "data:image/png;base64,", "file-x"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), children, max_size=4
        ),
    ),
    max_leaves=12,
)


def _paths(value: JSON, prefix: Path_ = ()) -> Iterator[Path_]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _get(value: JSON, path: Path_) -> JSON:
    for step in path:
        value = value[step]
    return value


def _retype(value: JSON) -> list[JSON]:
    """The same value in other JSON types."""
    return [
        None,
        [value],
        {"value": value},
        json.dumps(value),
        str(value),
        len(value) if isinstance(value, (str, list, dict)) else 1,
        bool(value),
        -1,
    ]


_EDGE_STRINGS = [
    "",
    " ",
    "\x00",
    "\ud800",
    "\U0001f600" * 3,
    "a" * 70_000,
    " " * 5000,
    "<|endoftext|>",
    "<|im_start|>",
    "data:image/png;base64,!!!",
    "data:application/pdf;base64,JVBERi0xLjQK",
    "data:image/gif;base64,R0lGODlhAQABAAAAACw=",
    "https://example.com/a.png",
    "file-x",
]


def _alike(value: JSON) -> st.SearchStrategy[JSON]:
    """Another value of the type of `value`."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers() | st.sampled_from([0, -1, 2**63, 10**30])
    if isinstance(value, float):
        return st.floats()
    if isinstance(value, str):
        return st.sampled_from(WORDS) | st.sampled_from(_EDGE_STRINGS) | st.text(max_size=20)
    if isinstance(value, list):
        return st.lists(json_values, max_size=3) | st.just([])
    if isinstance(value, dict):
        return st.just({}) | st.dictionaries(st.sampled_from(WORDS), json_values, max_size=3)
    return json_values


@st.composite
def mutated(draw: st.DrawFn, seeds: list[JSON]) -> JSON:
    """A seed (deep-copied) with one to four mutations at random JSON paths."""
    doc = json.loads(json.dumps(draw(st.sampled_from(seeds))))
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 2, 3, 4]))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths[1:] or paths))  # the root itself: by "generated"
        value = _get(doc, path)
        op = draw(
            st.sampled_from(["alike", "alike", "alike", "replace", "drop", "retype", "add"])
            | st.sampled_from(["word", "repeat"])
        )
        if op == "alike":  # the same JSON type: gets past the type checks, deeper in
            new = draw(_alike(value))
            if path:
                _get(doc, path[:-1])[path[-1]] = new
            continue
        if op == "add" and isinstance(value, dict):
            value[draw(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)))] = draw(json_values)
            continue
        if op == "add" and isinstance(value, list):
            value.insert(draw(st.integers(0, len(value))), draw(json_values))
            continue
        if op == "repeat" and isinstance(value, list) and value:
            value.extend(value[:1] * draw(st.integers(1, 30)))
            continue
        if op == "drop" and path:
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
            continue
        if op == "retype":
            new = draw(st.sampled_from(_retype(value)))
        elif op == "word":
            new = draw(st.sampled_from(WORDS))
        else:
            new = draw(json_values)
        if not path:
            doc = new
        else:
            _get(doc, path[:-1])[path[-1]] = new
    return doc


def generated(properties: list[str]) -> st.SearchStrategy[JSON]:
    """An object of the document's body properties (some), each any JSON value."""
    return st.dictionaries(st.sampled_from(properties), json_values, max_size=len(properties))


# Raw bodies that no JSON encoder writes.
RAW_BODIES = [
    b"",
    b"{",
    b'{"model": "gpt-5",',
    b"null",
    b"[]",
    b"NaN",
    b'{"input": NaN}',
    b'{"input": Infinity, "model": -Infinity}',
    b'{"input": "caf\xe9"}',
    b"\xef\xbb\xbf{}",
    b'{"input": "\\ud800"}',
    b'{"a": 1, "a": 2}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"input": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    b'{"input": ' + b"9" * 5000 + b"}",
    b'{"input": 1e999999}',
    b"\x00\x01\x02",
]
raw_bodies = st.one_of(st.sampled_from(RAW_BODIES), st.binary(max_size=200))
query_values = st.one_of(
    st.sampled_from(["", "0", "1", "-1", "101", "1e3", "true", "asc", "desc", "x" * 300]),
    st.sampled_from([str(2**64), "٣", "1_0", " 5", "nan"]),
    st.text(max_size=20),
)
path_ids = st.one_of(
    st.sampled_from(["x", "file-", "conv_", "resp_", "msg_", "..", ".", "%", "a" * 2000]),
    st.text(min_size=1, max_size=40),
)

# ---- the server and the check ------------------------------------------------------------------


def check(response: httpx.Response) -> None:
    """Below 500; a 4xx is exactly OpenAI's error envelope."""
    request = response.request
    try:
        sent = request.content[:300]
    except httpx.RequestNotRead:  # a multipart upload, streamed
        sent = b"(multipart)"
    where = f"{request.method} {request.url} body={sent!r}"
    assert response.status_code < 500, f"{where} -> {response.status_code} {response.text[:500]}"
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            pytest.fail(f"{where} -> {response.status_code}, not JSON: {response.text[:300]}")
        assert isinstance(body, dict) and set(body) == {"error"}, f"{where} -> {body}"
        error = body["error"]
        assert isinstance(error, dict), f"{where} -> {body}"
        assert set(error) == {"message", "type", "param", "code"}, f"{where} -> {body}"
        assert isinstance(error["message"], str) and error["message"], f"{where} -> {body}"
        assert isinstance(error["type"], str) and error["type"], f"{where} -> {body}"
        assert error["param"] is None or isinstance(error["param"], str), f"{where} -> {body}"
        assert error["code"] is None or isinstance(error["code"], str), f"{where} -> {body}"
        event(f"{response.status_code} {error['code']}")  # --hypothesis-show-statistics
    else:
        event(str(response.status_code))


@pytest.fixture(scope="module")
def server(
    start_server: Callable[[Settings], LiveServer], tmp_path_factory: pytest.TempPathFactory
) -> LiveServer:
    return start_server(
        Settings(
            data_dir=str(tmp_path_factory.mktemp("fuzz-data")),
            remote_fetch=False,  # random URLs stay unfetched (counted by assumption)
            warm_encodings=(),
            max_body_bytes=1 << 20,
        )
    )


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def operations(client: httpx.Client) -> dict[tuple[str, str], dict[str, Any]]:
    """(METHOD, path template) -> the operation, from the served document."""
    document = client.get("/openapi.json").json()
    return {
        (method.upper(), path): op
        for path, ops in document["paths"].items()
        for method, op in ops.items()
    }


@pytest.fixture(scope="module")
def ids(client: httpx.Client) -> dict[str, list[str]]:
    """Real objects for path ids and references: a conversation with items, files."""
    conv = client.post("/v1/conversations", json={"items": ITEM_SEEDS, "metadata": {"k": "v"}})
    assert conv.status_code == 200, conv.text
    items = client.get(f"/v1/conversations/{conv.json()['id']}/items").json()["data"]
    text = client.post(
        "/v1/files", files={"file": ("a.txt", b"hello")}, data={"purpose": "user_data"}
    )
    batch_line = {
        "custom_id": "1",
        "method": "POST",
        "url": "/v1/responses",
        "body": RESPONSES_SEEDS[0],
    }
    batch = client.post(
        "/v1/files",
        files={"file": ("b.jsonl", json.dumps(batch_line).encode() + b"\n")},
        data={"purpose": "batch"},
    )
    assert text.status_code == 200 and batch.status_code == 200, text.text + batch.text
    return {
        "conversation_id": [conv.json()["id"]],
        "item_id": [item["id"] for item in items],
        "file_id": [text.json()["id"], batch.json()["id"]],
        "response_id": ["resp_missing"],
        "model": ["gpt-5", "gpt-4o", "text-embedding-3-small", "o3-mini-2025-01-31"],
    }


def _fill(template: str, draw: st.DrawFn, ids: dict[str, list[str]]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        value = draw(st.one_of(st.sampled_from(ids.get(name) or ["x"]), path_ids))
        return quote(value, safe="")

    return re.sub(r"\{(\w+)\}", one, template)


# ---- the tests ---------------------------------------------------------------------------------

COUNT_SEEDS = {
    "/responses/input_tokens": RESPONSES_SEEDS,
    "/chat/completions/input_tokens": CHAT_SEEDS,
    "/embeddings/input_tokens": EMBEDDINGS_SEEDS,
}
STATE_BODIES: dict[tuple[str, str], list[JSON]] = {
    ("POST", "/v1/conversations"): [{"items": ITEM_SEEDS, "metadata": {"a": "b"}}, {}],
    ("POST", "/v1/conversations/{conversation_id}"): [{"metadata": {"a": "b"}}, {"metadata": None}],
    ("POST", "/v1/conversations/{conversation_id}/items"): [{"items": ITEM_SEEDS}],
    ("POST", "/v1/batches/input_tokens"): [{"input_file_id": "file-x"}],
    ("POST", "/v1/responses"): RESPONSES_SEEDS[:3],
}
QUERY_NAMES = ["limit", "order", "after", "include", "include[]", "lines", "verbose", "tokens"]
MULTIPART = ("POST", "/v1/files")


def _count_kind(path: str) -> list[JSON] | None:
    for suffix, seeds in COUNT_SEEDS.items():
        if path.endswith(suffix):
            return seeds
    return None


def test_every_documented_operation_is_fuzzed(
    operations: dict[tuple[str, str], dict[str, Any]],
) -> None:
    bodies = {op for op in operations if op[0] == "POST"}
    covered = {op for op in bodies if _count_kind(op[1]) is not None}
    covered |= set(STATE_BODIES) | {MULTIPART}
    assert bodies - covered == set(), "a POST route without seeds: add them to this module"
    for path in ("/v1/files/{file_id}", "/v1/conversations/{conversation_id}/items/{item_id}"):
        assert ("GET", path) in operations and ("DELETE", path) in operations
    assert len([op for op in operations if _count_kind(op[1])]) >= 3


@settings(FUZZ, max_examples=_examples(400))
@given(data=st.data())
def test_fuzz_count_routes(
    data: st.DataObject,
    client: httpx.Client,
    operations: dict[tuple[str, str], dict[str, Any]],
    ids: dict[str, list[str]],
) -> None:
    paths = sorted(path for method, path in operations if method == "POST" and _count_kind(path))
    path = data.draw(st.sampled_from(paths), label="path")
    seeds = _count_kind(path) or []
    references = [
        {**RESPONSES_SEEDS[0], "conversation": ids["conversation_id"][0]},
        {
            "model": "gpt-5",
            "input": [
                {"type": "item_reference", "id": ids["item_id"][0]},
                {
                    "role": "user",
                    "content": [{"type": "input_file", "file_id": ids["file_id"][0]}],
                },
            ],
        },
    ]
    if path.endswith("/responses/input_tokens"):
        seeds = seeds + references
    properties = sorted(
        operations[("POST", path)]["requestBody"]["content"]["application/json"]["schema"].get(
            "properties", {}
        )
    )
    params = {
        name: data.draw(query_values, label=name)
        for name in data.draw(st.sets(st.sampled_from(["verbose", "tokens"])), label="query")
    }
    mode = data.draw(st.sampled_from(["mutated", "mutated", "mutated", "generated", "raw"]))
    if mode == "raw":
        body = data.draw(raw_bodies, label="raw")
        response = client.post(
            path, content=body, params=params, headers={"content-type": "application/json"}
        )
    else:
        value = data.draw(mutated(seeds) if mode == "mutated" else generated(properties))
        response = client.post(path, content=json.dumps(value).encode(), params=params)
    check(response)


@settings(FUZZ, max_examples=_examples(400))
@given(data=st.data())
def test_fuzz_state_routes(
    data: st.DataObject,
    client: httpx.Client,
    operations: dict[tuple[str, str], dict[str, Any]],
    ids: dict[str, list[str]],
) -> None:
    """Files, Conversations, Responses and /v1/batches/input_tokens: mutated bodies, random ids
    (real ones too) and query strings."""
    state = sorted(op for op in operations if not _count_kind(op[1]) or "batches" in op[1])
    method, template = data.draw(st.sampled_from(state), label="operation")
    url = _fill(template, data.draw, ids)
    params = {
        name: data.draw(query_values, label=name)
        for name in data.draw(st.sets(st.sampled_from(QUERY_NAMES), max_size=3), label="query")
    }
    if (method, template) == MULTIPART:
        response = _upload(data, client, params)
    elif method == "POST":
        seeds = STATE_BODIES[(method, template)]
        if template == "/v1/batches/input_tokens":
            seeds = seeds + [{"input_file_id": file_id} for file_id in ids["file_id"]]
        if data.draw(st.integers(0, 9), label="raw?") == 0:
            content = data.draw(raw_bodies, label="raw")
        else:
            content = json.dumps(data.draw(mutated(seeds), label="body")).encode()
        response = client.post(url, content=content, params=params)
    else:
        response = client.request(method, url, params=params)
    check(response)


def _upload(data: st.DataObject, client: httpx.Client, params: dict[str, str]) -> httpx.Response:
    """A Files API upload: a form with random parts, or a raw body of a random type."""
    kind = data.draw(st.sampled_from(["form", "form", "raw"]), label="upload")
    if kind == "raw":
        content_type = data.draw(
            st.sampled_from(
                ["multipart/form-data", "multipart/form-data; boundary=x", "application/json"]
            )
        )
        return client.post(
            "/v1/files",
            content=data.draw(raw_bodies, label="raw"),
            headers={"content-type": content_type},
            params=params,
        )
    fields = {
        name: data.draw(st.text(max_size=20) | st.sampled_from(["batch", "user_data", "vision"]))
        for name in data.draw(st.sets(st.sampled_from(["purpose", "expires_after", "x"])))
    }
    files = None
    if data.draw(st.booleans(), label="with file"):
        content = data.draw(
            st.one_of(
                st.binary(max_size=300),
                st.builds(
                    lambda lines: "\n".join(json.dumps(line) for line in lines).encode(),
                    st.lists(mutated([_batch_line(s) for s in RESPONSES_SEEDS[:3]]), max_size=3),
                ),
            ),
            label="content",
        )
        filename = data.draw(st.sampled_from(["a.txt", "b.jsonl", "", "x.pdf", "c.png", "\x00"]))
        files = {"file": (filename, content)}
    response = client.post("/v1/files", data=fields, files=files, params=params)
    if response.status_code == 200 and fields.get("purpose") == "batch":
        # A batch file the fuzzer wrote: count it too, as a whole and per line.
        file_id = response.json()["id"]
        for lines in ("false", "true"):
            check(
                client.post(
                    "/v1/batches/input_tokens",
                    json={"input_file_id": file_id},
                    params={"lines": lines},
                )
            )
    return response


def _batch_line(body: JSON) -> JSON:
    return {"custom_id": "r", "method": "POST", "url": "/v1/responses", "body": body}

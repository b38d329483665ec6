"""The Responses API routes: POST /v1/responses passed through to an upstream and recorded, the
stored responses read back, imports, and counts over what was recorded.

The real ``openai`` client talks to a real server, whose upstream is the loopback stand-in of
tests/fake_upstream.py. The server has two API keys, which the upstream accepts too.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import BadRequestError, NotFoundError, OpenAI
from tests.clients import openai_for
from tests.fake_upstream import SLOW_S, FakeOpenAI, message, response_object

from inputtokens import Settings, count_input_tokens
from inputtokens.api.responses import SSEEvents
from inputtokens.library import local_sources
from inputtokens.state.records import key_owner
from inputtokens.state.responses_import import ResponseImportError, import_responses
from inputtokens.state.store import Store

KEY_A, KEY_B = "sk-resp-a", "sk-resp-b"


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI({KEY_A, KEY_B}).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    upstream: FakeOpenAI,
    start_server: Callable[[Settings], Any],
) -> Any:
    return start_server(
        Settings(
            api_keys=frozenset({KEY_A, KEY_B}),
            data_dir=str(tmp_path_factory.mktemp("store")),
            upstream_base_url=upstream.base_url,
        )
    )


def _client(server: Any, key: str = KEY_A) -> OpenAI:
    return openai_for(server, key)


def _post(server: Any, body: Any, key: str = KEY_A, **kwargs: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        f"{server.base_url}/v1/responses",
        content=content,
        timeout=10,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json", **kwargs},
    )


# -- the pass-through --------------------------------------------------------------------------


def test_pass_through_answers_with_the_upstream_bytes_and_forwards_the_body(
    server: Any, upstream: FakeOpenAI
) -> None:
    raw = b'{"model": "gpt-5",   "input": "Tell me a joke.", "metadata": {"k": "v"}}'
    answer = _post(server, raw, **{"OpenAI-Organization": "org-test", "X-Other": "no"})
    assert answer.status_code == 200
    assert answer.content == upstream.sent[-1]  # the upstream's body, byte for byte
    assert answer.headers["x-request-id"] == "req_fake"
    received, headers = upstream.posted[-1]
    assert received == raw  # forwarded exactly as sent
    assert headers["authorization"] == f"Bearer {KEY_A}"
    assert headers["openai-organization"] == "org-test"
    assert "x-other" not in headers


def test_created_response_is_recorded_and_read_back(server: Any) -> None:
    client = _client(server)
    created = client.responses.create(
        model="gpt-5", input="What is a prime?", instructions="Be brief."
    )
    assert created.id.startswith("resp_fake")
    assert created.output_text.startswith("Answer number")
    again = client.responses.retrieve(created.id)
    assert again.model_dump() == created.model_dump()
    items = client.responses.input_items.list(created.id)
    assert [(i.type, i.role, i.content[0].text) for i in items.data] == [
        ("message", "user", "What is a prime?")
    ]
    assert items.data[0].id.startswith("msg_")


def test_stream_is_relayed_byte_for_byte_and_recorded(server: Any, upstream: FakeOpenAI) -> None:
    body = {"model": "gpt-5", "input": "Stream me a story.", "stream": True}
    with httpx.stream(
        "POST",
        f"{server.base_url}/v1/responses",
        json=body,
        timeout=10,
        headers={"Authorization": f"Bearer {KEY_A}"},
    ) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        assert answer.headers["x-request-id"] == "req_fake_stream"
        relayed = b"".join(answer.iter_raw())
    assert relayed == upstream.sent[-1]
    last = json.loads(relayed.rstrip().rsplit(b"data: ", 1)[1])
    assert last["type"] == "response.completed"
    stored = _client(server).responses.retrieve(last["response"]["id"])
    assert stored.output_text == last["response"]["output"][0]["content"][0]["text"]


def test_stream_through_the_openai_client(server: Any, upstream: FakeOpenAI) -> None:
    client = _client(server)
    events = list(client.responses.create(model="gpt-5", input="Count to three.", stream=True))
    sent = [
        json.loads(block.split(b"data: ", 1)[1])
        for block in upstream.sent[-1].split(b"\n\n")
        if block.strip()
    ]
    assert [e.type for e in events] == [e["type"] for e in sent]
    assert [e.sequence_number for e in events] == list(range(len(sent)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    completed = events[-1].response
    assert deltas == completed.output_text
    assert client.responses.retrieve(completed.id).output_text == completed.output_text
    items = client.responses.input_items.list(completed.id).data
    assert [i.content[0].text for i in items] == ["Count to three."]


def test_chain_through_the_pass_through_counts_as_inline(server: Any, upstream: FakeOpenAI) -> None:
    client = _client(server)
    inline: list[dict[str, Any]] = []
    previous = None
    for question in ("Name a prime.", "Another one?", "Their sum?"):
        turn = client.responses.create(
            model="gpt-5",
            input=[{"role": "user", "content": question}],
            previous_response_id=previous,
        )
        assert turn.previous_response_id == previous
        inline += [
            {"role": "user", "content": question},
            turn.output[0].model_dump(exclude_none=True),
        ]
        previous = turn.id
    final = {"role": "user", "content": "And their product?"}
    hits = len(upstream.hits)
    chained = client.responses.input_tokens.count(
        model="gpt-5", previous_response_id=previous, input=[final]
    )
    assert len(upstream.hits) == hits  # all three turns were recorded: nothing fetched
    expected = count_input_tokens({"model": "gpt-5", "input": [*inline, final]})
    assert chained.input_tokens == expected.input_tokens
    assert (
        chained.input_tokens
        > count_input_tokens({"model": "gpt-5", "input": [final]}).input_tokens + 30
    )


def test_item_reference_is_recorded_as_the_item_it_names(server: Any) -> None:
    client = _client(server)
    first = client.responses.create(model="gpt-5", input="Remember: the code is 42.")
    said = first.output[0].id
    second = client.responses.create(
        model="gpt-5",
        input=[{"type": "item_reference", "id": said}, {"role": "user", "content": "Repeat it."}],
    )
    items = client.responses.input_items.list(second.id, order="asc").data
    assert [i.type for i in items] == ["message", "message"]
    assert items[0].id == said and items[0].role == "assistant"
    assert items[0].content[0].text == first.output_text


def test_input_items_pages_with_limit_order_and_after(server: Any) -> None:
    client = _client(server)
    texts = [f"part {n}" for n in range(5)]
    created = client.responses.create(
        model="gpt-5", input=[{"role": "user", "content": t} for t in texts]
    )
    page = client.responses.input_items.list(created.id, limit=2, order="asc")
    assert [i.content[0].text for i in page.data] == texts[:2] and page.has_more
    every = [
        i.content[0].text
        for i in client.responses.input_items.list(created.id, limit=2, order="asc")
    ]  # the client follows `after` page by page
    assert every == texts
    newest = client.responses.input_items.list(created.id, limit=1)
    assert newest.data[0].content[0].text == texts[-1]
    bad = httpx.get(
        f"{server.base_url}/v1/responses/{created.id}/input_items?limit=0",
        headers={"Authorization": f"Bearer {KEY_A}"},
        timeout=10,
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "limit"


def test_store_false_is_not_recorded(server: Any) -> None:
    client = _client(server)
    created = client.responses.create(model="gpt-5", input="Forget this.", store=False)
    with pytest.raises(NotFoundError):
        client.responses.retrieve(created.id)


def test_delete_removes_the_stored_copy(server: Any) -> None:
    client = _client(server)
    created = client.responses.create(model="gpt-5", input="Short-lived.")
    deleted = client.responses.delete(created.id)
    assert deleted is None  # the client returns nothing; the raw answer is checked below
    with pytest.raises(NotFoundError):
        client.responses.retrieve(created.id)
    again = httpx.delete(
        f"{server.base_url}/v1/responses/{created.id}",
        headers={"Authorization": f"Bearer {KEY_A}"},
        timeout=10,
    )
    assert again.status_code == 404
    assert again.json()["error"]["message"] == f"Response with id '{created.id}' not found."
    other = _client(server).responses.create(model="gpt-5", input="Delete me raw.")
    raw = httpx.delete(
        f"{server.base_url}/v1/responses/{other.id}",
        headers={"Authorization": f"Bearer {KEY_A}"},
        timeout=10,
    )
    assert raw.json() == {"id": other.id, "object": "response", "deleted": True}


def test_upstream_errors_pass_through_unchanged(server: Any, upstream: FakeOpenAI) -> None:
    with pytest.raises(BadRequestError) as info:
        _client(server).responses.create(model="error-400", input="Hi")
    assert info.value.code == "model_not_found"
    answer = _post(server, {"model": "error-400", "input": "Hi"})
    assert answer.status_code == 400
    assert (
        answer.content
        == json.dumps(
            {
                "error": {
                    "message": "The model 'error-400' does not exist.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "model_not_found",
                }
            }
        ).encode()
    )
    assert answer.headers["x-ratelimit-limit"] == "7"
    failed = _post(server, {"model": "boom", "input": "Hi"})
    assert failed.status_code == 500 and failed.json()["error"]["type"] == "server_error"
    refused = _post(server, {"model": "gpt-5", "input": "Hi"}, key="sk-unknown-to-both")
    assert refused.status_code == 401  # this service's own check: not a key it accepts
    not_json = _post(server, b"[1, 2]")
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "invalid_type"


def test_responses_are_isolated_by_key(server: Any, upstream: FakeOpenAI) -> None:
    mine = _client(server, KEY_A).responses.create(model="gpt-5", input="My secret plan.")
    theirs = _client(server, KEY_B)
    with pytest.raises(NotFoundError):
        theirs.responses.retrieve(mine.id)
    with pytest.raises(NotFoundError):
        theirs.responses.input_items.list(mine.id)
    with pytest.raises(NotFoundError):
        theirs.responses.delete(mine.id)
    # A count by the other key falls back to the upstream, which refuses it that key too.
    looked_up = upstream.count(f"/v1/responses/{mine.id}")
    counted = httpx.post(
        f"{server.base_url}/v1/responses/input_tokens",
        timeout=10,
        headers={"Authorization": f"Bearer {KEY_B}"},
        json={"model": "gpt-5", "input": "Hi", "previous_response_id": mine.id},
    )
    assert counted.status_code == 400
    assert counted.json()["error"]["code"] == "previous_response_not_found"
    assert upstream.count(f"/v1/responses/{mine.id}") == looked_up + 1
    assert upstream.hits[-1][2] == KEY_B  # asked with the caller's own key
    assert _client(server, KEY_A).responses.retrieve(mine.id).id == mine.id


def test_get_on_the_count_path_stays_a_405(server: Any) -> None:
    answer = httpx.get(
        f"{server.base_url}/v1/responses/input_tokens",
        headers={"Authorization": f"Bearer {KEY_A}"},
        timeout=10,
    )
    assert answer.status_code == 405 and "POST" in answer.headers["allow"]


# -- without a working upstream -----------------------------------------------------------------


def test_without_an_upstream_post_is_a_clear_400(
    tmp_path_factory: pytest.TempPathFactory, start_server: Callable[[Settings], Any]
) -> None:
    bare = start_server(Settings(data_dir=str(tmp_path_factory.mktemp("bare"))))
    with pytest.raises(BadRequestError) as info:
        _client(bare).responses.create(model="gpt-5", input="Hi")
    assert info.value.code == "upstream_not_configured"
    assert "INPUTTOKENS_UPSTREAM_URL" in info.value.message
    with pytest.raises(NotFoundError):
        _client(bare).responses.retrieve("resp_unknown")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_and_slow_upstreams_are_502_and_504(
    tmp_path_factory: pytest.TempPathFactory,
    start_server: Callable[[Settings], Any],
    upstream: FakeOpenAI,
) -> None:
    dead = start_server(
        Settings(
            data_dir=str(tmp_path_factory.mktemp("dead")),
            upstream_base_url=f"http://127.0.0.1:{_closed_port()}/v1",
        )
    )
    answer = _post(dead, {"model": "gpt-5", "input": "Hi"})
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "upstream_unavailable"
    assert answer.json()["error"]["type"] == "server_error"
    impatient = start_server(
        Settings(
            data_dir=str(tmp_path_factory.mktemp("slow")),
            upstream_base_url=upstream.base_url,
            upstream_timeout_s=0.3,
        )
    )
    answer = _post(impatient, {"model": "slow", "input": "Hi"})
    assert answer.status_code == 504
    assert answer.json()["error"]["code"] == "upstream_timeout"
    assert answer.elapsed.total_seconds() < SLOW_S


# -- imports -----------------------------------------------------------------------------------


def _saved_chain() -> list[dict[str, Any]]:
    first = response_object("resp_saved_1", "Paris.")
    first["input"] = "What is the capital of France?"
    second = response_object("resp_saved_2", "About 2.1 million.", previous="resp_saved_1")
    second["input_items"] = {
        "object": "list",
        "data": [message("user", "How many people live there?", "msg_saved_q2")],
        "has_more": False,
    }
    return [first, second]


def test_import_then_count_and_read_back(server: Any, tmp_path: Path) -> None:
    jsonl = "\n".join(json.dumps(r) for r in _saved_chain()) + "\n"
    path = tmp_path / "saved.jsonl"
    path.write_text(jsonl)
    store = Store(server.settings.store_url())
    try:
        assert import_responses(store, key_owner(KEY_A), path) == ["resp_saved_1", "resp_saved_2"]
        assert import_responses(store, key_owner(KEY_A), jsonl) == ["resp_saved_1", "resp_saved_2"]
    finally:
        store.close()
    client = _client(server)
    stored = client.responses.retrieve("resp_saved_2")
    assert stored.previous_response_id == "resp_saved_1"
    assert "input_items" not in stored.model_dump()  # the extension field is not kept
    items = client.responses.input_items.list("resp_saved_1").data
    assert [i.content[0].text for i in items] == ["What is the capital of France?"]  # once
    final = {"role": "user", "content": "And of Italy?"}
    counted = client.responses.input_tokens.count(
        model="gpt-4o", previous_response_id="resp_saved_2", input=[final]
    )
    inline = [
        {"role": "user", "content": "What is the capital of France?"},
        message("assistant", "Paris."),
        message("user", "How many people live there?"),
        message("assistant", "About 2.1 million."),
        final,
    ]
    assert (
        counted.input_tokens
        == count_input_tokens({"model": "gpt-4o", "input": inline}).input_tokens
    )
    with pytest.raises(NotFoundError):
        _client(server, KEY_B).responses.retrieve("resp_saved_1")


def test_import_is_offline_for_the_library(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path))
    store = Store(settings.store_url())
    ids = import_responses(store, "", json.dumps(_saved_chain()))
    store.close()
    assert ids == ["resp_saved_1", "resp_saved_2"]
    result = count_input_tokens(
        {"model": "gpt-5", "input": "Next?", "previous_response_id": "resp_saved_2"},
        settings=settings,
        sources=local_sources(settings),
    )
    assert (
        result.input_tokens
        == count_input_tokens(
            {
                "model": "gpt-5",
                "input": [
                    {"role": "user", "content": "What is the capital of France?"},
                    message("assistant", "Paris."),
                    message("user", "How many people live there?"),
                    message("assistant", "About 2.1 million."),
                    {"role": "user", "content": "Next?"},
                ],
            }
        ).input_tokens
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"id": "resp_1", "output": []}\n{"id": "resp_2", "output": [}\n', "line 2"),
        ('[{"id": "resp_1", "output": []}, {"id": "chatcmpl_1", "output": []}]', "[1]"),
        ('[{"id": "resp_1", "output": {}}]', "[0]: 'output'"),
        ('{"id": "resp_1", "output": [], "input": "a", "input_items": []}', "not both"),
        (
            '{"id": "resp_1", "output": [], "input": [{"role": "robot", "content": "x"}]}',
            "input item 0",
        ),
        ('{"id": "resp_1",\n "output": [\n}', "not valid JSON"),
        ("", "no response objects"),
        ("[]", "no response objects"),
        ("no-such-file.json", "cannot be read"),
    ],
)
def test_import_errors_say_where(tmp_path: Path, text: str, where: str) -> None:
    store = Store(f"sqlite:///{tmp_path / 'import.db'}")
    try:
        with pytest.raises(ResponseImportError, match=where.replace("[", r"\[")):
            import_responses(store, "", text)
        assert store.get_response("", "resp_1") is None  # nothing stored from a bad file
    finally:
        store.close()


def test_sse_reader_finds_final_responses_across_chunks() -> None:
    events = SSEEvents()
    done = {"type": "response.completed", "response": {"id": "resp_x", "output": []}}
    raw = (
        b'event: response.created\r\ndata: {"type": "response.created"}\r\n\r\n'
        b"event: response.completed\r\ndata: " + json.dumps(done).encode() + b"\r\n\r\n"
    )
    found = [r for n in range(0, len(raw), 7) for r in events.feed(raw[n : n + 7])]
    assert found == [done["response"]]
    unterminated = SSEEvents()
    assert unterminated.feed(b"data: " + json.dumps(done).encode()) == []
    assert unterminated.close() == [done["response"]]

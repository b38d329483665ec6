"""The Conversations API and `conversation` in counts: the real openai client against a real
server, on both store backends (SQLite and PostgreSQL, the `database_url` fixture).

The server has two API keys; each key's conversations and items are its own: the other key
gets 404s, and a count naming another key's conversation is a 400, never a count of its items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openai import BadRequestError, NotFoundError, OpenAI
from tests.clients import openai_for

from inputtokens import Settings, count_input_tokens

KEY_A, KEY_B = "sk-conv-a", "sk-conv-b"

# Three turns, as a client would keep them: user, assistant (with a tool call), tool result.
TURNS: list[list[dict[str, Any]]] = [
    [{"role": "user", "content": "What is the weather in Paris?"}],
    [
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": '{"temp_c": 18}'},
    ],
    [
        {"role": "assistant", "content": "It is 18 degrees in Paris."},
        {"role": "user", "content": "And in Oslo, in Fahrenheit?"},
    ],
]
TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    }
]


@pytest.fixture(scope="module")
def server(database_url: str, start_server: Callable[[Settings], Any]) -> Any:
    return start_server(Settings(api_keys=frozenset({KEY_A, KEY_B}), database_url=database_url))


def _client(server: Any, key: str = KEY_A) -> OpenAI:
    return openai_for(server, key)


@pytest.mark.parametrize("model", ["gpt-5", "gpt-4o", "gpt-4.1-mini", "o3"])
def test_three_turn_stored_conversation_counts_as_inline(server: Any, model: str) -> None:
    client = _client(server)
    conv = client.conversations.create(items=TURNS[0], metadata={"topic": "weather"})
    for turn in TURNS[1:]:
        client.conversations.items.create(conv.id, items=turn)
    new_input = [{"role": "user", "content": "Answer briefly."}]
    stored = client.responses.input_tokens.count(
        model=model, conversation=conv.id, input=new_input, tools=TOOLS, instructions="Be precise."
    )
    inline = count_input_tokens(
        {
            "model": model,
            "input": [item for turn in TURNS for item in turn] + new_input,
            "tools": TOOLS,
            "instructions": "Be precise.",
        }
    )
    assert stored.input_tokens == inline.input_tokens
    # The object form of `conversation` and a string `input` resolve the same way.
    as_object = client.responses.input_tokens.count(
        model=model,
        conversation={"id": conv.id},
        input="Answer briefly.",
        tools=TOOLS,
        instructions="Be precise.",
    )
    assert as_object.input_tokens == inline.input_tokens


def test_conversation_alone_is_counted(server: Any) -> None:
    client = _client(server)
    conv = client.conversations.create(items=TURNS[0])
    counted = client.responses.input_tokens.count(model="gpt-5", conversation=conv.id)
    assert (
        counted.input_tokens
        == count_input_tokens({"model": "gpt-5", "input": TURNS[0]}).input_tokens
    )


def test_rich_view_labels_stored_items(server: Any) -> None:
    client = _client(server)
    conv = client.conversations.create(items=TURNS[0] + TURNS[1])
    rich = httpx.post(
        f"{server.base_url}/v1/responses/input_tokens?verbose=true",
        headers={"Authorization": f"Bearer {KEY_A}"},
        json={"model": "gpt-5", "conversation": conv.id, "input": "Next?"},
    ).json()
    labels = [part["part"] for part in rich["breakdown"]]
    assert labels == ["conversation[0]", "conversation[1]", "conversation[2]", "input", "priming"]


def test_items_pages_in_both_orders(server: Any) -> None:
    client = _client(server)
    texts = [f"message {i}" for i in range(7)]
    conv = client.conversations.create(items=[{"role": "user", "content": t} for t in texts])
    first = client.conversations.items.list(conv.id, limit=3, order="asc")
    assert [item.content[0].text for item in first.data] == texts[:3]  # type: ignore[union-attr]
    assert first.has_more
    walked = [
        item.content[0].text
        for item in client.conversations.items.list(conv.id, limit=3, order="asc")  # type: ignore[union-attr]
    ]
    assert walked == texts  # the SDK follows `after` across pages
    newest = client.conversations.items.list(conv.id, limit=2)  # default order: desc
    assert [item.content[0].text for item in newest.data] == texts[:-3:-1]  # type: ignore[union-attr]


def test_item_shapes_follow_openai(server: Any) -> None:
    client = _client(server)
    conv = client.conversations.create(items=[{"role": "user", "content": "Hi"}])
    added = client.conversations.items.create(
        conv.id, items=[{"type": "message", "role": "assistant", "content": "Hello!"}]
    )
    item = added.data[0]
    assert item.id.startswith("msg_") and item.type == "message"
    assert item.content[0].type == "output_text"  # type: ignore[union-attr]
    fetched = client.conversations.items.retrieve(item.id, conversation_id=conv.id)
    assert fetched.id == item.id
    assert fetched.content[0].text == "Hello!"  # type: ignore[union-attr]


def test_get_update_delete(server: Any) -> None:
    client = _client(server)
    conv = client.conversations.create(metadata={"a": "1"})
    assert conv.id.startswith("conv_") and conv.metadata == {"a": "1"}
    assert client.conversations.retrieve(conv.id).metadata == {"a": "1"}
    updated = client.conversations.update(conv.id, metadata={"b": "2"})
    assert updated.metadata == {"b": "2"}
    assert client.conversations.retrieve(conv.id).metadata == {"b": "2"}
    deleted = client.conversations.delete(conv.id)
    assert deleted.deleted and deleted.id == conv.id
    with pytest.raises(NotFoundError):
        client.conversations.retrieve(conv.id)


def test_deleting_an_item_changes_the_count(server: Any) -> None:
    client = _client(server)
    conv = client.conversations.create(items=TURNS[0] + TURNS[2])
    ids = [item.id for item in client.conversations.items.list(conv.id, order="asc")]
    before = client.responses.input_tokens.count(model="gpt-5", conversation=conv.id)
    answer = client.conversations.items.delete(ids[1], conversation_id=conv.id)
    assert answer.id == conv.id  # OpenAI answers with the conversation
    after = client.responses.input_tokens.count(model="gpt-5", conversation=conv.id)
    remaining = [TURNS[0][0], TURNS[2][1]]
    assert (
        after.input_tokens
        == count_input_tokens({"model": "gpt-5", "input": remaining}).input_tokens
        < before.input_tokens
    )
    with pytest.raises(NotFoundError):
        client.conversations.items.retrieve(ids[1], conversation_id=conv.id)


def test_item_reference_counts_the_stored_item(server: Any) -> None:
    client = _client(server)
    conv = client.conversations.create(items=TURNS[1])
    call = next(iter(client.conversations.items.list(conv.id, order="asc")))
    by_reference = client.responses.input_tokens.count(
        model="gpt-5",
        input=[
            {"role": "user", "content": "Weather?"},
            {"type": "item_reference", "id": call.id},
            TURNS[1][1],
        ],
    )
    inline = count_input_tokens(
        {"model": "gpt-5", "input": [{"role": "user", "content": "Weather?"}, *TURNS[1]]}
    )
    assert by_reference.input_tokens == inline.input_tokens


def test_another_key_sees_nothing(server: Any) -> None:
    owner, other = _client(server, KEY_A), _client(server, KEY_B)
    conv = owner.conversations.create(items=TURNS[0], metadata={"secret": "yes"})
    item_id = next(iter(owner.conversations.items.list(conv.id))).id
    for attempt in (
        lambda: other.conversations.retrieve(conv.id),
        lambda: other.conversations.update(conv.id, metadata={"x": "y"}),
        lambda: other.conversations.delete(conv.id),
        lambda: other.conversations.items.list(conv.id),
        lambda: other.conversations.items.create(conv.id, items=TURNS[0]),
        lambda: other.conversations.items.retrieve(item_id, conversation_id=conv.id),
        lambda: other.conversations.items.delete(item_id, conversation_id=conv.id),
    ):
        with pytest.raises(NotFoundError) as caught:
            attempt()
        assert "What is the weather" not in caught.value.response.text
    with pytest.raises(BadRequestError) as caught_count:
        other.responses.input_tokens.count(model="gpt-5", conversation=conv.id, input="x")
    assert caught_count.value.code == "conversation_not_found"
    with pytest.raises(BadRequestError) as caught_ref:
        other.responses.input_tokens.count(
            model="gpt-5", input=[{"type": "item_reference", "id": item_id}]
        )
    assert caught_ref.value.code == "item_not_found"
    # Nothing the other key tried changed the owner's conversation.
    assert owner.conversations.retrieve(conv.id).metadata == {"secret": "yes"}
    assert len(list(owner.conversations.items.list(conv.id))) == 1


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/conversations", {"items": "not a list"}, "items"),
        ("/v1/conversations", {"items": [{"role": "user", "content": 5}]}, "items[0].content"),
        ("/v1/conversations", {"items": [{"role": "user", "content": "x"}] * 21}, "items"),
        ("/v1/conversations", {"metadata": {"k": 5}}, "metadata.k"),
        ("/v1/conversations", {"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        (
            "/v1/conversations",
            {"items": [{"type": "item_reference", "id": "msg_nope"}]},
            "items[0].id",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(server: Any, path: str, body: Any, param: str) -> None:
    answer = httpx.post(
        f"{server.base_url}{path}", json=body, headers={"Authorization": f"Bearer {KEY_A}"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == param


def test_bad_listing_parameters_and_missing_items(server: Any) -> None:
    client = _client(server)
    conv = client.conversations.create()
    headers = {"Authorization": f"Bearer {KEY_A}"}
    base = f"{server.base_url}/v1/conversations/{conv.id}/items"
    for query, param in (("limit=0", "limit"), ("limit=101", "limit"), ("order=up", "order")):
        answer = httpx.get(f"{base}?{query}", headers=headers)
        assert (answer.status_code, answer.json()["error"]["param"]) == (400, param)
    answer = httpx.post(base, json={}, headers=headers)
    assert (answer.status_code, answer.json()["error"]["code"]) == (
        400,
        "missing_required_parameter",
    )
    answer = httpx.post(
        f"{server.base_url}/v1/conversations", content=b"{not json", headers=headers
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_json")

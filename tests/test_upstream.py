"""The upstream fallback: ids a count names that the store lacks are fetched from the upstream
with the caller's key (responses and their input items, conversations and their items, file
content), kept in the store and counted; the next count finds them locally.

The upstream is the loopback stand-in of tests/fake_upstream.py, which pages its listings two
items at a time, checks the bearer key and shows an object only to the key that owns it.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.fake_upstream import FakeOpenAI, message, response_object

from inputtokens import Settings, count_input_tokens
from inputtokens.api.upstream import upstream_fallback
from inputtokens.state.records import key_owner
from inputtokens.state.store import Store, conversations
from inputtokens.state.upstream import UpstreamFallback

KEY_A, KEY_B = "sk-up-a", "sk-up-b"  # the keyed server's keys, which the upstream accepts
OPEN_1, OPEN_2 = "sk-open-1", "sk-open-2"  # upstream keys of callers of the open server
NOTES = "Upstream notes\n- cache what was fetched\n- never show it to another key\n" * 8


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI({KEY_A, KEY_B, OPEN_1, OPEN_2}).start()
    # A chain of two responses made directly at the upstream (never passed through here).
    fake.add_response(
        KEY_A, response_object("resp_up_1", "Four."), [message("user", "What is 2 + 2?", "msg_q1")]
    )
    fake.add_response(
        KEY_A,
        response_object("resp_up_2", "Six.", previous="resp_up_1"),
        [message("user", f"Step {n}.", f"msg_s{n}") for n in range(5)],
    )
    fake.add_response(
        None,
        response_object("resp_shared", "Shared answer."),
        [message("user", "Anyone may ask.", "msg_shared")],
    )
    fake.add_conversation(
        KEY_A,
        "conv_up_a",
        [
            message("user", "Plan a trip.", "msg_c1"),
            message("assistant", "Where to?", "msg_c2"),
            message("user", "Lisbon, three days.", "msg_c3"),
        ],
    )
    fake.add_conversation(OPEN_1, "conv_open_1", [message("user", "Open question.", "msg_o1")])
    fake.add_file(KEY_A, "file-up-notes", "notes.txt", NOTES.encode())
    fake.add_file(KEY_A, "file-up-big", "big.txt", b"x" * 20_000)
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
            data_dir=str(tmp_path_factory.mktemp("keyed")),
            upstream_base_url=upstream.base_url,
            max_file_bytes=10_000,
        )
    )


@pytest.fixture(scope="module")
def open_server(
    tmp_path_factory: pytest.TempPathFactory,
    upstream: FakeOpenAI,
    start_server: Callable[[Settings], Any],
) -> Any:
    """A server without API keys: every caller is owner "" to it."""
    return start_server(
        Settings(data_dir=str(tmp_path_factory.mktemp("open")), upstream_base_url=upstream.base_url)
    )


def _count(server: Any, body: dict[str, Any], key: str | None = KEY_A) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(
        f"{server.base_url}/v1/responses/input_tokens", json=body, headers=headers, timeout=10
    )


def _tokens(answer: httpx.Response) -> int:
    assert answer.status_code == 200, answer.text
    return int(answer.json()["input_tokens"])


def _error(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    return dict(answer.json()["error"])


def _file_body(part: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": "gpt-5",
        "input": [
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Summarise."},
                    {"type": "input_file", **part},
                ],
            }
        ],
    }


# -- fetched, counted, kept --------------------------------------------------------------------


def test_unknown_response_chain_is_fetched_counted_and_kept(
    server: Any, upstream: FakeOpenAI
) -> None:
    final = {"role": "user", "content": "And 3 + 3?"}
    body = {"model": "gpt-5", "previous_response_id": "resp_up_2", "input": [final]}
    counted = _tokens(_count(server, body))
    inline = [
        message("user", "What is 2 + 2?"),
        message("assistant", "Four."),
        *[message("user", f"Step {n}.") for n in range(5)],
        message("assistant", "Six."),
        final,
    ]
    assert counted == count_input_tokens({"model": "gpt-5", "input": inline}).input_tokens
    # Both responses, and every page of resp_up_2's five input items (2 + 2 + 1).
    assert upstream.count("/v1/responses/resp_up_2/input_items") == 3
    assert upstream.count("/v1/responses/resp_up_1") == 1
    assert upstream.count("/v1/responses/resp_up_1/input_items") == 1
    hits = len(upstream.hits)
    assert _tokens(_count(server, body)) == counted
    assert len(upstream.hits) == hits  # kept: the second count asks nothing
    kept = httpx.get(
        f"{server.base_url}/v1/responses/resp_up_2",
        timeout=10,
        headers={"Authorization": f"Bearer {KEY_A}"},
    )
    assert kept.status_code == 200 and kept.json()["previous_response_id"] == "resp_up_1"


def test_unknown_conversation_is_fetched_kept_and_refreshed_when_old(
    server: Any, upstream: FakeOpenAI
) -> None:
    final = {"role": "user", "content": "What should I pack?"}
    body = {"model": "gpt-4o", "conversation": "conv_up_a", "input": [final]}

    def inline() -> int:
        items = upstream.conversations["conv_up_a"][2]
        return count_input_tokens({"model": "gpt-4o", "input": [*items, final]}).input_tokens

    assert _tokens(_count(server, body)) == inline()
    assert upstream.count("/v1/conversations/conv_up_a/items") == 2  # 3 items, 2 pages
    fetched = upstream.count("/v1/conversations/conv_up_a")
    assert _tokens(_count(server, body)) == inline()
    assert upstream.count("/v1/conversations/conv_up_a") == fetched  # fresh enough: kept
    # The conversation gains an item upstream; once the copy is older than the TTL it is
    # fetched again and the count follows.
    before = inline()
    upstream.conversations["conv_up_a"][2].append(message("assistant", "Sunscreen.", "msg_c4"))
    store = Store(server.settings.store_url())
    try:
        with store.engine.begin() as conn:
            changed = conn.execute(
                conversations.update()
                .where(conversations.c.id == "conv_up_a")
                .values(upstream_fetched_at=0)
            )
        assert changed.rowcount == 1
    finally:
        store.close()
    refreshed = _tokens(_count(server, body))
    assert refreshed == inline() > before  # the new item is counted
    assert upstream.count("/v1/conversations/conv_up_a") == fetched + 1


def test_pass_through_turn_joins_a_kept_conversation_and_survives_its_refresh(
    server: Any, upstream: FakeOpenAI
) -> None:
    upstream.add_conversation(KEY_A, "conv_turns", [message("user", "Hello.", "msg_t1")])
    auth = {"Authorization": f"Bearer {KEY_A}"}
    final = {"role": "user", "content": "Bye."}
    body = {"model": "gpt-5", "conversation": "conv_turns", "input": [final]}
    _tokens(_count(server, body))  # keeps a copy
    created = httpx.post(
        f"{server.base_url}/v1/responses",
        headers=auth,
        timeout=10,
        json={"model": "gpt-5", "conversation": "conv_turns", "input": "How are you?"},
    ).json()
    fetched = upstream.count("/v1/conversations/conv_turns")
    expected = count_input_tokens(
        {"model": "gpt-5", "input": [*upstream.conversations["conv_turns"][2], final]}
    ).input_tokens
    assert _tokens(_count(server, body)) == expected  # the new turn, without a refetch
    assert upstream.count("/v1/conversations/conv_turns") == fetched
    store = Store(server.settings.store_url())
    try:
        with store.engine.begin() as conn:
            conn.execute(
                conversations.update()
                .where(conversations.c.id == "conv_turns")
                .values(upstream_fetched_at=0)
            )
    finally:
        store.close()
    assert _tokens(_count(server, body)) == expected  # refreshed: the same items, once each
    assert upstream.count("/v1/conversations/conv_turns") == fetched + 1
    items = httpx.get(
        f"{server.base_url}/v1/responses/{created['id']}/input_items", headers=auth, timeout=10
    ).json()["data"]
    assert [i["content"][0]["text"] for i in items] == ["How are you?"]  # still the response's


def test_fetched_response_of_a_kept_conversation_does_not_repeat_its_items(
    server: Any, upstream: FakeOpenAI
) -> None:
    turn = response_object("resp_in_conv", "Blue.", conversation="conv_dup")
    question = message("user", "Favourite colour?", "msg_dup_q")
    upstream.add_response(KEY_A, turn, [question])
    upstream.add_conversation(KEY_A, "conv_dup", [question, *turn["output"]])
    body = {"model": "gpt-5", "conversation": "conv_dup", "input": "Why?"}
    before = _tokens(_count(server, body))  # the conversation is kept
    _tokens(
        _count(server, {"model": "gpt-5", "previous_response_id": "resp_in_conv", "input": "Why?"})
    )  # then its response
    assert _tokens(_count(server, body)) == before


def test_unknown_file_is_fetched_counted_and_kept(server: Any, upstream: FakeOpenAI) -> None:
    counted = _tokens(_count(server, _file_body({"file_id": "file-up-notes"})))
    inline = count_input_tokens(
        _file_body(
            {"filename": "notes.txt", "file_data": base64.b64encode(NOTES.encode()).decode()}
        )
    )
    assert counted == inline.input_tokens
    assert upstream.count("/v1/files/file-up-notes/content") == 1
    assert _tokens(_count(server, _file_body({"file_id": "file-up-notes"}))) == counted
    assert upstream.count("/v1/files/file-up-notes") == 1  # kept: not asked again
    assert upstream.count("/v1/files/file-up-notes/content") == 1
    kept = httpx.get(
        f"{server.base_url}/v1/files/file-up-notes",
        timeout=10,
        headers={"Authorization": f"Bearer {KEY_A}"},
    ).json()
    assert (kept["filename"], kept["bytes"]) == ("notes.txt", len(NOTES.encode()))


def test_file_over_the_limit_is_refused_naming_the_field(server: Any) -> None:
    error = _error(_count(server, _file_body({"file_id": "file-up-big"})), 400)
    assert error["code"] == "file_too_large"
    assert error["param"] == "input[0].content[1].file_id"


def test_an_id_another_owner_keeps_is_still_counted(server: Any) -> None:
    body = {"model": "gpt-5", "previous_response_id": "resp_shared", "input": "Next."}
    first = _tokens(_count(server, body, KEY_A))  # kept under KEY_A's owner
    assert _tokens(_count(server, body, KEY_B)) == first  # fetched for B, used unkept
    assert (
        first
        == count_input_tokens(
            {
                "model": "gpt-5",
                "input": [
                    message("user", "Anyone may ask."),
                    message("assistant", "Shared answer."),
                    {"role": "user", "content": "Next."},
                ],
            }
        ).input_tokens
    )


# -- not there, and failures -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        (
            {"model": "gpt-5", "input": "Hi", "previous_response_id": "resp_nowhere"},
            "previous_response_id",
            "previous_response_not_found",
        ),
        (
            {"model": "gpt-5", "input": "Hi", "conversation": "conv_nowhere"},
            "conversation",
            "conversation_not_found",
        ),
        (_file_body({"file_id": "file-nowhere"}), "input[0].content[1].file_id", "file_not_found"),
    ],
)
def test_unknown_everywhere_is_a_400(
    server: Any, upstream: FakeOpenAI, body: dict[str, Any], param: str, code: str
) -> None:
    hits = len(upstream.hits)
    error = _error(_count(server, body), 400)
    assert (error["param"], error["code"]) == (param, code)
    assert len(upstream.hits) == hits + 1  # asked, and told 404


def test_another_keys_upstream_objects_stay_unknown(server: Any) -> None:
    _tokens(_count(server, {"model": "gpt-5", "input": "x", "conversation": "conv_up_a"}))
    error = _error(
        _count(server, {"model": "gpt-5", "input": "x", "conversation": "conv_up_a"}, KEY_B), 400
    )
    assert error["code"] == "conversation_not_found"
    error = _error(_count(server, _file_body({"file_id": "file-up-notes"}), KEY_B), 400)
    assert error["code"] == "file_not_found"


@pytest.mark.parametrize(
    ("resp_id", "status", "code", "kind"),
    [
        ("resp_boom", 502, "upstream_error", "server_error"),
        ("resp_garbled", 502, "upstream_error", "server_error"),
        ("resp_limited", 429, "rate_limit_exceeded", "requests"),
    ],
)
def test_upstream_failures_are_mapped(
    server: Any, resp_id: str, status: int, code: str, kind: str
) -> None:
    error = _error(
        _count(server, {"model": "gpt-5", "input": "Hi", "previous_response_id": resp_id}), status
    )
    assert (error["code"], error["type"], error["param"]) == (code, kind, "previous_response_id")
    assert resp_id in error["message"]


def test_unreachable_and_slow_upstream_lookups(
    tmp_path_factory: pytest.TempPathFactory,
    start_server: Callable[[Settings], Any],
    upstream: FakeOpenAI,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = start_server(
        Settings(
            data_dir=str(tmp_path_factory.mktemp("dead")),
            upstream_base_url=f"http://127.0.0.1:{port}/v1",
        )
    )
    error = _error(
        _count(dead, {"model": "gpt-5", "input": "Hi", "conversation": "conv_up_a"}), 502
    )
    assert (error["code"], error["param"]) == ("upstream_unavailable", "conversation")
    slow = start_server(
        Settings(
            data_dir=str(tmp_path_factory.mktemp("slow")),
            upstream_base_url=upstream.base_url,
            upstream_timeout_s=0.3,
        )
    )
    error = _error(
        _count(slow, {"model": "gpt-5", "input": "Hi", "previous_response_id": "resp_slow"}), 504
    )
    assert error["code"] == "upstream_timeout"


# -- owners without API keys -------------------------------------------------------------------


def test_without_keys_upstream_copies_belong_to_the_upstream_key(
    open_server: Any, upstream: FakeOpenAI
) -> None:
    body = {"model": "gpt-5", "input": "x", "conversation": "conv_open_1"}
    counted = _tokens(_count(open_server, body, OPEN_1))
    hits = len(upstream.hits)
    assert _tokens(_count(open_server, body, OPEN_1)) == counted  # found under its key
    assert len(upstream.hits) == hits
    store = Store(open_server.settings.store_url())
    try:
        assert store.get_conversation(key_owner(OPEN_1), "conv_open_1") is not None
        assert store.get_conversation("", "conv_open_1") is None  # not everyone's
    finally:
        store.close()
    # Another upstream key is asked anew (and refused); no key at all is not looked up.
    assert _error(_count(open_server, body, OPEN_2), 400)["code"] == "conversation_not_found"
    assert len(upstream.hits) == hits + 1  # the conversation, for OPEN_2
    assert _error(_count(open_server, body, None), 400)["code"] == "conversation_not_found"
    assert len(upstream.hits) == hits + 1


def test_without_keys_passed_through_responses_are_read_by_their_key(open_server: Any) -> None:
    created = httpx.post(
        f"{open_server.base_url}/v1/responses",
        timeout=10,
        headers={"Authorization": f"Bearer {OPEN_1}"},
        json={"model": "gpt-5", "input": "Mine."},
    ).json()
    url = f"{open_server.base_url}/v1/responses/{created['id']}"
    assert (
        httpx.get(url, headers={"Authorization": f"Bearer {OPEN_1}"}, timeout=10).status_code == 200
    )
    assert (
        httpx.get(url, headers={"Authorization": f"Bearer {OPEN_2}"}, timeout=10).status_code == 404
    )
    assert httpx.get(url, timeout=10).status_code == 404


# -- the pieces --------------------------------------------------------------------------------


def _request(headers: dict[str, str]) -> Any:
    from starlette.requests import Request

    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/",
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }
    )


def test_upstream_fallback_needs_an_upstream_and_a_bearer_key() -> None:
    with_upstream = Settings(upstream_base_url="https://upstream.example/v1/")
    keyed = _request({"Authorization": "Bearer sk-1", "OpenAI-Project": "proj_1", "Cookie": "no"})
    assert upstream_fallback(Settings(), keyed) is None
    assert upstream_fallback(with_upstream, _request({})) is None
    assert upstream_fallback(with_upstream, _request({"Authorization": "Basic abc"})) is None
    fallback = upstream_fallback(with_upstream, keyed)
    assert isinstance(fallback, UpstreamFallback)
    assert fallback.base_url == "https://upstream.example/v1"
    assert dict(fallback.headers) == {"authorization": "Bearer sk-1", "openai-project": "proj_1"}
    assert fallback.owner == key_owner("sk-1")


def test_fallback_reads_pages_and_caps_file_bytes(upstream: FakeOpenAI) -> None:
    fallback = UpstreamFallback(
        upstream.base_url,
        (("authorization", f"Bearer {KEY_A}"),),
        owner="o",
        max_file_bytes=100,
        max_items=4,
    )
    found = fallback.response("resp_up_1")
    assert found is not None and found[0]["id"] == "resp_up_1"
    assert [i["id"] for i in found[1]] == ["msg_q1"]
    assert fallback.conversation("conv_nowhere") is None
    from inputtokens.core.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError) as info:
        fallback.response("resp_up_2")  # five input items, more than max_items
    assert info.value.code == "array_above_max_length"
    with pytest.raises(InvalidRequestError) as info:
        fallback.file("file-up-notes")
    assert info.value.code == "file_too_large" and info.value.param is None
    ids = ["resp/../../files/file-up-notes", "resp_up_1?x=1"]
    assert [fallback.response(i) for i in ids] == [None, None]  # an id is one path segment


def test_upstream_settings_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "INPUTTOKENS_UPSTREAM_URL": " https://api.openai.com/v1/ ",
            "INPUTTOKENS_UPSTREAM_TIMEOUT": "12.5",
            "INPUTTOKENS_UPSTREAM_CONVERSATION_TTL": "0",
        }
    )
    assert (
        settings.upstream_base_url,
        settings.upstream_timeout_s,
        settings.upstream_conversation_ttl_s,
    ) == ("https://api.openai.com/v1", 12.5, 0)
    assert Settings.from_env(settings.to_env()) == settings
    with pytest.raises(ValueError, match="INPUTTOKENS_UPSTREAM_URL"):
        Settings.from_env({"INPUTTOKENS_UPSTREAM_URL": "api.openai.com"})
    assert Settings().upstream_base_url == ""


def test_cached_rows_are_plain_store_rows(server: Any) -> None:
    """The copies are ordinary rows of the caller's owner (what GET and delete act on)."""
    _tokens(_count(server, {"model": "gpt-5", "input": "x", "previous_response_id": "resp_up_1"}))
    store = Store(server.settings.store_url())
    try:
        with store.engine.connect() as conn:
            owners = (
                conn.execute(sa.text("SELECT owner FROM responses WHERE id = 'resp_up_1'"))
                .scalars()
                .all()
            )
    finally:
        store.close()
    assert owners == [key_owner(KEY_A)]

"""Per-caller isolation with no configuration: on a server without ``INPUTTOKENS_API_KEYS``,
what a bearer key stores belongs to that key (a digest of it), so two keys cannot see, change
or delete each other's files, conversations or responses on any route, nor count them; callers
without a key share one anonymous space of their own; the CLI's ``--api-key`` acts as that
key's owner; the upstream's copies are kept under the key that fetched them.

Real servers on loopback (conftest ``start_server``) driven by the real ``openai`` client and
httpx; the CLI through click's CliRunner on the same store; ``serve`` as a real process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from openai import NotFoundError
from tests.clients import openai_for
from tests.fake_upstream import FakeOpenAI, message, response_object

from inputtokens import Settings
from inputtokens.cli import cli
from inputtokens.server import keys_mode
from inputtokens.state.records import key_owner
from inputtokens.state.store import store_for

KEY_A, KEY_B = "sk-iso-a", "sk-iso-b"
SECRET = b"the quarterly numbers of A, not for B"
RESP_ID = "resp_iso_a_0001"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("isolation")


@pytest.fixture(scope="module")
def server(data_dir: Path, start_server: Callable[[Settings], Any]) -> Any:
    """The default server: no API keys (only a store of its own)."""
    settings = Settings(data_dir=str(data_dir))
    assert not settings.api_keys
    return start_server(settings)


def _cli(data_dir: Path, *args: str, input: str | None = None) -> Result:
    env = {
        "INPUTTOKENS_DATA_DIR": str(data_dir),
        "INPUTTOKENS_DATABASE_URL": None,
        "INPUTTOKENS_API_KEYS": None,
    }
    return CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)


def _cli_ok(data_dir: Path, *args: str, input: str | None = None) -> Any:
    result = _cli(data_dir, *args, input=input)
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout) if result.stdout.strip().startswith(("{", "[")) else None


def _anon(server: Any) -> httpx.Client:
    """A client that sends no Authorization header."""
    return httpx.Client(base_url=server.base_url, trust_env=False, timeout=30)


def _count(server: Any, key: str | None, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(
        f"{server.base_url}/v1/responses/input_tokens",
        json={"model": "gpt-5", **body},
        headers=headers,
        timeout=30,
        trust_env=False,
    )


@pytest.fixture(scope="module")
def mine(server: Any, data_dir: Path) -> dict[str, str]:
    """What key A stores: a file, a conversation with an item, an imported response."""
    a = openai_for(server, KEY_A)
    uploaded = a.files.create(file=("a.txt", SECRET, "text/plain"), purpose="user_data")
    conv = a.conversations.create(
        metadata={"who": "a"}, items=[{"role": "user", "content": "A's first question"}]
    )
    item_id = a.conversations.items.list(conv.id).data[0].id
    saved = {**response_object(RESP_ID, "A's answer"), "input": "A's request"}
    result = _cli(data_dir, "responses", "import", "-", "--api-key", KEY_A, input=json.dumps(saved))
    assert result.exit_code == 0, result.stderr
    return {"file": uploaded.id, "conv": conv.id, "item": item_id, "resp": RESP_ID}


def _not_found(call: Callable[[], Any]) -> None:
    with pytest.raises(NotFoundError):
        call()


# -- files ----------------------------------------------------------------------------------------


def test_another_key_cannot_see_read_or_delete_a_file(server: Any, mine: dict[str, str]) -> None:
    a, b = openai_for(server, KEY_A), openai_for(server, KEY_B)
    file_id = mine["file"]
    assert file_id not in [f.id for f in b.files.list()]
    _not_found(lambda: b.files.retrieve(file_id))
    _not_found(lambda: b.files.content(file_id))
    _not_found(lambda: b.files.delete(file_id))
    with _anon(server) as anon:
        assert file_id not in [f["id"] for f in anon.get("/v1/files").json()["data"]]
        for path in (f"/v1/files/{file_id}", f"/v1/files/{file_id}/content"):
            assert anon.get(path).status_code == 404
        assert anon.delete(f"/v1/files/{file_id}").status_code == 404
    # A's file is whole, and B's own upload is B's alone.
    assert a.files.content(file_id).content == SECRET
    theirs = b.files.create(file=("b.txt", b"B's notes", "text/plain"), purpose="user_data")
    assert [f.id for f in b.files.list()] == [theirs.id]
    assert theirs.id not in [f.id for f in a.files.list()]
    _not_found(lambda: a.files.content(theirs.id))
    assert b.files.delete(theirs.id).deleted


# -- conversations --------------------------------------------------------------------------------


def test_another_key_cannot_see_change_or_delete_a_conversation(
    server: Any, mine: dict[str, str]
) -> None:
    a, b = openai_for(server, KEY_A), openai_for(server, KEY_B)
    conv_id, item_id = mine["conv"], mine["item"]
    _not_found(lambda: b.conversations.retrieve(conv_id))
    _not_found(lambda: b.conversations.update(conv_id, metadata={"who": "b"}))
    _not_found(lambda: b.conversations.items.list(conv_id))
    _not_found(
        lambda: b.conversations.items.create(
            conv_id, items=[{"type": "message", "role": "user", "content": "B was here"}]
        )
    )
    _not_found(lambda: b.conversations.items.retrieve(item_id, conversation_id=conv_id))
    _not_found(lambda: b.conversations.items.delete(item_id, conversation_id=conv_id))
    _not_found(lambda: b.conversations.delete(conv_id))
    with _anon(server) as anon:
        base = f"/v1/conversations/{conv_id}"
        assert anon.get(base).status_code == 404
        assert anon.post(base, json={"metadata": {"who": "anon"}}).status_code == 404
        assert anon.get(f"{base}/items").status_code == 404
        added = anon.post(f"{base}/items", json={"items": [{"role": "user", "content": "x"}]})
        assert added.status_code == 404
        assert anon.get(f"{base}/items/{item_id}").status_code == 404
        assert anon.delete(f"{base}/items/{item_id}").status_code == 404
        assert anon.delete(base).status_code == 404
    # Nothing of A's changed.
    assert a.conversations.retrieve(conv_id).metadata == {"who": "a"}
    assert [i.id for i in a.conversations.items.list(conv_id).data] == [item_id]


# -- responses ------------------------------------------------------------------------------------


def test_another_key_cannot_see_or_delete_a_response(server: Any, mine: dict[str, str]) -> None:
    a, b = openai_for(server, KEY_A), openai_for(server, KEY_B)
    resp_id = mine["resp"]
    _not_found(lambda: b.responses.retrieve(resp_id))
    _not_found(lambda: b.responses.input_items.list(resp_id))
    _not_found(lambda: b.responses.delete(resp_id))
    with _anon(server) as anon:
        for path in (f"/v1/responses/{resp_id}", f"/v1/responses/{resp_id}/input_items"):
            assert anon.get(path).status_code == 404
        assert anon.delete(f"/v1/responses/{resp_id}").status_code == 404
    assert a.responses.retrieve(resp_id).id == resp_id
    assert len(a.responses.input_items.list(resp_id).data) == 1


# -- counts ---------------------------------------------------------------------------------------


def _naming(ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    """A count body per kind of stored id, naming `ids`."""
    return {
        "conversation": {"conversation": ids["conv"], "input": "and then?"},
        "previous_response_id": {"previous_response_id": ids["resp"], "input": "and then?"},
        "item_reference": {"input": [{"type": "item_reference", "id": ids["item"]}]},
        "file_id": {
            "input": [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "summarize"},
                        {"type": "input_file", "file_id": ids["file"]},
                    ],
                }
            ]
        },
    }


UNKNOWN = {
    "conv": "conv_" + "0" * 48,
    "resp": "resp_" + "0" * 48,
    "item": "msg_" + "0" * 48,
    "file": "file-" + "0" * 24,
}


@pytest.mark.parametrize(
    "kind", ["conversation", "previous_response_id", "item_reference", "file_id"]
)
def test_a_count_naming_another_keys_id_is_an_unknown_id(
    server: Any, mine: dict[str, str], kind: str
) -> None:
    own = _count(server, KEY_A, _naming(mine)[kind])
    assert own.status_code == 200, own.text
    unknown = _count(server, KEY_B, _naming(UNKNOWN)[kind])
    assert unknown.status_code == 400
    for caller in (KEY_B, None):
        theirs = _count(server, caller, _naming(mine)[kind])
        assert theirs.status_code == unknown.status_code, theirs.text
        error, expected = theirs.json()["error"], unknown.json()["error"]
        assert (error["type"], error["code"], error["param"]) == (
            expected["type"],
            expected["code"],
            expected["param"],
        )
        assert SECRET.decode() not in theirs.text


# -- the anonymous space --------------------------------------------------------------------------


def test_callers_without_a_key_share_an_anonymous_space_no_key_reaches(
    server: Any, data_dir: Path
) -> None:
    a = openai_for(server, KEY_A)
    with _anon(server) as first, _anon(server) as second:
        made = first.post(
            "/v1/files",
            files={"file": ("anon.txt", b"anonymous notes")},
            data={"purpose": "user_data"},
        )
        assert made.status_code == 200, made.text
        file_id = made.json()["id"]
        assert second.get(f"/v1/files/{file_id}/content").content == b"anonymous notes"
        listed = [f["id"] for f in second.get("/v1/files").json()["data"]]
        assert listed == [file_id]  # none of the keys' files
    _not_found(lambda: a.files.content(file_id))
    _not_found(lambda: openai_for(server, KEY_B).files.delete(file_id))
    # The CLI without --api-key is that anonymous caller; with a key, that key.
    assert [f["id"] for f in _cli_ok(data_dir, "files", "list")["data"]] == [file_id]
    assert _cli(data_dir, "files", "get", file_id, "--api-key", KEY_A).exit_code == 1


# -- the CLI --------------------------------------------------------------------------------------


def test_the_cli_with_an_api_key_sees_only_that_keys_objects(
    server: Any, data_dir: Path, mine: dict[str, str]
) -> None:
    b = openai_for(server, KEY_B)
    theirs = b.files.create(file=("b.txt", b"B again", "text/plain"), purpose="user_data")
    as_a = [f["id"] for f in _cli_ok(data_dir, "files", "list", "--api-key", KEY_A)["data"]]
    as_b = [f["id"] for f in _cli_ok(data_dir, "files", "list", "--api-key", KEY_B)["data"]]
    assert mine["file"] in as_a and theirs.id not in as_a
    assert as_b == [theirs.id]
    result = _cli(data_dir, "files", "content", mine["file"], "--api-key", KEY_A)
    assert result.stdout_bytes == SECRET
    for args in (
        ("files", "content", mine["file"]),
        ("files", "delete", mine["file"]),
        ("conversations", "get", mine["conv"]),
        ("conversations", "delete", mine["conv"]),
        ("responses", "get", mine["resp"]),
        ("responses", "delete", mine["resp"]),
    ):
        assert _cli(data_dir, *args, "--api-key", KEY_B).exit_code == 1, args
    body = json.dumps({"model": "gpt-5", **_naming(mine)["conversation"]})
    assert _cli(data_dir, "count", "--api-key", KEY_B, input=body).exit_code == 1
    assert _cli(data_dir, "count", "--api-key", KEY_A, input=body).exit_code == 0
    # What the CLI stores as B, B reads over HTTP (and A does not).
    made = _cli_ok(
        data_dir, "conversations", "create", "--metadata", "who=b-cli", "--api-key", KEY_B
    )
    assert b.conversations.retrieve(made["id"]).metadata == {"who": "b-cli"}
    _not_found(lambda: openai_for(server, KEY_A).conversations.retrieve(made["id"]))
    assert b.files.delete(theirs.id).deleted


def test_the_store_keeps_a_digest_never_the_key(server: Any, mine: dict[str, str]) -> None:
    store = store_for(server.settings.store_url())
    assert store.get_file(key_owner(KEY_A), mine["file"]) is not None
    assert store.get_file(KEY_A, mine["file"]) is None
    assert store.get_file("", mine["file"]) is None


# -- the upstream's copies ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI({KEY_A, KEY_B}).start()
    fake.add_response(KEY_A, response_object("resp_up_a", "Upstream answer to A"), [])
    fake.add_conversation(KEY_A, "conv_up_a", [message("user", "A's upstream question", "msg_ua")])
    fake.add_file(KEY_A, "file-upa", "up.txt", b"A's upstream file")
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def relay(
    tmp_path_factory: pytest.TempPathFactory,
    upstream: FakeOpenAI,
    start_server: Callable[[Settings], Any],
) -> Any:
    """A server without API keys that looks ids up upstream and passes POST /v1/responses."""
    return start_server(
        Settings(
            data_dir=str(tmp_path_factory.mktemp("relay")), upstream_base_url=upstream.base_url
        )
    )


UPSTREAM_BODIES = {
    "/responses/resp_up_a": {"previous_response_id": "resp_up_a", "input": "more"},
    "/conversations/conv_up_a": {"conversation": "conv_up_a", "input": "more"},
    "/files/file-upa": {
        "input": [{"role": "user", "content": [{"type": "input_file", "file_id": "file-upa"}]}]
    },
}


@pytest.mark.parametrize("path", list(UPSTREAM_BODIES))
def test_an_upstream_copy_is_kept_for_the_key_that_fetched_it(
    relay: Any, upstream: FakeOpenAI, path: str
) -> None:
    body = UPSTREAM_BODIES[path]
    asked = upstream.count(f"/v1{path}")
    assert _count(relay, KEY_A, body).status_code == 200
    assert upstream.count(f"/v1{path}") == asked + 1  # fetched with A's key, kept for A
    assert _count(relay, KEY_A, body).status_code == 200
    assert upstream.count(f"/v1{path}") == asked + 1  # A's copy, found again under A
    # B is asked about upstream with B's own key (and the upstream says no): A's copy is
    # not B's, nor the anonymous caller's, who has no key to ask with.
    refused = _count(relay, KEY_B, body)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"].endswith("_not_found")
    assert any(hit == f"/v1{path}" and key == KEY_B for _, hit, key in upstream.hits)
    assert _count(relay, None, body).status_code == 400


def test_a_passed_through_response_is_the_callers_alone(relay: Any) -> None:
    a, b = openai_for(relay, KEY_A), openai_for(relay, KEY_B)
    made = a.responses.create(model="gpt-5", input="Tell A a joke.")
    assert a.responses.retrieve(made.id).id == made.id
    _not_found(lambda: b.responses.retrieve(made.id))
    _not_found(lambda: b.responses.input_items.list(made.id))
    _not_found(lambda: b.responses.delete(made.id))
    refused = _count(relay, KEY_B, {"previous_response_id": made.id, "input": "and?"})
    assert refused.json()["error"]["code"] == "previous_response_not_found"
    assert _count(relay, KEY_A, {"previous_response_id": made.id, "input": "and?"}).is_success
    a.responses.delete(made.id)  # the client answers None
    _not_found(lambda: a.responses.retrieve(made.id))


# -- start-up -------------------------------------------------------------------------------------


def test_keys_mode_names_the_mode() -> None:
    assert keys_mode(Settings()) == "keys: isolated per bearer key (no INPUTTOKENS_API_KEYS set)"
    assert keys_mode(Settings(api_keys=frozenset({"k1"}))) == "keys: 1 allowed key"
    assert keys_mode(Settings(api_keys=frozenset({"k1", "k2"}))) == "keys: 2 allowed keys"


@pytest.mark.parametrize(
    ("keys", "line"),
    [
        (None, "keys: isolated per bearer key (no INPUTTOKENS_API_KEYS set)"),
        ("sk-1,sk-2", "keys: 2 allowed keys"),
    ],
)
def test_serve_says_at_start_up_which_mode_it_runs_in(
    keys: str | None, line: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INPUTTOKENS_")}
    env.update(INPUTTOKENS_WARM_ENCODINGS="", INPUTTOKENS_DATA_DIR=str(tmp_path))
    if keys is not None:
        env["INPUTTOKENS_API_KEYS"] = keys
    seen: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-m", "inputtokens", "serve", "--port", "0", "--workers", "1"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    ) as proc:
        try:
            assert proc.stderr is not None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                got = proc.stderr.readline()
                if not got:
                    break
                seen.append(got.rstrip())
                if "Playground:" in got:  # the line after "Uvicorn running on ..."
                    break
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    assert f"INFO:     {line}" in seen, seen
    assert sum(s.startswith("INFO:     keys:") for s in seen) == 1
    # ...and where the playground page is, on the address it listens on.
    running = next(s for s in seen if "Uvicorn running on" in s)
    address = running.split(" on ", 1)[1].split(" ", 1)[0]
    assert seen[-1].startswith(f"INFO:     Playground: {address}/playground "), seen

"""The store commands (conversations, files, responses) and counts of stored state, through
click's CliRunner against a throwaway data directory (and once as a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from inputtokens.api.app import create_app
from inputtokens.cli import cli, owner_of
from inputtokens.settings import Settings
from inputtokens.state.store import store_for

USER_HI = {"role": "user", "content": "Hi there, how are you today?"}
ASSISTANT = {"role": "assistant", "content": "Very well, thank you. And you?"}
CALL = {
    "type": "function_call",
    "call_id": "call_1",
    "name": "get_weather",
    "arguments": '{"city":"Paris"}',
}
CALL_OUT = {"type": "function_call_output", "call_id": "call_1", "output": '{"temp_c": 18}'}
FOLLOW_UP = {"role": "user", "content": "And in Oslo?"}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    """A data directory of the test's own, whatever the environment says."""
    return {
        "INPUTTOKENS_DATA_DIR": str(tmp_path / "data"),
        "INPUTTOKENS_DATABASE_URL": None,
        "INPUTTOKENS_API_KEYS": None,
    }


@pytest.fixture
def run(env: dict[str, str | None]) -> Any:
    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)

    return invoke


def ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def error(result: Result, exit_code: int) -> dict[str, Any]:
    assert result.exit_code == exit_code, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return json.loads(result.stderr)["error"]


def make_conversation(run: Any, *items: dict[str, Any], key: str | None = None) -> str:
    args = [a for item in items for a in ("--item", json.dumps(item))]
    if key:
        args += ["--api-key", key]
    conv = ok(run("conversations", "create", *args))
    assert conv["object"] == "conversation"
    assert conv["id"].startswith("conv_")
    return str(conv["id"])


# ---- conversations ---------------------------------------------------------------------------


def test_conversation_lifecycle(run: Any, tmp_path: Path) -> None:
    conv = ok(
        run(
            "conversations",
            "create",
            "--item",
            json.dumps(USER_HI),
            "--metadata",
            "topic=weather",
            "--metadata",
            "note=a=b",
        )
    )
    conv_id = conv["id"]
    assert conv["metadata"] == {"topic": "weather", "note": "a=b"}
    assert ok(run("conversations", "get", conv_id)) == conv

    # Add from a file (an array) and from stdin (an HTTP-style body).
    items_file = tmp_path / "items.json"
    items_file.write_text(json.dumps([ASSISTANT, CALL]), encoding="utf-8")
    added = ok(run("conversations", "items", "add", conv_id, str(items_file)))
    assert added["object"] == "list"
    assert [i["type"] for i in added["data"]] == ["message", "function_call"]
    assert added["first_id"] == added["data"][0]["id"]
    assert added["data"][1]["id"].startswith("fc_")
    added2 = ok(
        run("conversations", "items", "add", conv_id, input=json.dumps({"items": [CALL_OUT]}))
    )
    assert added2["data"][0]["output"] == CALL_OUT["output"]

    # All four in order, oldest first, a page of two at a time.
    first = ok(run("conversations", "items", "list", conv_id, "--order", "asc", "--limit", "2"))
    assert first["has_more"] is True
    assert first["data"][0]["content"][0]["text"] == USER_HI["content"]
    assert first["data"][1]["id"] == added["data"][0]["id"]
    second = ok(
        run(
            "conversations",
            "items",
            "list",
            conv_id,
            "--order",
            "asc",
            "--limit",
            "2",
            "--after",
            first["last_id"],
        )
    )
    assert second["has_more"] is False
    assert [i["type"] for i in second["data"]] == ["function_call", "function_call_output"]
    newest = ok(run("conversations", "items", "list", conv_id))  # desc by default
    assert [i["id"] for i in newest["data"]] == [
        *reversed([i["id"] for i in second["data"]]),
        *reversed([i["id"] for i in first["data"]]),
    ]

    # One item read and deleted.
    call_id = added["data"][1]["id"]
    assert ok(run("conversations", "items", "get", conv_id, call_id))["name"] == "get_weather"
    assert ok(run("conversations", "items", "delete", conv_id, call_id))["id"] == conv_id
    error(run("conversations", "items", "get", conv_id, call_id), 1)
    remaining = ok(run("conversations", "items", "list", conv_id, "--order", "asc"))
    assert len(remaining["data"]) == 3
    assert call_id not in {i["id"] for i in remaining["data"]}

    # Metadata replaced, then cleared.
    updated = ok(run("conversations", "update", conv_id, "--metadata", "topic=oslo"))
    assert updated["metadata"] == {"topic": "oslo"}
    assert ok(run("conversations", "get", conv_id))["metadata"] == {"topic": "oslo"}
    assert ok(run("conversations", "update", conv_id, "--clear"))["metadata"] == {}

    assert ok(run("conversations", "delete", conv_id)) == {
        "id": conv_id,
        "object": "conversation.deleted",
        "deleted": True,
    }
    err = error(run("conversations", "get", conv_id), 1)
    assert err["message"] == f"Conversation with id '{conv_id}' not found."
    error(run("conversations", "delete", conv_id), 1)


def test_create_from_an_items_file_on_stdin(run: Any) -> None:
    conv = ok(
        run("conversations", "create", "--items-file", "-", input=json.dumps([USER_HI, ASSISTANT]))
    )
    listed = ok(run("conversations", "items", "list", conv["id"], "--order", "asc"))
    assert [i["role"] for i in listed["data"]] == ["user", "assistant"]
    assert conv["metadata"] == {}


def test_an_item_reference_is_stored_as_a_copy(run: Any) -> None:
    conv_id = make_conversation(run, USER_HI)
    item_id = ok(run("conversations", "items", "list", conv_id))["data"][0]["id"]
    other = make_conversation(run, {"type": "item_reference", "id": item_id})
    copied = ok(run("conversations", "items", "list", other))["data"][0]
    assert copied["type"] == "message"
    assert copied["id"] != item_id
    assert copied["content"][0]["text"] == USER_HI["content"]


@pytest.mark.parametrize(
    ("args", "stdin", "param", "code"),
    [
        (("--item", '{"role": "bogus", "content": "x"}'), None, "items[0].role", "invalid_value"),
        (("--item", "{not json"), None, None, "invalid_json"),
        (("--items-file", "-"), '{"role": "user"}', "items", "invalid_type"),
        (("--items-file", "-"), json.dumps([USER_HI] * 21), "items", "array_above_max_length"),
        (("--metadata", "k=" + "v" * 513), None, "metadata.k", "invalid_value"),
    ],
)
def test_create_rejects_what_the_api_rejects(
    run: Any, args: tuple[str, ...], stdin: str | None, param: str | None, code: str
) -> None:
    err = error(run("conversations", "create", *args, input=stdin), 2)
    assert (err["param"], err["code"]) == (param, code)
    assert err["type"] == "invalid_request_error"
    assert ok(run("files", "list"))["data"] == []  # (the store opened; nothing half-made)


def test_items_add_errors(run: Any) -> None:
    conv_id = make_conversation(run, USER_HI)
    err = error(run("conversations", "items", "add", conv_id, input=""), 2)
    assert err["message"] == "Missing required parameter: 'items'."
    err = error(
        run(
            "conversations",
            "items",
            "add",
            conv_id,
            "--item",
            '{"type": "item_reference", "id": "msg_nope"}',
        ),
        2,
    )
    assert (err["code"], err["param"]) == ("item_not_found", "items[0].id")
    err = error(run("conversations", "items", "add", "conv_nope", "--item", json.dumps(USER_HI)), 1)
    assert err["message"] == "Conversation with id 'conv_nope' not found."
    # Nothing was added by the failures.
    assert len(ok(run("conversations", "items", "list", conv_id))["data"]) == 1


def test_usage_errors_exit_2(run: Any) -> None:
    conv_id = make_conversation(run)
    assert run("conversations", "update", conv_id, "--metadata", "novalue").exit_code == 2
    err = error(run("conversations", "update", conv_id), 2)
    assert err["code"] == "missing_required_parameter"
    assert run("conversations", "items", "list", conv_id, "--limit", "0").exit_code == 2
    assert run("conversations", "items", "list", conv_id, "--order", "up").exit_code == 2


# ---- owners ----------------------------------------------------------------------------------


def test_api_keys_isolate_owners(run: Any) -> None:
    mine = make_conversation(run, USER_HI, key="sk-alice")
    assert ok(run("conversations", "get", mine, "--api-key", "sk-alice"))["id"] == mine
    error(run("conversations", "get", mine), 1)  # the keyless owner
    error(run("conversations", "get", mine, "--api-key", "sk-bob"), 1)
    error(run("conversations", "items", "list", mine, "--api-key", "sk-bob"), 1)
    error(run("conversations", "delete", mine, "--api-key", "sk-bob"), 1)
    assert ok(run("conversations", "get", mine, "--api-key", "sk-alice"))["id"] == mine


def test_the_owner_is_the_servers(env: dict[str, str | None], run: Any) -> None:
    """What a keyed server stores for a key, the CLI reads with that --api-key, and back."""
    settings = Settings(
        api_keys=frozenset({"sk-server"}), data_dir=str(env["INPUTTOKENS_DATA_DIR"])
    )
    client = TestClient(create_app(settings))
    auth = {"Authorization": "Bearer sk-server"}
    made = client.post("/v1/conversations", json={"metadata": {"via": "http"}}, headers=auth)
    assert made.status_code == 200, made.text
    conv_id = made.json()["id"]
    assert ok(run("conversations", "get", conv_id, "--api-key", "sk-server")) == made.json()
    error(run("conversations", "get", conv_id), 1)

    cli_conv = make_conversation(run, USER_HI, key="sk-server")
    got = client.get(f"/v1/conversations/{cli_conv}/items", headers=auth)
    assert got.status_code == 200, got.text
    assert got.json()["data"][0]["content"][0]["text"] == USER_HI["content"]
    assert owner_of("sk-server") != owner_of(None) == ""


# ---- counting with stored state ----------------------------------------------------------------


def test_count_of_a_conversation_equals_the_items_inline(run: Any) -> None:
    history = [USER_HI, ASSISTANT, CALL, CALL_OUT]
    conv_id = make_conversation(run, *history)
    stored = run(
        "count", input=json.dumps({"model": "gpt-5", "conversation": conv_id, "input": [FOLLOW_UP]})
    )
    inline = run("count", input=json.dumps({"model": "gpt-5", "input": [*history, FOLLOW_UP]}))
    alone = run("count", input=json.dumps({"model": "gpt-5", "input": [FOLLOW_UP]}))
    assert stored.exit_code == inline.exit_code == alone.exit_code == 0, stored.stderr
    assert int(stored.stdout) == int(inline.stdout) > int(alone.stdout)


def test_count_acts_as_the_api_keys_owner(run: Any) -> None:
    conv_id = make_conversation(run, USER_HI, ASSISTANT, key="sk-alice")
    body = json.dumps({"model": "gpt-5", "conversation": conv_id, "input": "Thanks"})
    inline = json.dumps(
        {"model": "gpt-5", "input": [USER_HI, ASSISTANT, {"role": "user", "content": "Thanks"}]}
    )
    counted = run("count", "--api-key", "sk-alice", input=body)
    assert counted.exit_code == 0, counted.stderr
    assert int(counted.stdout) == int(run("count", input=inline).stdout)
    err = error(run("count", input=body), 1)  # another owner's conversation is not there
    assert conv_id in err["message"]


def test_count_of_an_uploaded_file(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("The quick brown fox jumps over the lazy dog. " * 20, encoding="utf-8")
    file_id = ok(run("files", "upload", str(path), "--api-key", "sk-alice"))["id"]
    body = json.dumps(
        {
            "model": "gpt-5",
            "input": [{"role": "user", "content": [{"type": "input_file", "file_id": file_id}]}],
        }
    )
    counted = run("count", "--json", "--api-key", "sk-alice", input=body)
    assert counted.exit_code == 0, counted.stderr
    assert json.loads(counted.stdout)["input_tokens_details"]["file_tokens"] > 100
    assert run("count", input=body).exit_code == 1  # the keyless owner has no such file


# ---- files -----------------------------------------------------------------------------------


def test_files_roundtrip(run: Any, tmp_path: Path) -> None:
    data = bytes(range(256)) * 3
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    uploaded = ok(run("files", "upload", str(path)))
    assert uploaded["object"] == "file"
    assert (uploaded["filename"], uploaded["bytes"], uploaded["purpose"]) == (
        "blob.bin",
        len(data),
        "user_data",
    )
    other = ok(run("files", "upload", str(path), "--purpose", "assistants"))
    assert other["purpose"] == "assistants"

    listed = ok(run("files", "list"))
    assert listed["object"] == "list"
    assert {f["id"] for f in listed["data"]} == {uploaded["id"], other["id"]}
    assert ok(run("files", "get", uploaded["id"])) == uploaded

    content = run("files", "content", uploaded["id"])
    assert content.exit_code == 0
    assert content.stdout_bytes == data
    out = tmp_path / "out.bin"
    written = run("files", "content", uploaded["id"], "-o", str(out))
    assert written.exit_code == 0 and written.stdout_bytes == b""
    assert out.read_bytes() == data

    assert ok(run("files", "delete", uploaded["id"])) == {
        "id": uploaded["id"],
        "object": "file",
        "deleted": True,
    }
    err = error(run("files", "get", uploaded["id"]), 1)
    assert err["message"] == f"No such File object: {uploaded['id']}"
    error(run("files", "content", uploaded["id"], "-o", str(tmp_path / "none.bin")), 1)
    assert not (tmp_path / "none.bin").exists()
    error(run("files", "delete", uploaded["id"]), 1)
    assert [f["id"] for f in ok(run("files", "list"))["data"]] == [other["id"]]


def test_files_are_per_owner(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("alice's", encoding="utf-8")
    file_id = ok(run("files", "upload", str(path), "--api-key", "sk-alice"))["id"]
    assert ok(run("files", "list"))["data"] == []
    assert ok(run("files", "list", "--api-key", "sk-bob"))["data"] == []
    error(run("files", "content", file_id, "--api-key", "sk-bob"), 1)
    error(run("files", "delete", file_id), 1)
    assert run("files", "content", file_id, "--api-key", "sk-alice").stdout_bytes == b"alice's"


def test_upload_respects_max_file_bytes(env: dict[str, str | None], tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 101)
    small = {**env, "INPUTTOKENS_MAX_FILE_BYTES": "100"}
    result = CliRunner().invoke(cli, ["files", "upload", str(path)], env=small)
    err = error(result, 2)
    assert err["code"] == "file_too_large"
    assert "100 bytes" in err["message"]
    path.write_bytes(b"x" * 100)
    result = CliRunner().invoke(cli, ["files", "upload", str(path)], env=small)
    assert ok(result)["bytes"] == 100


def test_database_url_option(run: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    conv_id = make_conversation(run, USER_HI)
    error(run("conversations", "get", conv_id, "--database-url", url), 1)
    elsewhere = ok(run("conversations", "create", "--database-url", url))["id"]
    assert ok(run("conversations", "get", elsewhere, "--database-url", url))["id"] == elsewhere
    error(run("conversations", "get", elsewhere), 1)
    assert (tmp_path / "other.db").exists()


def test_files_content_through_real_stdout(env: dict[str, str | None], tmp_path: Path) -> None:
    data = b"\x00\xff\xfe binary \r\n\x80"
    path = tmp_path / "raw.bin"
    path.write_bytes(data)
    sub_env = {k: v for k, v in os.environ.items() if not k.startswith("INPUTTOKENS_")}
    sub_env["INPUTTOKENS_DATA_DIR"] = str(env["INPUTTOKENS_DATA_DIR"])
    file_id = ok(CliRunner().invoke(cli, ["files", "upload", str(path)], env=env))["id"]
    proc = subprocess.run(
        [sys.executable, "-m", "inputtokens", "files", "content", file_id],
        capture_output=True,
        env=sub_env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == data


# ---- responses -------------------------------------------------------------------------------

RESPONSE = {
    "id": "resp_0123456789abcdef",
    "object": "response",
    "created_at": 1_700_000_000,
    "status": "completed",
    "model": "gpt-5",
    "previous_response_id": None,
    "output": [
        {
            "type": "message",
            "id": "msg_out_1",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "Hello!", "annotations": []}],
        }
    ],
}


def test_stored_responses(env: dict[str, str | None], run: Any) -> None:
    store = store_for(Settings(data_dir=str(env["INPUTTOKENS_DATA_DIR"])).store_url())
    store.put_response(owner_of("sk-alice"), RESPONSE, [USER_HI, ASSISTANT, FOLLOW_UP])
    resp_id = RESPONSE["id"]
    assert ok(run("responses", "get", resp_id, "--api-key", "sk-alice")) == RESPONSE
    err = error(run("responses", "get", resp_id), 1)
    assert err["message"] == f"Response with id '{resp_id}' not found."

    page = ok(
        run(
            "responses",
            "input-items",
            resp_id,
            "--api-key",
            "sk-alice",
            "--order",
            "asc",
            "--limit",
            "2",
        )
    )
    assert [i["role"] for i in page["data"]] == ["user", "assistant"]
    assert page["has_more"] is True
    rest = ok(
        run(
            "responses",
            "input-items",
            resp_id,
            "--api-key",
            "sk-alice",
            "--order",
            "asc",
            "--after",
            page["last_id"],
        )
    )
    assert [i["content"][0]["text"] for i in rest["data"]] == [FOLLOW_UP["content"]]
    error(run("responses", "input-items", resp_id), 1)

    # A count continuing it: its input and its output come first.
    follow = json.dumps({"model": "gpt-5", "previous_response_id": resp_id, "input": "Bye"})
    inline = json.dumps(
        {
            "model": "gpt-5",
            "input": [
                USER_HI,
                ASSISTANT,
                FOLLOW_UP,
                RESPONSE["output"][0],
                {"role": "user", "content": "Bye"},
            ],
        }
    )
    counted = run("count", "--api-key", "sk-alice", input=follow)
    assert counted.exit_code == 0, counted.stderr
    assert int(counted.stdout) == int(run("count", input=inline).stdout)

    error(run("responses", "delete", resp_id), 1)
    assert ok(run("responses", "delete", resp_id, "--api-key", "sk-alice"))["deleted"] is True
    error(run("responses", "get", resp_id, "--api-key", "sk-alice"), 1)


def test_import_for_real(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "response.json"
    path.write_text(json.dumps(RESPONSE), encoding="utf-8")
    result = run("responses", "import", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == [RESPONSE["id"]]
    assert ok(run("responses", "get", RESPONSE["id"]))["id"] == RESPONSE["id"]
    err = error(run("responses", "import", "-", input="{not json"), 2)
    assert err["message"]
    # Imported as a key's owner, the response is that key's alone.
    assert run("responses", "import", str(path), "--api-key", "sk-alice").exit_code == 0
    assert ok(run("responses", "get", RESPONSE["id"], "--api-key", "sk-alice"))["id"]

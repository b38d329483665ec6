"""The Files API and file ids in counts: the real openai client against a real server and store.

The server has two API keys; each key's files are its own (404 for the other key, and a count
that names another key's file id is a 400, never a count of its content).
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import NotFoundError, OpenAI
from tests.clients import openai_for

from inputtokens import InvalidRequestError, Settings, count_input_tokens
from inputtokens.library import local_sources
from inputtokens.state.store import MIGRATIONS, Store

KEY_A, KEY_B = "sk-files-a", "sk-files-b"
NOTES = "Meeting notes\n- ship the counter\n- measure twice\n" * 10


@pytest.fixture(scope="module")
def server(database_url: str, start_server: Callable[[Settings], Any]) -> Any:
    # Both backends: `database_url` is a fresh SQLite file, then a fresh PostgreSQL database.
    return start_server(
        Settings(
            api_keys=frozenset({KEY_A, KEY_B}), database_url=database_url, max_file_bytes=100_000
        )
    )


def _client(server: Any, key: str) -> OpenAI:
    return openai_for(server, key)


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


def test_upload_then_count_by_id_equals_inline(server: Any) -> None:
    client = _client(server, KEY_A)
    uploaded = client.files.create(
        file=("notes.txt", NOTES.encode(), "text/plain"), purpose="user_data"
    )
    assert uploaded.id.startswith("file-")
    assert (uploaded.filename, uploaded.bytes, uploaded.purpose) == (
        "notes.txt",
        len(NOTES.encode()),
        "user_data",
    )
    assert client.files.retrieve(uploaded.id).filename == "notes.txt"
    assert client.files.content(uploaded.id).read() == NOTES.encode()
    assert uploaded.id in [f.id for f in client.files.list()]

    by_id = client.responses.input_tokens.count(**_file_body({"file_id": uploaded.id}))
    inline = count_input_tokens(
        _file_body(
            {"filename": "notes.txt", "file_data": base64.b64encode(NOTES.encode()).decode()}
        )
    )
    assert by_id.input_tokens == inline.input_tokens


def test_stored_image_is_counted_at_its_size(server: Any) -> None:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (128, 64)).save(buffer, "PNG")
    client = _client(server, KEY_A)
    uploaded = client.files.create(
        file=("dot.png", buffer.getvalue(), "image/png"), purpose="vision"
    )
    result = client.responses.input_tokens.count(
        model="gpt-4o",
        input=[
            {
                "role": "user",
                "content": [{"type": "input_image", "file_id": uploaded.id, "detail": "high"}],
            }
        ],
    )
    inline = count_input_tokens(
        {
            "model": "gpt-4o",
            "input": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "input_image",
                            "detail": "high",
                            "image_url": "data:image/png;base64,"
                            + base64.b64encode(buffer.getvalue()).decode(),
                        }
                    ],
                }
            ],
        }
    )
    assert result.input_tokens == inline.input_tokens


def test_files_are_isolated_by_key(server: Any) -> None:
    owner_a, owner_b = _client(server, KEY_A), _client(server, KEY_B)
    secret = owner_a.files.create(
        file=("secret.txt", b"the launch code is 0000", "text/plain"), purpose="user_data"
    )
    with pytest.raises(NotFoundError):
        owner_b.files.retrieve(secret.id)
    with pytest.raises(NotFoundError):
        owner_b.files.content(secret.id)
    with pytest.raises(NotFoundError):
        owner_b.files.delete(secret.id)
    assert secret.id not in [f.id for f in owner_b.files.list()]
    response = httpx.post(
        f"{server.base_url}/v1/responses/input_tokens",
        headers={"Authorization": f"Bearer {KEY_B}"},
        json=_file_body({"file_id": secret.id}),
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "file_not_found"
    assert response.json()["error"]["param"] == "input[0].content[1].file_id"
    assert owner_a.files.retrieve(secret.id).id == secret.id  # still there for its owner


def test_delete_then_the_id_is_unknown(server: Any) -> None:
    client = _client(server, KEY_A)
    uploaded = client.files.create(
        file=("gone.md", b"# gone", "text/markdown"), purpose="user_data"
    )
    deleted = client.files.delete(uploaded.id)
    assert deleted.deleted and deleted.id == uploaded.id
    with pytest.raises(NotFoundError):
        client.files.retrieve(uploaded.id)


def test_upload_errors_are_openai_shaped(server: Any) -> None:
    url = f"{server.base_url}/v1/files"
    headers = {"Authorization": f"Bearer {KEY_A}"}
    missing = httpx.post(url, headers=headers, files={"file": ("a.txt", b"x")}, timeout=10)
    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "purpose"
    too_big = httpx.post(
        url,
        headers=headers,
        data={"purpose": "user_data"},
        files={"file": ("big.txt", b"x" * 200_000)},
        timeout=10,
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "file_too_large"
    anonymous = httpx.post(
        url, data={"purpose": "user_data"}, files={"file": ("a.txt", b"x")}, timeout=10
    )
    assert anonymous.status_code == 401


def test_library_counts_resolve_file_ids_from_the_store(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path))
    stored = Store(settings.store_url()).put_file("", "plan.txt", "user_data", b"step one")
    result = count_input_tokens(
        _file_body({"file_id": stored.id}), settings=settings, sources=local_sources(settings)
    )
    assert result.details["file_tokens"] > 0
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens(
            _file_body({"file_id": "file-unknown"}),
            settings=settings,
            sources=local_sources(settings),
        )
    assert info.value.code == "file_not_found"


def test_migrations_are_recorded_and_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    first = Store(url)
    assert first.schema_version() == MIGRATIONS[-1][0]
    first.put_file("", "keep.txt", "user_data", b"kept")
    first.close()
    again = Store(url)  # reopening applies nothing twice and loses nothing
    assert [f.filename for f in again.list_files("")] == ["keep.txt"]
    again.close()
    with sqlite3.connect(tmp_path / "a.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_migrations")]
    assert versions == [v for v, _ in MIGRATIONS]

"""The store on both backends (SQLite and PostgreSQL, the `database_url` fixture): migrations,
files, conversations and their items, stored responses, and owner isolation.

Every test works under owners of its own, so the tests of a module share one database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from inputtokens.library import open_store
from inputtokens.settings import Settings
from inputtokens.state import store as store_module
from inputtokens.state.records import new_id
from inputtokens.state.store import MIGRATIONS, Store, schema_migrations


@pytest.fixture(scope="module")
def store(database_url: str) -> Iterator[Store]:
    opened = Store(database_url)
    yield opened
    opened.close()


@pytest.fixture
def owner() -> str:
    return new_id("owner-")


@pytest.fixture
def other() -> str:
    return new_id("other-")


def _message(text: str, item_id: str | None = None, role: str = "user") -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "message",
        "role": role,
        "content": [{"type": "input_text", "text": text}],
    }
    if item_id is not None:
        item["id"] = item_id
    return item


def _texts(items: list[dict[str, Any]]) -> list[str]:
    return [item["content"][0]["text"] for item in items]


def _versions(url: str) -> list[tuple[int, int]]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return [
                tuple(row)
                for row in conn.execute(  # type: ignore[misc]
                    sa.select(schema_migrations.c.version, schema_migrations.c.applied_at).order_by(
                        schema_migrations.c.version
                    )
                )
            ]
    finally:
        engine.dispose()


# ---- migrations ------------------------------------------------------------------------------


def test_migrations_are_numbered_in_order_and_released_ones_stay() -> None:
    versions = [version for version, _ in MIGRATIONS]
    assert versions == list(range(1, len(MIGRATIONS) + 1))
    # Released migrations are never edited or reordered; new ones are appended.
    assert [(v, step.__name__) for v, step in MIGRATIONS[:2]] == [
        (1, "_create_files"),
        (2, "_create_state"),
    ]


def test_fresh_database_records_every_migration(store: Store, database_url: str) -> None:
    assert store.schema_version() == MIGRATIONS[-1][0]
    assert [v for v, _ in _versions(database_url)] == [v for v, _ in MIGRATIONS]


def test_version_1_database_upgrades_keeping_its_files(
    new_database_url: Callable[[str], str],
) -> None:
    url = new_database_url("v1")
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:  # the database as the first release left it
        schema_migrations.create(conn)
        for version, step in MIGRATIONS[:1]:
            step(conn)
            conn.execute(schema_migrations.insert().values(version=version, applied_at=111))
        conn.execute(
            store_module.files.insert().values(
                id="file-old",
                owner="o",
                filename="old.bin",
                purpose="user_data",
                bytes=3,
                created_at=5,
                data=b"\x00\xffx",
            )
        )
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("items")
    engine.dispose()

    upgraded = Store(url)
    try:
        assert upgraded.schema_version() == MIGRATIONS[-1][0]
        versions = _versions(url)
        assert [v for v, _ in versions] == [v for v, _ in MIGRATIONS]
        assert versions[0] == (1, 111)  # migration 1 was not run again
        kept = upgraded.file_with_content("o", "file-old")
        assert kept is not None
        assert (kept[0].filename, kept[0].bytes, kept[0].created_at, kept[1]) == (
            "old.bin",
            3,
            5,
            b"\x00\xffx",
        )
        conv = upgraded.create_conversation("o", {}, [_message("new tables work")])
        assert _texts(upgraded.conversation_items("o", conv.id) or []) == ["new tables work"]
    finally:
        upgraded.close()


def test_reopening_runs_no_migration_again(
    new_database_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_database_url("reopen")
    first = Store(url)
    stored = first.put_file("o", "keep.txt", "user_data", b"kept")
    first.close()
    before = _versions(url)

    ran: list[int] = []

    def tripwire(version: int) -> Callable[[sa.Connection], None]:
        def step(conn: sa.Connection) -> None:
            ran.append(version)
            raise AssertionError(f"migration {version} ran again")

        return step

    monkeypatch.setattr(store_module, "MIGRATIONS", tuple((v, tripwire(v)) for v, _ in MIGRATIONS))
    again = Store(url)
    try:
        assert ran == []
        assert _versions(url) == before
        assert [f.id for f in again.list_files("o")] == [stored.id]
    finally:
        again.close()


def test_a_new_migration_is_applied_once_on_open(
    new_database_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_database_url("append")
    Store(url).close()
    extra = sa.Table("migration_probe", sa.MetaData(), sa.Column("n", sa.Integer))
    calls: list[int] = []

    def step(conn: sa.Connection) -> None:
        calls.append(1)
        extra.create(conn)

    latest = MIGRATIONS[-1][0]
    monkeypatch.setattr(store_module, "MIGRATIONS", (*MIGRATIONS, (latest + 1, step)))
    for _ in range(2):
        Store(url).close()
    assert calls == [1]
    assert [v for v, _ in _versions(url)][-1] == latest + 1


def test_a_failing_migration_leaves_nothing_behind(
    new_database_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_database_url("failing")
    Store(url).close()
    half = sa.Table("half_made", sa.MetaData(), sa.Column("n", sa.Integer))

    def broken(conn: sa.Connection) -> None:
        half.create(conn)
        raise RuntimeError("the step fails after its first statement")

    latest = MIGRATIONS[-1][0]
    monkeypatch.setattr(store_module, "MIGRATIONS", (*MIGRATIONS, (latest + 1, broken)))
    with pytest.raises(RuntimeError):
        Store(url)
    assert [v for v, _ in _versions(url)] == [v for v, _ in MIGRATIONS]
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:  # the step's DDL went with its transaction
            assert not sa.inspect(conn).has_table("half_made")
    finally:
        engine.dispose()
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)
    Store(url).close()  # and the database still opens


def test_concurrent_opens_of_a_new_database_migrate_it_once(
    new_database_url: Callable[[str], str],
) -> None:
    """Server workers (separate processes, here separate engines) open the store together."""
    url = new_database_url("race")
    barrier = threading.Barrier(4)
    errors: list[str] = []

    def open_store() -> None:
        try:
            barrier.wait(timeout=10)
            Store(url).close()
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert [v for v, _ in _versions(url)] == [v for v, _ in MIGRATIONS]


# ---- durability ------------------------------------------------------------------------------


def _sqlite_pragmas(store: Store) -> tuple[int, str]:
    """``synchronous`` (0 OFF, 1 NORMAL, 2 FULL) and ``journal_mode`` of a pooled connection."""
    with store.engine.connect() as conn:
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    return int(synchronous), str(journal)


def test_sqlite_store_syncs_every_commit(tmp_path: Path) -> None:
    """The store the server and the CLI open (``open_store`` of the settings' URL) commits with
    ``synchronous=FULL`` in WAL mode: an acknowledged write survives power loss, not only a
    killed process. Every connection of the pool gets it, not only the first."""
    store = open_store(Settings(data_dir=str(tmp_path / "data")).store_url())
    try:
        assert _sqlite_pragmas(store) == (2, "wal")
        with store.engine.connect() as first, store.engine.connect() as second:
            for conn in (first, second):
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    finally:
        store.close()


def test_sqlite_synchronous_normal_on_request(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'normal.db'}", sqlite_synchronous="NORMAL")
    try:
        assert _sqlite_pragmas(store) == (1, "wal")
    finally:
        store.close()
    with pytest.raises(ValueError, match="FULL or NORMAL"):
        Store(f"sqlite:///{tmp_path / 'off.db'}", sqlite_synchronous="OFF")


# ---- files -----------------------------------------------------------------------------------


def test_files_put_get_list_delete(store: Store, owner: str) -> None:
    payload = bytes(range(256)) * 40  # every byte value, NUL included
    first = store.put_file(owner, "all-bytes.bin", "user_data", payload)
    second = store.put_file(owner, "naïve ✓.txt", "assistants", b"")
    assert first.id.startswith("file-") and first.id != second.id
    assert first.bytes == len(payload) and second.bytes == 0

    assert store.get_file(owner, first.id) == first
    assert store.get_file(owner, second.id) == second
    found = store.file_with_content(owner, first.id)
    assert found is not None and found == (first, payload)
    assert isinstance(found[1], bytes)
    assert store.file_with_content(owner, second.id) == (second, b"")

    listed = store.list_files(owner)
    assert sorted(f.id for f in listed) == sorted([first.id, second.id])
    assert {f.filename for f in listed} == {"all-bytes.bin", "naïve ✓.txt"}
    assert len(store.list_files(owner, limit=1)) == 1

    assert store.delete_file(owner, first.id) is True
    assert store.delete_file(owner, first.id) is False
    assert store.get_file(owner, first.id) is None
    assert store.file_with_content(owner, first.id) is None
    assert [f.id for f in store.list_files(owner)] == [second.id]
    assert store.get_file(owner, "file-unknown") is None


def test_files_list_newest_first(store: Store, owner: str) -> None:
    ids = [store.put_file(owner, f"{n}.txt", "user_data", b"x").id for n in range(3)]
    with store.engine.begin() as conn:  # distinct creation times, oldest first
        for age, file_id in enumerate(reversed(ids)):
            conn.execute(
                store_module.files.update()
                .where(store_module.files.c.id == file_id)
                .values(created_at=1_000 - age)
            )
    assert [f.id for f in store.list_files(owner)] == list(reversed(ids))
    assert [f.id for f in store.list_files(owner, limit=2)] == list(reversed(ids))[:2]


# ---- conversations ---------------------------------------------------------------------------


def test_conversation_create_get_update_delete(store: Store, owner: str) -> None:
    conv = store.create_conversation(
        owner, {"topic": "tëst ✓", "n": "1"}, [_message("hello"), _message("hi", role="assistant")]
    )
    assert conv.id.startswith("conv_")
    got = store.get_conversation(owner, conv.id)
    assert got == conv and got.metadata == {"topic": "tëst ✓", "n": "1"}
    assert got.to_openai()["object"] == "conversation"
    assert _texts(store.conversation_items(owner, conv.id) or []) == ["hello", "hi"]

    updated = store.update_conversation(owner, conv.id, {"topic": "new"})
    assert updated is not None and updated.metadata == {"topic": "new"}
    assert updated.created_at == conv.created_at
    # Setting the same metadata again still finds the conversation (a matched row).
    assert store.update_conversation(owner, conv.id, {"topic": "new"}) == updated
    assert store.get_conversation(owner, conv.id) == updated
    assert store.update_conversation(owner, "conv_unknown", {"a": "b"}) is None

    assert store.delete_conversation(owner, conv.id) is True
    assert store.get_conversation(owner, conv.id) is None
    assert store.delete_conversation(owner, conv.id) is False
    assert store.list_items(owner, conv.id) is None
    assert store.conversation_items(owner, conv.id) is None
    assert store.add_items(owner, conv.id, [_message("late")]) is None
    assert store.update_conversation(owner, conv.id, {"a": "b"}) is None


def test_items_get_ids_and_keep_their_own(store: Store, owner: str) -> None:
    conv = store.create_conversation(owner, {}, [])
    added = store.add_items(
        owner,
        conv.id,
        [
            {"role": "user", "content": "plain string"},
            _message("mine", item_id="msg_client_given"),
            {"type": "function_call_output", "call_id": "c1", "output": "42"},
        ],
    )
    assert added is not None
    assert added[0]["id"].startswith("msg_") and added[0]["type"] == "message"
    assert added[0]["content"] == [{"type": "input_text", "text": "plain string"}]
    assert added[1]["id"] == "msg_client_given"
    assert added[2]["id"].startswith("fco_")
    assert store.conversation_items(owner, conv.id) == added
    assert store.get_item(owner, "msg_client_given", conv.id) == added[1]


def test_items_pagination(store: Store, owner: str) -> None:
    conv = store.create_conversation(owner, {}, [_message("m00")])
    for start in range(1, 25, 8):
        assert store.add_items(
            owner, conv.id, [_message(f"m{n:02d}") for n in range(start, min(start + 8, 25))]
        )
    everything = [f"m{n:02d}" for n in range(25)]
    all_items = store.conversation_items(owner, conv.id)
    assert all_items is not None and _texts(all_items) == everything
    ids = [item["id"] for item in all_items]
    assert len(set(ids)) == 25

    def pages(order: str, limit: int) -> list[list[str]]:
        out, after = [], None
        while True:
            page = store.list_items(owner, conv.id, limit=limit, order=order, after=after)
            assert page is not None
            out.append(_texts(page.data))
            if not page.has_more:
                return out
            assert page.data, "has_more with an empty page"
            after = page.data[-1]["id"]

    assert pages("asc", 10) == [everything[:10], everything[10:20], everything[20:]]
    backwards = everything[::-1]
    assert pages("desc", 10) == [backwards[:10], backwards[10:20], backwards[20:]]
    assert pages("asc", 25) == [everything]  # exactly all: no further page
    assert pages("desc", 100) == [backwards]

    default = store.list_items(owner, conv.id)  # 20 newest first
    assert default is not None and _texts(default.data) == backwards[:20] and default.has_more
    page = store.list_items(owner, conv.id, limit=3, order="asc", after=ids[5])
    assert page is not None and _texts(page.data) == everything[6:9] and page.has_more
    page = store.list_items(owner, conv.id, limit=3, order="desc", after=ids[5])
    assert page is not None and _texts(page.data) == everything[4:1:-1] and page.has_more
    last = store.list_items(owner, conv.id, limit=5, order="asc", after=ids[-1])
    assert last is not None and (last.data, last.has_more) == ([], False)
    unknown = store.list_items(owner, conv.id, limit=5, order="asc", after="msg_unknown")
    assert unknown is not None and (unknown.data, unknown.has_more) == ([], False)
    openai = store.list_items(owner, conv.id, limit=2, order="asc")
    assert openai is not None
    assert openai.to_openai() == {
        "object": "list",
        "data": all_items[:2],
        "first_id": ids[0],
        "last_id": ids[1],
        "has_more": True,
    }


def test_items_cursor_of_another_conversation_is_unknown(store: Store, owner: str) -> None:
    one = store.create_conversation(owner, {}, [_message("a1"), _message("a2")])
    two = store.create_conversation(owner, {}, [_message("b1"), _message("b2")])
    foreign = (store.conversation_items(owner, two.id) or [])[0]["id"]
    page = store.list_items(owner, one.id, order="asc", after=foreign)
    assert page is not None and page.data == []
    assert store.get_item(owner, foreign, one.id) is None
    assert store.get_item(owner, foreign, two.id) is not None
    assert store.get_item(owner, foreign) is not None


def test_item_get_and_delete(store: Store, owner: str) -> None:
    conv = store.create_conversation(owner, {}, [_message("keep"), _message("drop")])
    keep, drop = store.conversation_items(owner, conv.id) or []
    assert store.get_item(owner, drop["id"], conv.id) == drop
    assert store.delete_item(owner, conv.id, drop["id"]) is True
    assert store.delete_item(owner, conv.id, drop["id"]) is False
    assert store.get_item(owner, drop["id"], conv.id) is None
    assert store.get_item(owner, drop["id"]) is None
    assert store.conversation_items(owner, conv.id) == [keep]
    assert store.delete_item(owner, conv.id, "msg_unknown") is False


def test_json_text_round_trips_exactly(store: Store, owner: str) -> None:
    odd = 'NUL\u0000 tab\t quote" backslash\\ emoji 🧪 ÿ \u2028 ' + "long " * 4000
    conv = store.create_conversation(owner, {"k": "ü\u0000"}, [_message(odd)])
    assert _texts(store.conversation_items(owner, conv.id) or []) == [odd]
    assert (store.get_conversation(owner, conv.id) or conv).metadata == {"k": "ü\u0000"}


# ---- stored responses ------------------------------------------------------------------------


def _response(
    resp_id: str, outputs: list[str], conversation: str | None = None, previous: str | None = None
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "id": resp_id,
        "object": "response",
        "created_at": 1_700_000_000,
        "model": "gpt-5",
        "previous_response_id": previous,
        "output": [
            {
                "type": "message",
                "id": f"msg_{resp_id}_{n}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
            for n, text in enumerate(outputs)
        ],
    }
    if conversation is not None:
        response["conversation"] = {"id": conversation}
    return response


def test_response_items_are_inputs_then_outputs(store: Store, owner: str) -> None:
    resp_id = new_id("resp_")
    response = _response(resp_id, ["out1", "out2"])
    store.put_response(owner, response, [_message("in1"), _message("in2"), _message("in3")])
    assert store.get_response(owner, resp_id) == response
    found = store.response_items(owner, resp_id)
    assert found is not None
    assert found[0] == response
    assert _texts(found[1]) == ["in1", "in2", "in3", "out1", "out2"]
    inputs = store.list_input_items(owner, resp_id, order="asc")
    assert inputs is not None and _texts(inputs.data) == ["in1", "in2", "in3"]
    newest = store.list_input_items(owner, resp_id, limit=2)
    assert newest is not None and _texts(newest.data) == ["in3", "in2"] and newest.has_more
    assert store.response_items(owner, "resp_unknown") is None
    assert store.list_input_items(owner, "resp_unknown") is None


def test_putting_a_response_again_replaces_it(store: Store, owner: str) -> None:
    resp_id = new_id("resp_")
    store.put_response(owner, _response(resp_id, ["old out"]), [_message("old in")])
    replacement = _response(resp_id, ["new out"])
    replacement["model"] = "gpt-5-mini"
    store.put_response(owner, replacement, [_message("new in")])
    assert store.get_response(owner, resp_id) == replacement
    found = store.response_items(owner, resp_id)
    assert found is not None and _texts(found[1]) == ["new in", "new out"]
    with store.engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(store_module.responses)
            .where(store_module.responses.c.id == resp_id)
        ).scalar()
    assert count == 1


def test_response_in_a_conversation_joins_it_and_outlives_it(store: Store, owner: str) -> None:
    conv = store.create_conversation(owner, {}, [_message("before")])
    resp_id = new_id("resp_")
    store.put_response(
        owner, _response(resp_id, ["answer"], conversation=conv.id), [_message("question")]
    )
    assert _texts(store.conversation_items(owner, conv.id) or []) == [
        "before",
        "question",
        "answer",
    ]
    only_conv = (store.conversation_items(owner, conv.id) or [])[0]["id"]

    assert store.delete_conversation(owner, conv.id) is True
    found = store.response_items(owner, resp_id)
    assert found is not None and _texts(found[1]) == ["question", "answer"]
    assert store.get_item(owner, found[1][0]["id"]) == found[1][0]
    assert store.get_item(owner, only_conv) is None  # the conversation's own item went with it
    assert store.get_item(owner, found[1][0]["id"], conv.id) is None

    assert store.delete_response(owner, resp_id) is True
    assert store.get_response(owner, resp_id) is None
    assert store.response_items(owner, resp_id) is None
    assert store.get_item(owner, found[1][0]["id"]) is None
    assert store.delete_response(owner, resp_id) is False


def test_deleting_a_response_keeps_its_items_in_the_conversation(store: Store, owner: str) -> None:
    conv = store.create_conversation(owner, {}, [])
    resp_id = new_id("resp_")
    store.put_response(owner, _response(resp_id, ["a"], conversation=conv.id), [_message("q")])
    assert store.delete_response(owner, resp_id) is True
    assert _texts(store.conversation_items(owner, conv.id) or []) == ["q", "a"]


# ---- owner isolation -------------------------------------------------------------------------


def test_another_owner_sees_and_changes_nothing(store: Store, owner: str, other: str) -> None:
    secret = b"the launch code is 0000"
    file = store.put_file(owner, "secret.txt", "user_data", secret)
    conv = store.create_conversation(owner, {"who": "owner"}, [_message("private")])
    item_id = (store.conversation_items(owner, conv.id) or [])[0]["id"]
    resp_id = new_id("resp_")
    response = _response(resp_id, ["private answer"], conversation=conv.id)
    store.put_response(owner, response, [_message("private question")])
    before = store.conversation_items(owner, conv.id)

    # Files.
    assert store.get_file(other, file.id) is None
    assert store.file_with_content(other, file.id) is None
    assert store.list_files(other) == []
    assert store.delete_file(other, file.id) is False
    # Conversations and items.
    assert store.get_conversation(other, conv.id) is None
    assert store.update_conversation(other, conv.id, {"who": "other"}) is None
    assert store.add_items(other, conv.id, [_message("injected")]) is None
    assert store.list_items(other, conv.id) is None
    assert store.conversation_items(other, conv.id) is None
    assert store.get_item(other, item_id) is None
    assert store.get_item(other, item_id, conv.id) is None
    assert store.delete_item(other, conv.id, item_id) is False
    assert store.delete_conversation(other, conv.id) is False
    # Responses, and a response of another owner's that names this conversation.
    assert store.get_response(other, resp_id) is None
    assert store.response_items(other, resp_id) is None
    assert store.list_input_items(other, resp_id) is None
    assert store.delete_response(other, resp_id) is False
    foreign = new_id("resp_")
    store.put_response(
        other, _response(foreign, ["theirs"], conversation=conv.id), [_message("their question")]
    )
    found = store.response_items(other, foreign)
    assert found is not None and _texts(found[1]) == ["their question", "theirs"]
    assert store.response_items(owner, foreign) is None

    # The owner's data is all still there, unchanged.
    assert store.file_with_content(owner, file.id) == (file, secret)
    assert [f.id for f in store.list_files(owner)] == [file.id]
    assert store.get_conversation(owner, conv.id) == conv
    assert store.conversation_items(owner, conv.id) == before
    assert store.get_response(owner, resp_id) == response
    owned = store.response_items(owner, resp_id)
    assert owned is not None and _texts(owned[1]) == ["private question", "private answer"]

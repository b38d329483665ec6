"""The store: uploaded files, conversations with their items, and stored responses.

One code path over SQLAlchemy Core serves both backends: SQLite, the embedded default (a file
under the data directory, in WAL mode so several server workers can share it), and
PostgreSQL, chosen by a database URL. Every object belongs to an owner (the API key that
made it, or "" when the service has no keys); a lookup by another owner finds nothing, so the
HTTP layer answers 404 and never shows the data.

Schema changes are append-only migrations, applied in order at open and recorded in
``schema_migrations``; a released migration is never edited.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from .records import ItemPage, StoredConversation, StoredFile, item_with_id, new_id
from .store_dir import check_writable_dir

_metadata = sa.MetaData()

schema_migrations = sa.Table(
    "schema_migrations",
    _metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.BigInteger, nullable=False),
)
files = sa.Table(
    "files",
    _metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False, index=True),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("purpose", sa.String(64), nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
# The columns of a StoredFile, in its field order.
_FILE_META = (files.c.id, files.c.filename, files.c.purpose, files.c.bytes, files.c.created_at)


conversations = sa.Table(
    "conversations",
    _metadata,
    # Keyed by owner too: two keys may hold copies of the same upstream conversation.
    sa.Column("owner", sa.String(128), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("metadata", sa.Text, nullable=False),  # a JSON object
    # When the items were copied from the upstream (null: made here); the copy is refreshed
    # when it grows old, since an upstream conversation can gain items.
    sa.Column("upstream_fetched_at", sa.BigInteger, nullable=True),
)
# Every stored item: a conversation's, a response's (its input or its output), or both when a
# response was made in a conversation. `seq` orders them; items are JSON text kept as sent, so
# a stored item renders exactly as it would inline.
items = sa.Table(
    "items",
    _metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("id", sa.String(128), nullable=False),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=True),
    sa.Column("response_id", sa.String(64), nullable=True),
    sa.Column("role", sa.String(8), nullable=True),  # "input" or "output" of its response
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Index("items_by_owner_id", "owner", "id"),
    sa.Index("items_by_conversation", "conversation_id", "seq"),
    sa.Index("items_by_response", "response_id", "seq"),
)
responses = sa.Table(
    "responses",
    _metadata,
    # Keyed by owner too: an imported or upstream response may be held by several keys.
    sa.Column("owner", sa.String(128), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("previous_response_id", sa.String(64), nullable=True),
    sa.Column("data", sa.Text, nullable=False),  # the response object, output included
)


def _create_files(conn: sa.Connection) -> None:
    files.create(conn)


def _create_state(conn: sa.Connection) -> None:
    for table in (conversations, items, responses):
        table.create(conn)


# Append only: (version, step). Each step runs in the transaction that records it.
MIGRATIONS: tuple[tuple[int, Callable[[sa.Connection], None]], ...] = (
    (1, _create_files),
    (2, _create_state),
)


class Store:
    """Files, conversations and responses in a SQL database; safe to share between threads."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL") -> None:
        """Open (and migrate) the store at `url`. `sqlite_synchronous` is SQLite's
        ``synchronous`` pragma: FULL (the default) syncs the WAL at every commit, so an
        acknowledged write survives power loss too; NORMAL only survives a process crash
        (docs/performance.md measures the difference). PostgreSQL ignores it."""
        self.url = url
        if url.startswith("sqlite"):
            if sqlite_synchronous not in _SQLITE_SYNCHRONOUS:
                raise ValueError(
                    f"sqlite_synchronous must be FULL or NORMAL, got {sqlite_synchronous!r}"
                )
            path = sa.make_url(url).database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(url, connect_args={"timeout": 30})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas(sqlite_synchronous))
        else:
            self.engine = sa.create_engine(url, pool_pre_ping=True)
        try:
            self._migrate()
        except BaseException:
            self.engine.dispose()  # a store that failed to open holds no connections
            raise

    def _migrate(self) -> None:
        """Apply the migrations this database has not seen, each in its own transaction."""
        with self.engine.begin() as conn:
            _lock_for_migration(conn)
            schema_migrations.create(conn, checkfirst=True)
        for version, step in MIGRATIONS:
            with self.engine.begin() as conn:
                _lock_for_migration(conn)
                if conn.execute(
                    sa.select(schema_migrations.c.version).where(
                        schema_migrations.c.version == version
                    )
                ).first():
                    continue
                step(conn)
                conn.execute(
                    schema_migrations.insert().values(version=version, applied_at=int(time.time()))
                )

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.max(schema_migrations.c.version))).scalar() or 0
            )

    # -- files ------------------------------------------------------------------------------

    def put_file(self, owner: str, filename: str, purpose: str, data: bytes) -> StoredFile:
        stored = StoredFile(new_id("file-"), filename, purpose, len(data), int(time.time()))
        with self.engine.begin() as conn:
            conn.execute(
                files.insert().values(
                    id=stored.id,
                    owner=owner,
                    filename=filename,
                    purpose=purpose,
                    bytes=stored.bytes,
                    created_at=stored.created_at,
                    data=data,
                )
            )
        return stored

    def get_file(self, owner: str, file_id: str) -> StoredFile | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(*_FILE_META).where(files.c.id == file_id, files.c.owner == owner)
            ).first()
        return StoredFile(*row) if row else None

    def file_with_content(self, owner: str, file_id: str) -> tuple[StoredFile, bytes] | None:
        """A file's metadata and bytes in one query, or None when `owner` has no such file."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(*_FILE_META, files.c.data).where(
                    files.c.id == file_id, files.c.owner == owner
                )
            ).first()
        return (StoredFile(*row[:-1]), bytes(row[-1])) if row else None

    def list_files(self, owner: str, limit: int = 100) -> list[StoredFile]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(*_FILE_META)
                .where(files.c.owner == owner)
                .order_by(files.c.created_at.desc(), files.c.id)
                .limit(limit)
            ).all()
        return [StoredFile(*row) for row in rows]

    def delete_file(self, owner: str, file_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                files.delete().where(files.c.id == file_id, files.c.owner == owner)
            )
        return bool(result.rowcount)

    # -- conversations ----------------------------------------------------------------------

    def create_conversation(
        self, owner: str, metadata: dict[str, str], initial: list[dict[str, Any]]
    ) -> StoredConversation:
        """A new conversation holding `initial` items (given ids); one transaction."""
        conv = StoredConversation(new_id("conv_"), int(time.time()), dict(metadata))
        with self.engine.begin() as conn:
            conn.execute(
                conversations.insert().values(
                    id=conv.id,
                    owner=owner,
                    created_at=conv.created_at,
                    metadata=json.dumps(conv.metadata),
                )
            )
            self._insert_items(conn, owner, initial, conversation_id=conv.id)
        return conv

    def upstream_fetched_at(self, owner: str, conv_id: str) -> int | None:
        """When a cached upstream conversation was copied (None: made here, or not stored)."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(conversations.c.upstream_fetched_at).where(
                    conversations.c.id == conv_id, conversations.c.owner == owner
                )
            ).scalar()

    def get_conversation(self, owner: str, conv_id: str) -> StoredConversation | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    conversations.c.id, conversations.c.created_at, conversations.c.metadata
                ).where(conversations.c.id == conv_id, conversations.c.owner == owner)
            ).first()
        return StoredConversation(row[0], row[1], json.loads(row[2])) if row else None

    def update_conversation(
        self, owner: str, conv_id: str, metadata: dict[str, str]
    ) -> StoredConversation | None:
        with self.engine.begin() as conn:
            result = conn.execute(
                conversations.update()
                .where(conversations.c.id == conv_id, conversations.c.owner == owner)
                .values(metadata=json.dumps(metadata))
            )
        return self.get_conversation(owner, conv_id) if result.rowcount else None

    def delete_conversation(self, owner: str, conv_id: str) -> bool:
        """Delete a conversation and the items only it held (a response's items stay)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                conversations.delete().where(
                    conversations.c.id == conv_id, conversations.c.owner == owner
                )
            )
            if not result.rowcount:
                return False
            conn.execute(
                items.delete().where(
                    items.c.conversation_id == conv_id,
                    items.c.owner == owner,
                    items.c.response_id.is_(None),
                )
            )
            conn.execute(
                items.update()
                .where(items.c.conversation_id == conv_id, items.c.owner == owner)
                .values(conversation_id=None)
            )
        return True

    def add_items(
        self, owner: str, conv_id: str, new: list[dict[str, Any]]
    ) -> list[dict[str, Any]] | None:
        """Append `new` items (given ids) to a conversation; None when it is not `owner`'s."""
        with self.engine.begin() as conn:
            if not self._owns_conversation(conn, owner, conv_id):
                return None
            return self._insert_items(conn, owner, new, conversation_id=conv_id)

    def list_items(
        self,
        owner: str,
        conv_id: str,
        *,
        limit: int = 20,
        order: str = "desc",
        after: str | None = None,
    ) -> ItemPage | None:
        """A page of a conversation's items; None when the conversation is not `owner`'s."""
        with self.engine.connect() as conn:
            if not self._owns_conversation(conn, owner, conv_id):
                return None
            where = (items.c.conversation_id == conv_id, items.c.owner == owner)
            return self._page(conn, where, limit, order, after)

    def conversation_items(self, owner: str, conv_id: str) -> list[dict[str, Any]] | None:
        """All of a conversation's items, oldest first (what a count prepends)."""
        with self.engine.connect() as conn:
            if not self._owns_conversation(conn, owner, conv_id):
                return None
            rows = (
                conn.execute(
                    sa.select(items.c.data)
                    .where(items.c.conversation_id == conv_id, items.c.owner == owner)
                    .order_by(items.c.seq)
                )
                .scalars()
                .all()
            )
        return [json.loads(row) for row in rows]

    def get_item(
        self, owner: str, item_id: str, conv_id: str | None = None
    ) -> dict[str, Any] | None:
        """A stored item by id (within one conversation, when `conv_id` is given)."""
        where = [items.c.owner == owner, items.c.id == item_id]
        if conv_id is not None:
            where.append(items.c.conversation_id == conv_id)
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(items.c.data).where(*where).order_by(items.c.seq.desc()).limit(1)
            ).scalar()
        return json.loads(row) if row is not None else None

    def delete_item(self, owner: str, conv_id: str, item_id: str) -> bool:
        with self.engine.begin() as conn:
            where = (
                items.c.conversation_id == conv_id,
                items.c.owner == owner,
                items.c.id == item_id,
            )
            found = conn.execute(sa.select(items.c.seq).where(*where)).first()
            if found is None:
                return False
            conn.execute(items.delete().where(*where, items.c.response_id.is_(None)))
            conn.execute(items.update().where(*where).values(conversation_id=None))
        return True

    # -- responses --------------------------------------------------------------------------

    def put_response(
        self,
        owner: str,
        response: dict[str, Any],
        input_items: list[dict[str, Any]],
        *,
        join_conversation: bool = True,
    ) -> None:
        """Record a finished response with the items it was given (`input_items`, given ids)
        and its output; both join its conversation, when it names one (and
        `join_conversation`). Replaces an earlier copy of the same response (an import run
        twice stays one response)."""
        resp_id = str(response["id"])
        conv = response.get("conversation") if join_conversation else None
        conv_id = conv.get("id") if isinstance(conv, dict) else conv
        created = int(response.get("created_at") or time.time())
        with self.engine.begin() as conn:
            conn.execute(
                items.delete().where(items.c.response_id == resp_id, items.c.owner == owner)
            )
            conn.execute(
                responses.delete().where(responses.c.id == resp_id, responses.c.owner == owner)
            )
            conn.execute(
                responses.insert().values(
                    id=resp_id,
                    owner=owner,
                    created_at=created,
                    previous_response_id=response.get("previous_response_id"),
                    data=json.dumps(response),
                )
            )
            if conv_id and not self._owns_conversation(conn, owner, conv_id):
                conv_id = None
            self._insert_items(
                conn, owner, input_items, conversation_id=conv_id, response_id=resp_id, role="input"
            )
            self._insert_items(
                conn,
                owner,
                list(response.get("output") or ()),
                conversation_id=conv_id,
                response_id=resp_id,
                role="output",
            )

    def get_response(self, owner: str, resp_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(responses.c.data).where(
                    responses.c.id == resp_id, responses.c.owner == owner
                )
            ).scalar()
        return json.loads(row) if row is not None else None

    def response_items(
        self, owner: str, resp_id: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """A response and its items in order (its input, then its output)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(responses.c.data).where(
                    responses.c.id == resp_id, responses.c.owner == owner
                )
            ).scalar()
            if row is None:
                return None
            rows = (
                conn.execute(
                    sa.select(items.c.data)
                    .where(items.c.response_id == resp_id, items.c.owner == owner)
                    .order_by(sa.case((items.c.role == "input", 0), else_=1), items.c.seq)
                )
                .scalars()
                .all()
            )
        return json.loads(row), [json.loads(r) for r in rows]

    def list_input_items(
        self,
        owner: str,
        resp_id: str,
        *,
        limit: int = 20,
        order: str = "desc",
        after: str | None = None,
    ) -> ItemPage | None:
        with self.engine.connect() as conn:
            if (
                conn.execute(
                    sa.select(responses.c.id).where(
                        responses.c.id == resp_id, responses.c.owner == owner
                    )
                ).first()
                is None
            ):
                return None
            where = (
                items.c.response_id == resp_id,
                items.c.owner == owner,
                items.c.role == "input",
            )
            return self._page(conn, where, limit, order, after)

    def delete_response(self, owner: str, resp_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                responses.delete().where(responses.c.id == resp_id, responses.c.owner == owner)
            )
            conn.execute(
                items.delete().where(
                    items.c.response_id == resp_id,
                    items.c.owner == owner,
                    items.c.conversation_id.is_(None),
                )
            )
        return bool(result.rowcount)

    # -- shared -----------------------------------------------------------------------------

    @staticmethod
    def _owns_conversation(conn: sa.Connection, owner: str, conv_id: str) -> bool:
        return (
            conn.execute(
                sa.select(conversations.c.id).where(
                    conversations.c.id == conv_id, conversations.c.owner == owner
                )
            ).first()
            is not None
        )

    @staticmethod
    def _insert_items(
        conn: sa.Connection,
        owner: str,
        new: list[dict[str, Any]],
        *,
        conversation_id: str | None = None,
        response_id: str | None = None,
        role: str | None = None,
    ) -> list[dict[str, Any]]:
        stored = [item_with_id(item) for item in new]
        if stored:
            now = int(time.time())
            conn.execute(
                items.insert(),
                [
                    {
                        "id": item["id"],
                        "owner": owner,
                        "conversation_id": conversation_id,
                        "response_id": response_id,
                        "role": role,
                        "created_at": now,
                        "data": json.dumps(item),
                    }
                    for item in stored
                ],
            )
        return stored

    @staticmethod
    def _page(
        conn: sa.Connection, where: tuple[Any, ...], limit: int, order: str, after: str | None
    ) -> ItemPage:
        """Items matching `where` in `order` of insertion, starting past the item `after`."""
        conditions = list(where)
        if after is not None:
            cursor = conn.execute(
                sa.select(items.c.seq).where(*where, items.c.id == after)
            ).scalar()
            if cursor is None:  # an unknown cursor ends the listing rather than restart it
                return ItemPage([], False)
            conditions.append(items.c.seq < cursor if order == "desc" else items.c.seq > cursor)
        by = items.c.seq.desc() if order == "desc" else items.c.seq
        rows = (
            conn.execute(sa.select(items.c.data).where(*conditions).order_by(by).limit(limit + 1))
            .scalars()
            .all()
        )
        return ItemPage([json.loads(r) for r in rows[:limit]], len(rows) > limit)

    def close(self) -> None:
        self.engine.dispose()

    # -- copies of upstream objects (upstream.py, state.py) ---------------------------------
    # Each replaces an earlier copy under the same owner. Conversations and responses are keyed
    # by (owner, id); a file id is unique across owners, so keeping a file id another owner
    # already holds raises sqlalchemy's IntegrityError, and the caller then counts with what
    # it fetched without keeping it.

    def cache_file(
        self,
        owner: str,
        file_id: str,
        filename: str,
        purpose: str,
        data: bytes,
        created_at: int | None = None,
    ) -> StoredFile:
        """Keep a copy of an upstream file under its upstream id."""
        stored = StoredFile(file_id, filename, purpose, len(data), int(created_at or time.time()))
        with self.engine.begin() as conn:
            conn.execute(files.delete().where(files.c.id == file_id, files.c.owner == owner))
            conn.execute(
                files.insert().values(
                    id=file_id,
                    owner=owner,
                    filename=filename,
                    purpose=purpose,
                    bytes=stored.bytes,
                    created_at=stored.created_at,
                    data=data,
                )
            )
        return stored

    def cache_response(
        self, owner: str, response: dict[str, Any], input_items: list[dict[str, Any]]
    ) -> None:
        """Keep a copy of an upstream response with its input items and output. Unlike
        ``put_response``, its items never join a stored conversation: a copy of an upstream
        conversation holds them already (or will, when it is fetched)."""
        self.put_response(owner, response, input_items, join_conversation=False)

    def cache_upstream_conversation(
        self, owner: str, conv: StoredConversation, all_items: list[dict[str, Any]]
    ) -> None:
        """Keep (or refresh) a copy of an upstream conversation and all its items. Items that
        recorded responses hold stay theirs, leaving the conversation (whose fresh copy has
        them) rather than being deleted, as ``delete_conversation`` does."""
        with self.engine.begin() as conn:
            mine = (items.c.conversation_id == conv.id, items.c.owner == owner)
            conn.execute(items.delete().where(*mine, items.c.response_id.is_(None)))
            conn.execute(items.update().where(*mine).values(conversation_id=None))
            conn.execute(
                conversations.delete().where(
                    conversations.c.id == conv.id, conversations.c.owner == owner
                )
            )
            conn.execute(
                conversations.insert().values(
                    id=conv.id,
                    owner=owner,
                    created_at=conv.created_at,
                    metadata=json.dumps(conv.metadata),
                    upstream_fetched_at=int(time.time()),
                )
            )
            self._insert_items(conn, owner, all_items, conversation_id=conv.id)


def _lock_for_migration(conn: sa.Connection) -> None:
    """Make a migration transaction exclusive, so that processes opening a database together
    (server workers) apply each migration once: SQLite takes the write lock up front (which
    also makes the step's DDL transactional), PostgreSQL an advisory lock until commit."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7597126598838463339)"))


# How long a connection keeps trying to switch a new database file to WAL (the connect
# timeout that SQLite's busy handler uses for everything else).
_SQLITE_BUSY_S = 30.0


_SQLITE_SYNCHRONOUS = ("FULL", "NORMAL")


def _sqlite_pragmas(synchronous: str) -> Callable[[Any, Any], None]:
    """The connect hook of an SQLite engine. WAL: readers never block the writer, and several
    processes can share the file. ``synchronous=FULL``: each commit fsyncs the WAL before it
    returns, so what was acknowledged survives an OS crash or power loss, not only a killed
    process (which NORMAL already survives)."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        _use_wal(cursor)
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return on_connect


def _use_wal(cursor: Any) -> None:
    """Put the database file in WAL mode (kept in the file).

    Switching needs the file to itself, and SQLite answers "database is locked" at once,
    without its busy wait, while another connection holds a lock: as when several workers
    open a new database together and one is already migrating it. So wait here instead.
    """
    deadline = time.monotonic() + _SQLITE_BUSY_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")  # a no-op in WAL (and in memory)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def check_database_url(url: str) -> None:
    """Raise ``ValueError`` (one line, saying what to change) when the store could not open
    `url` for a reason known without connecting: a URL that does not parse, a database other
    than SQLite and PostgreSQL, a driver that is not installed, or an SQLite file whose
    directory cannot be created or written. The password is never shown."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ValueError(
            "not a database URL; expected one such as sqlite:////var/lib/inputtokens/store.db "
            "or postgresql+psycopg://user@host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise ValueError(
            f"unsupported database {parsed.drivername!r}; the store runs on SQLite "
            "(sqlite:///PATH) or PostgreSQL (postgresql+psycopg://user@host/db)"
        )
    try:
        parsed.get_dialect().import_dbapi()
    except (sa.exc.ArgumentError, ImportError):
        hint = " (pip install 'inputtokens[postgres]')" if backend == "postgresql" else ""
        raise ValueError(
            f"the driver of {parsed.drivername!r} is not available{hint}; "
            "use sqlite:///PATH or postgresql+psycopg://user@host/db"
        ) from None
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        check_writable_dir(Path(parsed.database).parent)


_open_lock = threading.Lock()


@lru_cache(maxsize=8)
def _open(url: str) -> Store:
    return Store(url)


def store_for(url: str) -> Store:
    """The process's store for a database URL (opened, and migrated, on first use)."""
    with _open_lock:  # one opening (and one migration run) even when threads race to it
        return _open(url)

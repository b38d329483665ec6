"""The store: uploaded files (and, as the state work grows, conversations and responses).

One code path over SQLAlchemy Core serves both backends: SQLite, the embedded default (a file
under the data directory, in WAL mode so several server workers can share it), and
PostgreSQL, chosen by a database URL. Every object belongs to an owner (the API key that
made it, or "" when the service has no keys); a lookup by another owner finds nothing, so the
HTTP layer answers 404 and never shows the data.

Schema changes are append-only migrations, applied in order at open and recorded in
``schema_migrations``; a released migration is never edited.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa

_metadata = sa.MetaData()

schema_migrations = sa.Table(
    "schema_migrations", _metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.BigInteger, nullable=False),
)
files = sa.Table(
    "files", _metadata,
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


def _create_files(conn: sa.Connection) -> None:
    files.create(conn)


# Append only: (version, step). Each step runs in the transaction that records it.
MIGRATIONS: tuple[tuple[int, Callable[[sa.Connection], None]], ...] = (
    (1, _create_files),
)


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file's metadata, shaped like OpenAI's file object by ``to_openai``."""

    id: str
    filename: str
    purpose: str
    bytes: int
    created_at: int

    def to_openai(self) -> dict[str, Any]:
        return {"id": self.id, "object": "file", "bytes": self.bytes,
                "created_at": self.created_at, "filename": self.filename,
                "purpose": self.purpose, "status": "processed", "expires_at": None,
                "status_details": None}


def new_id(prefix: str) -> str:
    """An id in OpenAI's style: a prefix and 24 random hex digits (``file-…``)."""
    return prefix + secrets.token_hex(12)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'inputtokens.db'}"


class Store:
    """Files (for now) in a SQL database; safe to share between threads."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            path = sa.make_url(url).database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(url, connect_args={"timeout": 30})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = sa.create_engine(url, pool_pre_ping=True)
        self._migrate()

    def _migrate(self) -> None:
        """Apply the migrations this database has not seen, each in its own transaction."""
        with self.engine.begin() as conn:
            schema_migrations.create(conn, checkfirst=True)
        for version, step in MIGRATIONS:
            with self.engine.begin() as conn:
                if conn.execute(sa.select(schema_migrations.c.version).where(
                        schema_migrations.c.version == version)).first():
                    continue
                step(conn)
                conn.execute(schema_migrations.insert().values(
                    version=version, applied_at=int(time.time())))

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(schema_migrations.c.version)))
                       .scalar() or 0)

    # -- files ------------------------------------------------------------------------------

    def put_file(self, owner: str, filename: str, purpose: str, data: bytes) -> StoredFile:
        stored = StoredFile(new_id("file-"), filename, purpose, len(data), int(time.time()))
        with self.engine.begin() as conn:
            conn.execute(files.insert().values(
                id=stored.id, owner=owner, filename=filename, purpose=purpose,
                bytes=stored.bytes, created_at=stored.created_at, data=data))
        return stored

    def get_file(self, owner: str, file_id: str) -> StoredFile | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*_FILE_META).where(
                files.c.id == file_id, files.c.owner == owner)).first()
        return StoredFile(*row) if row else None

    def file_with_content(self, owner: str, file_id: str) -> tuple[StoredFile, bytes] | None:
        """A file's metadata and bytes in one query, or None when `owner` has no such file."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*_FILE_META, files.c.data).where(
                files.c.id == file_id, files.c.owner == owner)).first()
        return (StoredFile(*row[:-1]), bytes(row[-1])) if row else None

    def list_files(self, owner: str, limit: int = 100) -> list[StoredFile]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*_FILE_META).where(files.c.owner == owner)
                                .order_by(files.c.created_at.desc(), files.c.id)
                                .limit(limit)).all()
        return [StoredFile(*row) for row in rows]

    def delete_file(self, owner: str, file_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(files.delete().where(
                files.c.id == file_id, files.c.owner == owner))
        return bool(result.rowcount)

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL: readers never block the writer, and several processes can share the file.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


_open_lock = threading.Lock()


@lru_cache(maxsize=8)
def _open(url: str) -> Store:
    return Store(url)


def store_for(url: str) -> Store:
    """The process's store for a database URL (opened, and migrated, on first use)."""
    with _open_lock:  # one opening (and one migration run) even when threads race to it
        return _open(url)

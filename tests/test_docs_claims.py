"""Statements in the docs' prose that no sample runs, checked against the code."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from inputtokens import count_input_tokens
from inputtokens.settings import Settings, default_workers

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_serve_defaults_in_cli_md_are_the_settings_defaults() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    m = re.search(r"The defaults are `([^`]+)`, `(\d+)` and ([^.]+)\.", text)
    assert m, "cli.md states serve's defaults"
    host, port, workers = m.groups()
    defaults = Settings()
    assert (host, int(port)) == (defaults.host, defaults.port)
    # Not a number: one worker per usable core, as Settings computes it.
    assert workers == "one worker per usable core"
    assert defaults.workers == default_workers()


def test_configuration_md_database_url_names_a_working_postgres_url(database_url: str) -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    row = next(
        line for line in text.splitlines() if line.startswith("| `INPUTTOKENS_DATABASE_URL`")
    )
    assert "next step" not in row
    scheme = re.search(r"`(postgresql\+psycopg)://", row)
    assert scheme, "the row names the PostgreSQL URL form"
    if database_url.startswith("postgresql"):
        url = sa.make_url(database_url).set(drivername=scheme.group(1))
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(sa.text("select 1")).scalar() == 1
        finally:
            engine.dispose()


def test_token_count_repr_shows_values_not_object_addresses() -> None:
    result = count_input_tokens({"model": "gpt-5", "input": "Tell me a joke."})
    text = repr(result)
    assert " object at 0x" not in text
    assert re.search(r"cache_use=CacheUse\(hits=\d+, misses=\d+, tokens_from_cache=\d+\)", text)

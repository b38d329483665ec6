"""What the commands share: the settings, the ``--api-key``/``--database-url`` options and the
store they select, JSON output, listing options, and the one error reporter."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .. import library
from ..core.errors import InputTokensError, wire_error
from ..settings import Settings
from ..state.records import key_owner
from ..state.service import MAX_PAGE, ORDERS, StoredObjects

if TYPE_CHECKING:
    from ..state.store import Store

F = TypeVar("F", bound=Callable[..., Any])

# Where the store options leave their values, in the click context's meta: the options are
# on each command, but the values describe the whole invocation.
_API_KEY = "inputtokens.api_key"
_DATABASE_URL = "inputtokens.database_url"


def settings(ctx: click.Context) -> Settings:
    """The settings the root group read, with the command's ``--database-url``."""
    read = ctx.obj  # a subcommand's context inherits the root group's
    assert isinstance(read, Settings)
    url = ctx.meta.get(_DATABASE_URL)
    return replace(read, database_url=url) if url else read


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None:
            ctx.meta[key] = value

    return callback


def store_options(f: F) -> F:
    """``--api-key`` and ``--database-url``, for every command that reads the store."""
    f = click.option(
        "--database-url",
        metavar="URL",
        expose_value=False,
        callback=_remember(_DATABASE_URL),
        help="The store's database (default: INPUTTOKENS_DATABASE_URL, else "
        "SQLite under INPUTTOKENS_DATA_DIR).",
    )(f)
    f = click.option(
        "--api-key",
        metavar="KEY",
        expose_value=False,
        callback=_remember(_API_KEY),
        help="Act as the owner of this API key, as the server does for a "
        "request bearing it (default: the anonymous owner of requests without a key).",
    )(f)
    return f


def owner_of(api_key: str | None) -> str:
    """The owner of what a caller with `api_key` stores; the server derives it the same way
    (api/common.py, ``ApiContext.owner_of``), with or without configured keys, and "" is the
    anonymous owner of requests without a key."""
    return key_owner(api_key) if api_key else ""


def owner(ctx: click.Context) -> str:
    return owner_of(ctx.meta.get(_API_KEY))


def open_store(ctx: click.Context) -> Store:
    """The store the settings name; one that cannot be opened is a plain error (exit 1)."""
    from sqlalchemy.exc import SQLAlchemyError  # the database loads only here

    try:
        return library.open_store(settings(ctx).store_url())
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot open the store: {exc}") from None


def stored_objects(ctx: click.Context) -> StoredObjects:
    """The stored objects of the command's owner: what the store commands act on."""
    return StoredObjects(open_store(ctx), owner(ctx))


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def page_options(f: F) -> F:
    """``--limit``, ``--order`` and ``--after`` of a listing, bounded as the HTTP API's."""
    f = click.option(
        "--after", metavar="ITEM_ID", default=None, help="List the items after this one."
    )(f)
    f = click.option(
        "--order",
        type=click.Choice(ORDERS),
        default="desc",
        show_default=True,
        help="Oldest first (asc) or newest first (desc).",
    )(f)
    f = click.option(
        "--limit",
        type=click.IntRange(1, MAX_PAGE),
        default=20,
        show_default=True,
        help="Items per page.",
    )(f)
    return f


def exit_status(status: int, *, store: bool) -> int:
    """The exit status of an error answered with HTTP `status` (docs/cli.md): a rejected count
    or render is 1; a store command tells a missing object (1) from bad input (2, as a usage
    error is)."""
    return 2 if store and status != 404 else 1


def reports_errors(*, store: bool, rich: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Our errors as the HTTP API answers them: OpenAI's envelope (``wire_error``) on stderr,
    and the exit status for the command's group (`store`: a store command). Anything else is
    a bug, left to show its traceback. `rich`: the command's flags that ask for the detailed
    view (``count --json``); with one set, the envelope carries the error's figures, as the
    HTTP service's verbose view does."""

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return f(*args, **kwargs)
            except InputTokensError as exc:
                wire = wire_error(exc, rich=any(kwargs.get(flag) for flag in rich))
                click.echo(json.dumps(wire.envelope, indent=2), err=True)
                sys.exit(exit_status(wire.status, store=store))

        return wrapper  # type: ignore[return-value]

    return decorate

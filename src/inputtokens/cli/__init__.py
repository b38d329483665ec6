"""The command line: a thin click adapter over the library, the store and the server.

    inputtokens count [FILE|-] [--json] [--tokens] [--model M] [--api-key K]
    inputtokens render [FILE|-] [--model M]
    inputtokens models [--json]
    inputtokens serve [--host H] [--port P] [--workers N]
    inputtokens conversations create|get|update|delete|items ...   (the local store)
    inputtokens files upload|list|get|content|delete ...
    inputtokens responses import|get|input-items|delete ...

Every option of ``serve`` also reads ``INPUTTOKENS_<OPTION>`` (e.g. INPUTTOKENS_PORT), and the
counting settings come from the environment as documented in docs/configuration.md. The store
commands print the JSON objects the HTTP API answers with, and act as the owner of an API key
(``--api-key``) or, by default, as the keyless owner "".
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from ..core.errors import InputTokensError, InvalidRequestError, NotFoundError, PayloadTooLargeError
from ..core.models import MODELS
from ..count.pipeline import count_input_tokens, render_prompt
from ..settings import Settings
from ..state import service as stored_input

if TYPE_CHECKING:
    from ..state.store import Store

F = TypeVar("F", bound=Callable[..., Any])


def _load_body(source: TextIO, model: str | None) -> Any:
    text = source.read()
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"the request is not valid JSON: {exc}") from None
    if model is not None and isinstance(body, dict):
        body = {**body, "model": model}
    return body


def _fail(exc: InputTokensError, status: int = 1) -> None:
    click.echo(json.dumps(exc.to_envelope(), indent=2), err=True)
    sys.exit(status)


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    url = ctx.meta.get(_DATABASE_URL)
    return replace(settings, database_url=url) if url else settings


# -- the store's owner and database, per command ------------------------------------------------

_API_KEY = "inputtokens.api_key"
_DATABASE_URL = "inputtokens.database_url"


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None:
            ctx.meta[key] = value

    return callback


def _store_options(f: F) -> F:
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
        "request bearing it (default: the keyless owner).",
    )(f)
    return f


def owner_of(api_key: str | None) -> str:
    """The owner of what a caller with `api_key` stores; the server derives it the same way
    (api/common.py, ``ApiContext.authenticate``), and "" is the owner of a keyless server."""
    if not api_key:
        return ""
    from ..state.store import key_owner  # SQLAlchemy loads only for commands that use the store

    return key_owner(api_key)


def _owner(ctx: click.Context) -> str:
    return owner_of(ctx.meta.get(_API_KEY))


def _store(ctx: click.Context) -> Store:
    from sqlalchemy.exc import SQLAlchemyError

    from ..state.store import store_for  # the database (and SQLAlchemy) load only here

    try:
        return store_for(_settings(ctx).store_url())
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot open the store: {exc}") from None


def _reports_errors(f: F) -> F:
    """Errors as OpenAI's envelope on stderr: exit 1 for a missing object, 2 for bad input."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except NotFoundError as exc:
            _fail(exc, 1)
        except InputTokensError as exc:
            _fail(exc, 2)
        return None

    return wrapper  # type: ignore[return-value]


def _print(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _read_json(text: str, what: str) -> Any:
    """`text` parsed (None when blank), or an invalid_json error naming `what`."""
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(
            f"{what} is not valid JSON ({exc}).", param=None, code="invalid_json"
        ) from None


def _items_given(item_args: tuple[str, ...], source: TextIO | None) -> Any:
    """Items from ``--item`` values, or from a JSON document: an array of items, or an object
    with ``items`` (a request body of the HTTP API). None when nothing was given."""
    if item_args and source is not None:
        raise click.UsageError("Give items with --item or from a file, not both.")
    if source is not None:
        value = _read_json(source.read(), "The items")
        return value["items"] if isinstance(value, dict) and "items" in value else value
    if item_args:
        return [_read_json(text, f"--item {i + 1}") for i, text in enumerate(item_args)]
    return None


def _metadata(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(
                f"expected KEY=VALUE, got {pair!r}.", param_hint="'--metadata'"
            )
        out[key] = value
    return out


def _conversation_missing(conv_id: str) -> NotFoundError:
    return NotFoundError(f"Conversation with id '{conv_id}' not found.", param="conversation_id")


def _file_missing(file_id: str) -> NotFoundError:
    return NotFoundError(f"No such File object: {file_id}", param="id")


def _response_missing(resp_id: str) -> NotFoundError:
    return NotFoundError(f"Response with id '{resp_id}' not found.", param="response_id")


def _page_options(f: F) -> F:
    f = click.option(
        "--after", metavar="ITEM_ID", default=None, help="List the items after this one."
    )(f)
    f = click.option(
        "--order",
        type=click.Choice(["asc", "desc"]),
        default="desc",
        show_default=True,
        help="Oldest first (asc) or newest first (desc).",
    )(f)
    f = click.option(
        "--limit",
        type=click.IntRange(1, 100),
        default=20,
        show_default=True,
        help="Items per page.",
    )(f)
    return f


# -- the commands --------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="inputtokens")
@click.option(
    "--no-fetch",
    is_flag=True,
    help="Never fetch http(s) images or files; count them by the documented "
    "assumption, flagged (same as INPUTTOKENS_REMOTE_FETCH=0).",
)
@click.pass_context
def cli(ctx: click.Context, no_fetch: bool) -> None:
    """Count OpenAI Responses API input tokens offline."""
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    ctx.obj = replace(settings, remote_fetch=False) if no_fetch else settings


_source = click.argument("source", type=click.File("r"), default="-")
_model = click.option("--model", "-m", help="Override the body's model.")


@cli.command()
@_source
@_model
@click.option("--json", "as_json", is_flag=True, help="Print the detailed view as JSON.")
@click.option("--tokens", is_flag=True, help="Include token ids and strings (implies --json).")
@_store_options
@click.pass_context
def count(
    ctx: click.Context, source: TextIO, model: str | None, as_json: bool, tokens: bool
) -> None:
    """Count the input tokens of a request body read from SOURCE (a file or - for stdin)."""
    body = _load_body(source, model)
    try:
        result = count_input_tokens(
            body, settings=_settings(ctx), return_tokens=tokens, owner=_owner(ctx)
        )
    except InputTokensError as exc:
        _fail(exc)
        return
    if as_json or tokens:
        click.echo(json.dumps(result.to_rich(), indent=2, ensure_ascii=False))
    else:
        click.echo(result.input_tokens)


@cli.command()
@_source
@_model
@click.pass_context
def render(ctx: click.Context, source: TextIO, model: str | None) -> None:
    """Print the prompt exactly as the model sees it, framing tokens visible."""
    body = _load_body(source, model)
    try:
        prompt = render_prompt(body, settings=_settings(ctx))
    except InputTokensError as exc:
        _fail(exc)
        return
    click.echo(prompt.text, nl=False)
    if sys.stdout.isatty():
        click.echo()


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def models(as_json: bool) -> None:
    """List the known models with their encoding and context window."""
    rows = list(MODELS.values())
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": m.id,
                        "family": m.family,
                        "encoding": m.encoding,
                        "context_window": m.context_window,
                        "max_output_tokens": m.max_output_tokens,
                    }
                    for m in rows
                ],
                indent=2,
            )
        )
        return
    click.echo(f"{'model':<26} {'family':<8} {'encoding':<14} {'context':>10} {'max out':>8}")
    for m in rows:
        click.echo(
            f"{m.id:<26} {m.family:<8} {m.encoding:<14} {m.context_window:>10} "
            f"{m.max_output_tokens:>8}"
        )


@cli.command()
@click.option("--host", envvar="INPUTTOKENS_HOST", default=None, help="Bind address.")
@click.option("--port", envvar="INPUTTOKENS_PORT", type=int, default=None, help="Port.")
@click.option(
    "--workers",
    envvar="INPUTTOKENS_WORKERS",
    type=int,
    default=None,
    help="Worker processes (default: one per usable core).",
)
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the OpenAI-compatible HTTP service."""
    try:
        from ..server import run
    except ImportError as exc:
        raise click.ClickException(
            f"serving needs the server extra ({exc.name} is missing): "
            "pip install 'inputtokens[server]'"
        ) from None
    settings = _settings(ctx)
    overrides = {
        k: v for k, v in (("host", host), ("port", port), ("workers", workers)) if v is not None
    }
    run(replace(settings, **overrides))  # type: ignore[arg-type]


# -- conversations -------------------------------------------------------------------------------


@cli.group()
def conversations() -> None:
    """Conversations and their items in the store.

    The operations of the Conversations API, on the local store."""


_item_option = click.option(
    "--item", "item_args", metavar="JSON", multiple=True, help="An item as JSON (repeatable)."
)
_metadata_option = click.option(
    "--metadata", "pairs", metavar="KEY=VALUE", multiple=True, help="A metadata pair (repeatable)."
)


@conversations.command("create")
@_item_option
@click.option(
    "--items-file",
    type=click.File("r"),
    default=None,
    metavar="FILE",
    help='A JSON array of items (or {"items": [...]}); - for stdin.',
)
@_metadata_option
@_store_options
@click.pass_context
@_reports_errors
def conversations_create(
    ctx: click.Context,
    item_args: tuple[str, ...],
    items_file: TextIO | None,
    pairs: tuple[str, ...],
) -> None:
    """Create a conversation, with initial items."""
    metadata = stored_input.check_metadata(_metadata(pairs))
    initial = stored_input.check_items(_items_given(item_args, items_file))
    store, owner = _store(ctx), _owner(ctx)
    conv = store.create_conversation(
        owner, metadata, stored_input.dereference(store, owner, initial, "items")
    )
    _print(conv.to_openai())


@conversations.command("get")
@click.argument("conversation_id")
@_store_options
@click.pass_context
@_reports_errors
def conversations_get(ctx: click.Context, conversation_id: str) -> None:
    """Print a conversation."""
    conv = _store(ctx).get_conversation(_owner(ctx), conversation_id)
    if conv is None:
        raise _conversation_missing(conversation_id)
    _print(conv.to_openai())


@conversations.command("update")
@click.argument("conversation_id")
@_metadata_option
@click.option("--clear", is_flag=True, help="Remove all metadata.")
@_store_options
@click.pass_context
@_reports_errors
def conversations_update(
    ctx: click.Context, conversation_id: str, pairs: tuple[str, ...], clear: bool
) -> None:
    """Replace a conversation's metadata.

    The --metadata pairs given become all of its metadata; --clear removes it all."""
    if clear and pairs:
        raise click.UsageError("Give --metadata or --clear, not both.")
    if not clear and not pairs:
        raise InvalidRequestError(
            "Missing required parameter: 'metadata'.",
            param="metadata",
            code="missing_required_parameter",
        )
    metadata = stored_input.check_metadata(_metadata(pairs))
    conv = _store(ctx).update_conversation(_owner(ctx), conversation_id, metadata)
    if conv is None:
        raise _conversation_missing(conversation_id)
    _print(conv.to_openai())


@conversations.command("delete")
@click.argument("conversation_id")
@_store_options
@click.pass_context
@_reports_errors
def conversations_delete(ctx: click.Context, conversation_id: str) -> None:
    """Delete a conversation.

    The items that stored responses share with it stay with the responses."""
    if not _store(ctx).delete_conversation(_owner(ctx), conversation_id):
        raise _conversation_missing(conversation_id)
    _print({"id": conversation_id, "object": "conversation.deleted", "deleted": True})


@conversations.group("items")
def conversation_items() -> None:
    """A conversation's items."""


@conversation_items.command("list")
@click.argument("conversation_id")
@_page_options
@_store_options
@click.pass_context
@_reports_errors
def items_list(
    ctx: click.Context, conversation_id: str, limit: int, order: str, after: str | None
) -> None:
    """Print a page of a conversation's items."""
    page = _store(ctx).list_items(
        _owner(ctx), conversation_id, limit=limit, order=order, after=after
    )
    if page is None:
        raise _conversation_missing(conversation_id)
    _print(page.to_openai())


@conversation_items.command("add")
@click.argument("conversation_id")
@click.argument("source", type=click.File("r"), required=False)
@_item_option
@_store_options
@click.pass_context
@_reports_errors
def items_add(
    ctx: click.Context, conversation_id: str, source: TextIO | None, item_args: tuple[str, ...]
) -> None:
    """Add items to a conversation.

    The items come as a JSON array from SOURCE (a file; stdin when left out), or as --item
    values."""
    if source is None and not item_args:
        source = click.open_file("-")
    new = stored_input.check_items(_items_given(item_args, source), required=True)
    store, owner = _store(ctx), _owner(ctx)
    added = store.add_items(
        owner, conversation_id, stored_input.dereference(store, owner, new, "items")
    )
    if added is None:
        raise _conversation_missing(conversation_id)
    from ..state.store import ItemPage  # the store module is loaded already (by _store)

    _print(ItemPage(added, has_more=False).to_openai())


@conversation_items.command("get")
@click.argument("conversation_id")
@click.argument("item_id")
@_store_options
@click.pass_context
@_reports_errors
def items_get(ctx: click.Context, conversation_id: str, item_id: str) -> None:
    """Print one item of a conversation."""
    store, owner = _store(ctx), _owner(ctx)
    if store.get_conversation(owner, conversation_id) is None:
        raise _conversation_missing(conversation_id)
    item = store.get_item(owner, item_id, conversation_id)
    if item is None:
        raise NotFoundError(f"Item with id '{item_id}' not found.", param="item_id")
    _print(item)


@conversation_items.command("delete")
@click.argument("conversation_id")
@click.argument("item_id")
@_store_options
@click.pass_context
@_reports_errors
def items_delete(ctx: click.Context, conversation_id: str, item_id: str) -> None:
    """Delete an item from a conversation; prints the conversation."""
    store, owner = _store(ctx), _owner(ctx)
    conv = store.get_conversation(owner, conversation_id)
    if conv is None:
        raise _conversation_missing(conversation_id)
    if not store.delete_item(owner, conversation_id, item_id):
        raise NotFoundError(f"Item with id '{item_id}' not found.", param="item_id")
    _print(conv.to_openai())  # as OpenAI answers


# -- files ---------------------------------------------------------------------------------------


@cli.group()
def files() -> None:
    """Uploaded files in the store.

    The operations of the Files API, on the local store: the files that file_id in a
    count names."""


@files.command("upload")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--purpose", default="user_data", show_default=True, help="The file's purpose.")
@_store_options
@click.pass_context
@_reports_errors
def files_upload(ctx: click.Context, path: Path, purpose: str) -> None:
    """Upload the file at PATH.

    At most INPUTTOKENS_MAX_FILE_BYTES; prints the file object."""
    if not purpose:
        raise InvalidRequestError(
            "Missing required parameter: 'purpose'.",
            param="purpose",
            code="missing_required_parameter",
        )
    limit = _settings(ctx).max_file_bytes
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(
            f"The file is larger than the limit of {limit} bytes.",
            param="file",
            code="file_too_large",
        )
    _print(_store(ctx).put_file(_owner(ctx), path.name, purpose, data).to_openai())


@files.command("list")
@_store_options
@click.pass_context
@_reports_errors
def files_list(ctx: click.Context) -> None:
    """List the stored files, newest first."""
    stored = _store(ctx).list_files(_owner(ctx))
    _print({"object": "list", "data": [f.to_openai() for f in stored], "has_more": False})


@files.command("get")
@click.argument("file_id")
@_store_options
@click.pass_context
@_reports_errors
def files_get(ctx: click.Context, file_id: str) -> None:
    """Print a file's object."""
    stored = _store(ctx).get_file(_owner(ctx), file_id)
    if stored is None:
        raise _file_missing(file_id)
    _print(stored.to_openai())


@files.command("content")
@click.argument("file_id")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the bytes to this file (default: stdout).",
)
@_store_options
@click.pass_context
@_reports_errors
def files_content(ctx: click.Context, file_id: str, output: Path | None) -> None:
    """Write a file's bytes to stdout, or to --output."""
    found = _store(ctx).file_with_content(_owner(ctx), file_id)
    if found is None:
        raise _file_missing(file_id)
    if output is None or str(output) == "-":
        click.echo(found[1], nl=False)  # bytes go to the binary stream as they are
    else:
        output.write_bytes(found[1])


@files.command("delete")
@click.argument("file_id")
@_store_options
@click.pass_context
@_reports_errors
def files_delete(ctx: click.Context, file_id: str) -> None:
    """Delete a file."""
    if not _store(ctx).delete_file(_owner(ctx), file_id):
        raise _file_missing(file_id)
    _print({"id": file_id, "object": "file", "deleted": True})


# -- responses -----------------------------------------------------------------------------------


@cli.group()
def responses() -> None:
    """Stored responses: import, read, delete.

    The responses that previous_response_id in a count names."""


@responses.command("import")
@click.argument("source", type=click.File("r"))
@_store_options
@click.pass_context
@_reports_errors
def responses_import(ctx: click.Context, source: TextIO) -> None:
    """Import responses from SOURCE (- for stdin).

    SOURCE holds a response object, a JSON array of them, or JSON lines. Prints the id of each
    one imported."""
    try:
        from ..state.responses_import import import_responses
    except ImportError as exc:  # pragma: no cover - depends on the build
        raise click.ClickException(f"importing responses is not available ({exc})") from None
    text = source.read()
    try:
        ids = import_responses(_store(ctx), _owner(ctx), text)
    except ValueError as exc:
        raise InvalidRequestError(str(exc), param=None, code="invalid_value") from None
    for resp_id in ids:
        click.echo(resp_id)


@responses.command("get")
@click.argument("response_id")
@_store_options
@click.pass_context
@_reports_errors
def responses_get(ctx: click.Context, response_id: str) -> None:
    """Print a stored response."""
    response = _store(ctx).get_response(_owner(ctx), response_id)
    if response is None:
        raise _response_missing(response_id)
    _print(response)


@responses.command("input-items")
@click.argument("response_id")
@_page_options
@_store_options
@click.pass_context
@_reports_errors
def responses_input_items(
    ctx: click.Context, response_id: str, limit: int, order: str, after: str | None
) -> None:
    """Print a page of the items a stored response was given."""
    page = _store(ctx).list_input_items(
        _owner(ctx), response_id, limit=limit, order=order, after=after
    )
    if page is None:
        raise _response_missing(response_id)
    _print(page.to_openai())


@responses.command("delete")
@click.argument("response_id")
@_store_options
@click.pass_context
@_reports_errors
def responses_delete(ctx: click.Context, response_id: str) -> None:
    """Delete a stored response.

    The items it shares with a conversation stay in the conversation."""
    if not _store(ctx).delete_response(_owner(ctx), response_id):
        raise _response_missing(response_id)
    _print({"id": response_id, "object": "response", "deleted": True})

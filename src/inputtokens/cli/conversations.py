"""``inputtokens conversations``: the Conversations API on the local store. The commands turn
their options into the API's parameters; the checks and the store work are the service's
(state/service.py), as for the HTTP routes."""

from __future__ import annotations

from typing import IO, Any, TextIO

import click

from ..core import json_body
from ..state.service import MISSING
from .common import page_options, print_json, reports_errors, store_options, stored_objects


def _read_json(text: str | bytes, what: str) -> Any:
    """`text` parsed (None when blank), or the ``invalid_json`` error naming `what`, worded
    as for a request body (core/json_body.py)."""
    if not text.strip():
        return None
    return json_body.loads(text, what=what)


def _items_given(item_args: tuple[str, ...], source: IO[Any] | None) -> Any:
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


@click.group()
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
@store_options
@click.pass_context
@reports_errors(store=True)
def conversations_create(
    ctx: click.Context,
    item_args: tuple[str, ...],
    items_file: TextIO | None,
    pairs: tuple[str, ...],
) -> None:
    """Create a conversation, with initial items."""
    metadata = _metadata(pairs)
    items = _items_given(item_args, items_file)
    print_json(stored_objects(ctx).create_conversation(metadata, items))


@conversations.command("get")
@click.argument("conversation_id")
@store_options
@click.pass_context
@reports_errors(store=True)
def conversations_get(ctx: click.Context, conversation_id: str) -> None:
    """Print a conversation."""
    print_json(stored_objects(ctx).get_conversation(conversation_id))


@conversations.command("update")
@click.argument("conversation_id")
@_metadata_option
@click.option("--clear", is_flag=True, help="Remove all metadata.")
@store_options
@click.pass_context
@reports_errors(store=True)
def conversations_update(
    ctx: click.Context, conversation_id: str, pairs: tuple[str, ...], clear: bool
) -> None:
    """Replace a conversation's metadata.

    The --metadata pairs given become all of its metadata; --clear removes it all."""
    if clear and pairs:
        raise click.UsageError("Give --metadata or --clear, not both.")
    # Neither option leaves the metadata out, which the service refuses as the API does.
    metadata = _metadata(pairs) if clear or pairs else MISSING
    print_json(stored_objects(ctx).update_conversation(conversation_id, metadata))


@conversations.command("delete")
@click.argument("conversation_id")
@store_options
@click.pass_context
@reports_errors(store=True)
def conversations_delete(ctx: click.Context, conversation_id: str) -> None:
    """Delete a conversation.

    The items that stored responses share with it stay with the responses."""
    print_json(stored_objects(ctx).delete_conversation(conversation_id))


@conversations.group("items")
def conversation_items() -> None:
    """A conversation's items."""


@conversation_items.command("list")
@click.argument("conversation_id")
@page_options
@store_options
@click.pass_context
@reports_errors(store=True)
def items_list(
    ctx: click.Context, conversation_id: str, limit: int, order: str, after: str | None
) -> None:
    """Print a page of a conversation's items."""
    print_json(
        stored_objects(ctx).list_items(conversation_id, limit=limit, order=order, after=after)
    )


@conversation_items.command("add")
@click.argument("conversation_id")
@click.argument("source", type=click.File("r"), required=False)
@_item_option
@store_options
@click.pass_context
@reports_errors(store=True)
def items_add(
    ctx: click.Context, conversation_id: str, source: TextIO | None, item_args: tuple[str, ...]
) -> None:
    """Add items to a conversation.

    The items come as a JSON array from SOURCE (a file; stdin when left out), or as --item
    values."""
    stream = click.open_file("-") if source is None and not item_args else source
    items = _items_given(item_args, stream)
    print_json(stored_objects(ctx).add_items(conversation_id, items))


@conversation_items.command("get")
@click.argument("conversation_id")
@click.argument("item_id")
@store_options
@click.pass_context
@reports_errors(store=True)
def items_get(ctx: click.Context, conversation_id: str, item_id: str) -> None:
    """Print one item of a conversation."""
    print_json(stored_objects(ctx).get_item(conversation_id, item_id))


@conversation_items.command("delete")
@click.argument("conversation_id")
@click.argument("item_id")
@store_options
@click.pass_context
@reports_errors(store=True)
def items_delete(ctx: click.Context, conversation_id: str, item_id: str) -> None:
    """Delete an item from a conversation; prints the conversation."""
    print_json(stored_objects(ctx).delete_item(conversation_id, item_id))

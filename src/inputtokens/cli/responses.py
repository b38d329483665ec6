"""``inputtokens responses``: stored responses, the ones a count's ``previous_response_id``
names; imported from saved objects, read and deleted. The checks and the store work are the
service's (state/service.py)."""

from __future__ import annotations

from typing import TextIO

import click

from .common import page_options, print_json, reports_errors, store_options, stored_objects


@click.group()
def responses() -> None:
    """Stored responses: import, read, delete.

    The responses that previous_response_id in a count names."""


@responses.command("import")
@click.argument("source", type=click.File("r"))
@store_options
@click.pass_context
@reports_errors(store=True)
def responses_import(ctx: click.Context, source: TextIO) -> None:
    """Import responses from SOURCE (- for stdin).

    SOURCE holds a response object, a JSON array of them, or JSON lines. Prints the id of each
    one imported."""
    text = source.read()
    for resp_id in stored_objects(ctx).import_responses(text):
        click.echo(resp_id)


@responses.command("get")
@click.argument("response_id")
@store_options
@click.pass_context
@reports_errors(store=True)
def responses_get(ctx: click.Context, response_id: str) -> None:
    """Print a stored response."""
    print_json(stored_objects(ctx).get_response(response_id))


@responses.command("input-items")
@click.argument("response_id")
@page_options
@store_options
@click.pass_context
@reports_errors(store=True)
def responses_input_items(
    ctx: click.Context, response_id: str, limit: int, order: str, after: str | None
) -> None:
    """Print a page of the items a stored response was given."""
    print_json(
        stored_objects(ctx).list_input_items(response_id, limit=limit, order=order, after=after)
    )


@responses.command("delete")
@click.argument("response_id")
@store_options
@click.pass_context
@reports_errors(store=True)
def responses_delete(ctx: click.Context, response_id: str) -> None:
    """Delete a stored response.

    The items it shares with a conversation stay in the conversation."""
    print_json(stored_objects(ctx).delete_response(response_id))

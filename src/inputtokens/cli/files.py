"""``inputtokens files``: the Files API on the local store, the files a count's ``file_id``
names. The checks and the store work are the service's (state/service.py)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import print_json, reports_errors, settings, store_options, stored_objects


@click.group()
def files() -> None:
    """Uploaded files in the store.

    The operations of the Files API, on the local store: the files that file_id in a
    count names."""


@files.command("upload")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--purpose", default="user_data", show_default=True, help="The file's purpose.")
@store_options
@click.pass_context
@reports_errors(store=True)
def files_upload(ctx: click.Context, path: Path, purpose: str) -> None:
    """Upload the file at PATH.

    At most INPUTTOKENS_MAX_FILE_BYTES; prints the file object."""
    limit = settings(ctx).max_file_bytes
    with path.open("rb") as fh:
        data = fh.read(limit + 1)  # one byte more tells a file over the limit
    print_json(stored_objects(ctx).upload_file(path.name, purpose, data, limit=limit))


@files.command("list")
@store_options
@click.pass_context
@reports_errors(store=True)
def files_list(ctx: click.Context) -> None:
    """List the stored files, newest first."""
    print_json(stored_objects(ctx).list_files())


@files.command("get")
@click.argument("file_id")
@store_options
@click.pass_context
@reports_errors(store=True)
def files_get(ctx: click.Context, file_id: str) -> None:
    """Print a file's object."""
    print_json(stored_objects(ctx).get_file(file_id))


@files.command("content")
@click.argument("file_id")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the bytes to this file (default: stdout).",
)
@store_options
@click.pass_context
@reports_errors(store=True)
def files_content(ctx: click.Context, file_id: str, output: Path | None) -> None:
    """Write a file's bytes to stdout, or to --output."""
    data = stored_objects(ctx).file_content(file_id)
    if output is None or str(output) == "-":
        click.echo(data, nl=False)  # bytes go to the binary stream as they are
    else:
        output.write_bytes(data)


@files.command("delete")
@click.argument("file_id")
@store_options
@click.pass_context
@reports_errors(store=True)
def files_delete(ctx: click.Context, file_id: str) -> None:
    """Delete a file."""
    print_json(stored_objects(ctx).delete_file(file_id))

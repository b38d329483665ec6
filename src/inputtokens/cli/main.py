"""The root group and the commands over the library and the server: count, render, models,
serve. The store's command groups (conversations, files, responses) and batch join the root
here, each imported only when it runs (cli/lazy.py)."""

from __future__ import annotations

import gc
import json
import sys
from dataclasses import replace
from typing import Any, BinaryIO

import click

from ..core import json_body
from ..library import (
    count_chat_tokens,
    count_embedding_tokens,
    count_input_tokens,
    local_sources,
    render_chat_prompt,
    render_prompt,
)
from ..settings import Settings
from .common import owner, reports_errors, settings, store_options
from .lazy import LazyGroup


def _load_body(source: BinaryIO, model: str | None) -> Any:
    """The body read from `source` as bytes: one that is not JSON (or not UTF-8) is the
    ``invalid_json`` error the HTTP API answers (core/json_body.py)."""
    body = json_body.loads(source.read())
    if model is not None and isinstance(body, dict):
        body = {**body, "model": model}
    return body


def _batch() -> click.Command:
    from .batch import batch

    return batch


def _conversations() -> click.Command:
    from .conversations import conversations

    return conversations


def _files() -> click.Command:
    from .files import files

    return files


def _responses() -> click.Command:
    from .responses import responses

    return responses


@click.group(
    cls=LazyGroup,
    lazy={
        "batch": _batch,
        "conversations": _conversations,
        "files": _files,
        "responses": _responses,
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="inputtokens")
@click.option(
    "--no-fetch",
    is_flag=True,
    help="Never fetch http(s) images or files; count them by the documented "
    "assumption, flagged (same as INPUTTOKENS_REMOTE_FETCH=0).",
)
@click.pass_context
def cli(ctx: click.Context, no_fetch: bool) -> None:
    """Count OpenAI Responses API input tokens offline (Chat Completions and Embeddings
    bodies too)."""
    try:
        read = Settings.from_env()
        read.count_options()  # a bad models file fails here, once, with its message
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    ctx.obj = replace(read, remote_fetch=False) if no_fetch else read


_source = click.argument("source", type=click.File("rb"), default="-")
_model = click.option("--model", "-m", help="Override the body's model.")
_api = click.option(
    "--api",
    type=click.Choice(["auto", "responses", "chat", "embeddings"]),
    default="auto",
    show_default=True,
    help="The body's format: a Responses body, a Chat Completions body (messages), an "
    "Embeddings body, or detected (a body with 'messages' and no 'input' is a chat body, one "
    "naming an embedding model an Embeddings body).",
)


def _api_of(body: Any, api: str) -> str:
    """The format of `body`: as given, or detected."""
    if api != "auto" or not isinstance(body, dict):
        return "responses" if api == "auto" else api
    if "messages" in body and "input" not in body:
        return "chat"
    model = body.get("model")
    if isinstance(model, str) and model.startswith("text-embedding-"):
        return "embeddings"
    return "responses"


@cli.command()
@_source
@_model
@_api
@click.option("--json", "as_json", is_flag=True, help="Print the detailed view as JSON.")
@click.option("--tokens", is_flag=True, help="Include token ids and strings (implies --json).")
@store_options
@click.pass_context
@reports_errors(store=False, rich=("as_json", "tokens"))
def count(
    ctx: click.Context, source: BinaryIO, model: str | None, api: str, as_json: bool, tokens: bool
) -> None:
    """Count the input tokens of a request body read from SOURCE (a file or - for stdin): a
    Responses, Chat Completions or Embeddings body."""
    body = _load_body(source, model)
    read = settings(ctx)
    kind = _api_of(body, api)
    if kind == "chat":
        sources = local_sources(read, owner=owner(ctx))
        result = count_chat_tokens(body, settings=read, sources=sources, return_tokens=tokens)
    elif kind == "embeddings":
        result = count_embedding_tokens(body, return_tokens=tokens)
    else:
        sources = local_sources(read, owner=owner(ctx))
        result = count_input_tokens(body, settings=read, sources=sources, return_tokens=tokens)
    if as_json or tokens:
        click.echo(json.dumps(result.to_rich(), indent=2, ensure_ascii=False))
    else:
        click.echo(result.input_tokens)


@cli.command()
@_source
@_model
@_api
@click.option(
    "--files",
    "show_files",
    is_flag=True,
    help="After each file's marker, show the text counted for it (a PDF's extracted text) "
    "between <[file text> and <file text]>.",
)
@click.pass_context
@reports_errors(store=False)
def render(
    ctx: click.Context, source: BinaryIO, model: str | None, api: str, show_files: bool
) -> None:
    """Print the prompt exactly as the model sees it, framing tokens visible."""
    body = _load_body(source, model)
    read = settings(ctx)
    kind = _api_of(body, api)
    if kind == "embeddings":
        raise click.UsageError("an Embeddings body has no prompt to render; use count")
    if kind == "chat":
        prompt = render_chat_prompt(body, settings=read, sources=local_sources(read))
    else:
        prompt = render_prompt(body, settings=read, sources=local_sources(read))
    click.echo(prompt.render_text(files=show_files), nl=False)
    if sys.stdout.isatty():
        click.echo()


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def models(ctx: click.Context, as_json: bool) -> None:
    """List the known models with their encoding, context window, input and output limits."""
    rows = list(settings(ctx).count_options().models.models.values())
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": m.id,
                        "family": m.family,
                        "encoding": m.encoding,
                        "context_window": m.context_window,
                        "max_input_tokens": m.input_limit,
                        "max_output_tokens": m.max_output_tokens,
                    }
                    for m in rows
                ],
                indent=2,
            )
        )
        return
    click.echo(
        f"{'model':<26} {'family':<8} {'encoding':<14} {'context':>10} {'max in':>10} "
        f"{'max out':>8}"
    )
    for m in rows:
        click.echo(
            f"{m.id:<26} {m.family:<8} {m.encoding:<14} {m.context_window:>10} "
            f"{m.input_limit:>10} {m.max_output_tokens:>8}"
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
    gc.disable()  # as for the CLI's own import (__main__.py)
    try:
        from ..server import StartupError, run
    except ImportError as exc:
        raise click.ClickException(
            f"serving needs the server extra ({exc.name} is missing): "
            "pip install 'inputtokens[server]'"
        ) from None
    finally:
        gc.enable()
    overrides = {
        k: v for k, v in (("host", host), ("port", port), ("workers", workers)) if v is not None
    }
    try:
        run(replace(settings(ctx), **overrides))  # type: ignore[arg-type]
    except StartupError as exc:
        raise _CannotServe(str(exc)) from None


class _CannotServe(click.ClickException):
    """The server cannot start under these settings: one line, exit status 2 (docs/cli.md)."""

    exit_code = 2

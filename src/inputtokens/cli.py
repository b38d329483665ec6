"""The command line: a thin click adapter over the library and the server.

    inputtokens count [FILE|-] [--json] [--tokens] [--model M]
    inputtokens render [FILE|-] [--model M]
    inputtokens models [--json]
    inputtokens serve [--host H] [--port P] [--workers N]

Every option of ``serve`` also reads ``INPUTTOKENS_<OPTION>`` (e.g. INPUTTOKENS_PORT), and the
counting settings come from the environment as documented in docs/configuration.md.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from typing import Any, TextIO

import click

from .counting import count_input_tokens, render_prompt
from .errors import InputTokensError
from .models import MODELS
from .settings import Settings


def _load_body(source: TextIO, model: str | None) -> Any:
    text = source.read()
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"the request is not valid JSON: {exc}") from None
    if model is not None and isinstance(body, dict):
        body = {**body, "model": model}
    return body


def _fail(exc: InputTokensError) -> None:
    click.echo(json.dumps(exc.to_envelope(), indent=2), err=True)
    sys.exit(1)


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="inputtokens")
@click.option("--no-fetch", is_flag=True,
              help="Never fetch http(s) images or files; count them by the documented "
                   "assumption, flagged (same as INPUTTOKENS_REMOTE_FETCH=0).")
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
@click.pass_context
def count(ctx: click.Context, source: TextIO, model: str | None, as_json: bool,
          tokens: bool) -> None:
    """Count the input tokens of a request body read from SOURCE (a file or - for stdin)."""
    body = _load_body(source, model)
    try:
        result = count_input_tokens(body, settings=_settings(ctx), return_tokens=tokens)
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
        click.echo(json.dumps([
            {"id": m.id, "family": m.family, "encoding": m.encoding,
             "context_window": m.context_window, "max_output_tokens": m.max_output_tokens}
            for m in rows], indent=2))
        return
    click.echo(f"{'model':<26} {'family':<8} {'encoding':<14} {'context':>10} {'max out':>8}")
    for m in rows:
        click.echo(f"{m.id:<26} {m.family:<8} {m.encoding:<14} {m.context_window:>10} "
                   f"{m.max_output_tokens:>8}")


@cli.command()
@click.option("--host", envvar="INPUTTOKENS_HOST", default=None, help="Bind address.")
@click.option("--port", envvar="INPUTTOKENS_PORT", type=int, default=None, help="Port.")
@click.option("--workers", envvar="INPUTTOKENS_WORKERS", type=int, default=None,
              help="Worker processes (default 1).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the OpenAI-compatible HTTP service."""
    try:
        from .server import run
    except ImportError as exc:
        raise click.ClickException(
            f"serving needs the server extra ({exc.name} is missing): "
            "pip install 'inputtokens[server]'"
        ) from None
    settings = _settings(ctx)
    overrides = {k: v for k, v in (("host", host), ("port", port), ("workers", workers))
                 if v is not None}
    run(replace(settings, **overrides))  # type: ignore[arg-type]

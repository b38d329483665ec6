"""``inputtokens batch FILE``: the pre-flight of an OpenAI Batch API input file.

Counts every line (streaming, on the usable cores or a Dask cluster), writes the per-line
results and the summary, checks the file as OpenAI would, says whether it fits a queue limit
and splits it into shards that do. Exit status: 0 every line counted, 1 some lines in error, 2
unusable arguments or file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Any

import click

from ..batch.run import BatchRun, LocalCounter, WindowCounter, count_stream
from ..batch.summary import price_line
from ..settings import Settings, default_workers
from .common import settings as read_settings


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    help="Write one JSON line per input line (its count or its error), in order.",
)
@click.option(
    "--summary",
    "summary_path",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    help="Write the summary as JSON (lines, tokens, per model counts and cost, file checks).",
)
@click.option(
    "--queue-limit",
    type=click.IntRange(min=1),
    help="The model's enqueued-token limit: say whether the file fits it.",
)
@click.option(
    "--split",
    "split_dir",
    type=click.Path(file_okay=False, writable=True),
    help="With --queue-limit: write shards of the file, each within the limit, to this folder.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes counting lines (default: the usable cores).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Count on this machine's processes, or on a Dask cluster (a local one of --workers "
    "processes unless --dask-address names a scheduler).",
)
@click.option("--dask-address", help="A Dask scheduler to use with --engine dask.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="A progress bar on stderr (default: when stderr is a terminal).",
)
@click.pass_context
def batch(
    ctx: click.Context,
    file: str,
    output: str | None,
    summary_path: str | None,
    queue_limit: int | None,
    split_dir: str | None,
    workers: int | None,
    engine: str,
    dask_address: str | None,
    progress: bool | None,
) -> None:
    """Count every line of a Batch API input FILE (JSONL; - for stdin)."""
    if split_dir and queue_limit is None:
        raise click.UsageError("--split needs --queue-limit")
    settings = read_settings(ctx)
    shards_dir = Path(split_dir) if split_dir else None
    if shards_dir is not None:
        shards_dir.mkdir(parents=True, exist_ok=True)
    counter = _counter(engine, workers or default_workers(), settings, dask_address)
    source = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115 - closed below
    out = _open_output(output)
    try:
        show = sys.stderr.isatty() if progress is None else progress
        bar = _progress_bar(source, show)
        run = count_stream(
            source,
            counter,
            output=out,
            queue_limit=queue_limit,
            split_dir=shards_dir,
            price=price_line,
            progress=bar.update if bar is not None else None,
        )
        if bar is not None:
            bar.close()
    finally:
        counter.close()
        if source is not sys.stdin.buffer:
            source.close()
        if out is not None and out is not sys.stdout.buffer:
            out.close()
    report = run.report()
    if summary_path:
        text = json.dumps(report, indent=2) + "\n"
        if summary_path == "-":
            click.echo(text, nl=False)
        else:
            Path(summary_path).write_text(text, encoding="utf-8")
    _print_table(run, err=output == "-" or summary_path == "-")
    sys.exit(1 if run.summary.errors else 0)


def _counter(engine: str, workers: int, settings: Settings, address: str | None) -> WindowCounter:
    if engine == "dask":
        try:
            from ..batch.engine import DaskCounter
        except ImportError as exc:  # pragma: no cover - the batch extra installs it
            raise click.UsageError(
                f"--engine dask needs Dask: pip install 'inputtokens[batch]' ({exc})"
            ) from None
        return DaskCounter(workers, settings, address)
    return LocalCounter(workers, settings)


def _open_output(output: str | None) -> IO[bytes] | None:
    if output is None:
        return None
    if output == "-":
        return sys.stdout.buffer
    return open(output, "wb")  # noqa: SIM115 - closed by the caller


def _progress_bar(source: IO[bytes], show: bool) -> Any:
    if not show:
        return None
    from tqdm import tqdm

    total = None
    try:
        import os

        total = os.fstat(source.fileno()).st_size
    except (OSError, ValueError):
        pass
    return tqdm(total=total, unit="B", unit_scale=True, desc="lines counted", file=sys.stderr)


def _print_table(run: BatchRun, err: bool) -> None:
    """The summary for a person, on stdout (stderr when stdout carries results)."""
    s = run.summary

    def echo(text: str) -> None:
        click.echo(text, err=err)

    echo(f"lines {s.lines}  counted {s.counted}  errors {s.errors}  exact {s.exact_lines}")
    echo(f"input tokens {s.input_tokens}")
    if s.by_model:
        echo(
            f"{'model':<28} {'lines':>7} {'input tokens':>14} {'over window':>11} {'batch USD':>10}"
        )
        for name, totals in sorted(s.by_model.items()):
            cost = totals.to_dict()["cost_usd"]
            usd = f"{cost['batch']:.4f}" if cost else "-"
            echo(
                f"{name:<28} {totals.lines:>7} {totals.input_tokens:>14} "
                f"{len(totals.over_context_window):>11} {usd:>10}"
            )
    if run.queue_limit is not None:
        verdict = "fits" if run.fits else "does not fit"
        echo(f"queue limit {run.queue_limit}: the file {verdict}")
    for shard in run.shards:
        over = "  OVER THE LIMIT (one line)" if shard.too_large else ""
        echo(
            f"shard-{shard.index + 1:04d}.jsonl  lines {shard.first_line}-{shard.last_line}  "
            f"input tokens {shard.input_tokens}{over}"
        )
    for warning in s.warnings():
        echo(f"warning: {warning}")
    for error in s.first_errors:
        echo(f"line {error['line']}: {error['code']}: {error['message']}")

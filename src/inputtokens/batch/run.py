"""A batch file streamed through the line counter: in order, in constant memory, on one
process or several.

The file is read line by line and counted in windows of ``WINDOW`` lines, so memory does not
grow with the file (a window's lines, its results, and the summary's per-line sets: custom ids
and over-window line numbers). A ``WindowCounter`` counts the windows: this process, a pool of
processes on this machine (``LocalCounter``), or a Dask cluster (engine.py); each keeps the
order. Every worker builds its own sources from the settings it is handed, since stores and
sockets do not cross processes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

import orjson

from .engine import Window, count_window
from .lines import LineResult
from .split import Shard, ShardPlanner
from .summary import PriceFn, Summary

if TYPE_CHECKING:
    from ..settings import Settings

WINDOW = 2048  # lines read and counted at a time
_CHUNK = 256  # lines handed to a worker process at a time
_IN_FLIGHT = 2  # windows submitted ahead of the one being written


@dataclass(slots=True)
class BatchRun:
    """The outcome of a file: its summary and, when split, its shards."""

    summary: Summary
    shards: list[Shard] = field(default_factory=list)
    queue_limit: int | None = None

    @property
    def fits(self) -> bool | None:
        """Whether the whole file fits the queue limit (None without a limit)."""
        if self.queue_limit is None:
            return None
        return self.summary.input_tokens <= self.queue_limit

    def report(self) -> dict[str, Any]:
        """The summary as ``--summary`` writes it and the HTTP route answers it."""
        report = self.summary.to_dict()
        if self.queue_limit is not None:
            report["queue_limit"] = self.queue_limit
            report["fits_queue_limit"] = self.fits
        if self.shards:
            report["shards"] = [
                {
                    "file": f"shard-{s.index + 1:04d}.jsonl",
                    "first_line": s.first_line,
                    "last_line": s.last_line,
                    "lines": s.lines,
                    "input_tokens": s.input_tokens,
                    "over_queue_limit": s.too_large,
                }
                for s in self.shards
            ]
        return report


class WindowCounter(Protocol):
    """Counts windows of numbered lines, yielding each window with its results, in order."""

    def map(self, windows: Iterator[Window]) -> Iterator[tuple[Window, list[LineResult]]]: ...

    def close(self) -> None: ...


class LocalCounter:
    """This process, or a pool of `workers` processes on this machine (each window split into
    chunks across the pool; ``map`` keeps the order)."""

    def __init__(self, workers: int, settings: Settings | None) -> None:
        self.settings = settings
        self.pool = None
        if workers > 1:
            self.pool = ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(settings,))

    def map(self, windows: Iterator[Window]) -> Iterator[tuple[Window, list[LineResult]]]:
        if self.pool is None:
            for window in windows:
                yield window, count_window(window, self.settings)
            return
        # A few windows in flight, so the workers count the next one while this process
        # writes the results of the last; order is kept by taking them oldest first.
        pending: deque[tuple[Window, list[Future[list[LineResult]]]]] = deque()
        for window in windows:
            chunks = [window[i : i + _CHUNK] for i in range(0, len(window), _CHUNK)]
            pending.append((window, [self.pool.submit(_count_in_worker, c) for c in chunks]))
            if len(pending) > _IN_FLIGHT:
                yield _done(pending.popleft())
        while pending:
            yield _done(pending.popleft())

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


_worker_settings: Settings | None = None


def _done(
    entry: tuple[Window, list[Future[list[LineResult]]]],
) -> tuple[Window, list[LineResult]]:
    window, futures = entry
    return window, [result for future in futures for result in future.result()]


def _init_worker(settings: Settings | None) -> None:
    global _worker_settings
    _worker_settings = settings


def _count_in_worker(chunk: Window) -> list[LineResult]:
    return count_window(chunk, _worker_settings)


def _windows(stream: IO[bytes]) -> Iterator[Window]:
    numbered = enumerate(stream, 1)
    while window := list(islice(numbered, WINDOW)):
        yield window


def count_stream(
    stream: IO[bytes],
    counter: WindowCounter,
    *,
    output: IO[bytes] | None = None,
    queue_limit: int | None = None,
    split_dir: Path | None = None,
    price: PriceFn | None = None,
    progress: Callable[[int], None] | None = None,
) -> BatchRun:
    """Count every line of a batch file read from `stream` with `counter`.

    `output`: one JSON line per input line, in order. `queue_limit` with `split_dir`: shard
    files ``shard-0001.jsonl``, ... of the original lines, each within the limit (a line over
    it alone gets a shard of its own). `progress`: called with the bytes of each window done.
    """
    run = BatchRun(Summary(price), queue_limit=queue_limit)
    planner = ShardPlanner(queue_limit) if queue_limit is not None and split_dir else None
    shard_file: IO[bytes] | None = None
    try:
        for window, results in counter.map(_windows(stream)):
            for (_, raw), result in zip(window, results, strict=True):
                run.summary.add(result, len(raw))
                if output is not None:
                    output.write(orjson.dumps(result.to_dict()) + b"\n")
                if planner is not None and split_dir is not None:
                    shard = planner.add(result.line, result.input_tokens)
                    if shard.lines == 1:  # this line opens a new shard
                        if shard_file is not None:
                            shard_file.close()
                        shard_file = (split_dir / f"shard-{shard.index + 1:04d}.jsonl").open("wb")
                    assert shard_file is not None
                    shard_file.write(raw if raw.endswith(b"\n") else raw + b"\n")
            if progress is not None:
                progress(sum(len(raw) for _, raw in window))
    finally:
        if shard_file is not None:
            shard_file.close()
    if planner is not None:
        run.shards = planner.shards
    return run

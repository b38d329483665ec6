"""Counting batch lines on an existing distributed engine (Dask), not a home-made one.

``count_batch_lines`` is the library entry point a job calls on one partition of a batch file:
raw lines in, one result dict per line out, in order (the shape of ``--output``). A Dask job::

    import dask.bag as db
    from inputtokens.batch.engine import count_batch_lines

    lines = db.read_text("batch.jsonl", blocksize="16MiB")
    results = lines.map_partitions(count_batch_lines).compute()

(Line numbers restart in each partition there; ``DaskCounter`` numbers them for the whole file.)
A Ray Data job calls the same function from ``map_batches``.

Why Dask: pure Python wheels that install in seconds on any machine the package runs on, and a
``LocalCluster`` of real worker processes that starts in about a second, so CI runs the same
code path as a cluster (docs/batch.md).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..count.needs import Sources
from ..count.pipeline import DEFAULT_OPTIONS, CountOptions
from .lines import LineResult, Shortcuts, count_line

if TYPE_CHECKING:
    from ..settings import Settings

# Numbered raw lines of a batch file, counted together.
Window = list[tuple[int, bytes]]


def count_batch_lines(
    lines: Sequence[str | bytes],
    first_line: int = 1,
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Count one partition of a batch file: each raw line's result, in order, numbered from
    `first_line`. `settings`: the counting options and where stored files and URLs are read
    (None: the defaults, and such lines refused as a library call without sources)."""
    return [r.to_dict() for r in count_window(list(enumerate(lines, first_line)), settings)]


def count_window(
    window: Sequence[tuple[int, str | bytes]], settings: Settings | None = None
) -> list[LineResult]:
    """Count numbered raw lines with `settings` (see ``count_batch_lines``)."""
    options, sources, shortcuts = _context(settings)
    results = []
    for number, raw in window:
        if not raw.strip():
            error = {"message": "The line is empty.", "code": "invalid_json", "param": None}
            results.append(LineResult(number, None, error=error))
        elif sources is None:
            results.append(count_line(raw, number, options, shortcuts=shortcuts))
        else:
            results.append(count_line(raw, number, options, sources, shortcuts))
    return results


@lru_cache(maxsize=4)  # per process: the options and sources of the settings it counts with
def _context(settings: Settings | None) -> tuple[CountOptions, Sources | None, Shortcuts]:
    """The options, sources and shortcuts of `settings`: a plain-text counter of the options
    and the process's content cache of the settings' bounds, the library's own."""
    # Imported here: the library's sources open the store on first use, in this process.
    from ..library import cache_for, local_sources, plain_counter
    from ..settings import Settings

    if settings is None:
        options, bounds, sources = DEFAULT_OPTIONS, Settings().cache_bounds(), None
    else:
        options, bounds = settings.count_options(), settings.cache_bounds()
        sources = local_sources(settings)
    return options, sources, Shortcuts(plain_counter(options), cache_for(*bounds))


class DaskCounter:
    """Counts windows of lines on a Dask cluster (a scheduler address, or a local cluster of
    `workers` processes), keeping a few windows in flight and their order."""

    def __init__(self, workers: int, settings: Settings | None, address: str | None = None) -> None:
        from distributed import Client, LocalCluster

        self.settings = settings
        if address:
            self.cluster = None
            self.client = Client(address)  # type: ignore[no-untyped-call]
        else:
            self.cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self.client = Client(self.cluster)  # type: ignore[no-untyped-call]
        self.in_flight = max(workers, 1) * 2

    def map(self, windows: Iterator[Window]) -> Iterator[tuple[Window, list[LineResult]]]:
        """Each window of `windows` with its results, in order."""
        pending: deque[tuple[Window, Any]] = deque()
        for window in windows:
            # The lines travel as data, not inside the task graph (Dask's advice for big inputs).
            lines = self.client.scatter(window)  # type: ignore[no-untyped-call]
            future = self.client.submit(count_window, lines, self.settings, pure=False)
            pending.append((window, future))
            if len(pending) >= self.in_flight:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call]
        if self.cluster is not None:
            self.cluster.close()

"""Write cost of SQLite's ``synchronous`` modes in the store: conversation items appended per
second with FULL (the store's default: every commit fsyncs the WAL) and NORMAL (WAL synced at
checkpoints only), in one run, on fresh databases in a temporary directory.

    python bench/bench_store.py [--dir DIR] [--rounds N]

Each round appends, to one conversation per mode, items one per call (a commit each) and then
20 per call (OpenAI's most per request), alternating the modes. The medians are printed.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from inputtokens.state.store import Store

MODES = ("NORMAL", "FULL")


def _item(n: int) -> dict[str, Any]:
    text = f"item {n} " * 50
    return {
        "type": "message",
        "role": "user",
        "id": f"msg_{n}",
        "content": [{"type": "input_text", "text": text}],
    }


def _append(directory: Path, mode: str, batch: int, calls: int) -> float:
    """Items appended per second, `batch` per call, on a fresh database."""
    store = Store(f"sqlite:///{directory / f'{mode}-{batch}.db'}", sqlite_synchronous=mode)
    try:
        conv = store.create_conversation("", {}, [])
        start = time.perf_counter()
        for call in range(calls):
            store.add_items("", conv.id, [_item(call * batch + k) for k in range(batch)])
        return calls * batch / (time.perf_counter() - start)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", help="where the databases go (default: a temporary directory)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--calls", type=int, default=1000, help="calls per mode of one item (half as many of 20)"
    )
    args = parser.parse_args()
    print(f"machine: {platform.platform()}; CPython {platform.python_version()}")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        print(f"databases in {tmp}")
        for batch in (1, 20):
            rates: dict[str, list[float]] = {mode: [] for mode in MODES}
            for round_ in range(args.rounds):
                for mode in MODES:
                    directory = Path(tmp) / f"{round_}"
                    directory.mkdir(exist_ok=True)
                    calls = args.calls if batch == 1 else args.calls // 2
                    rates[mode].append(_append(directory, mode, batch, calls))
            normal, full = (statistics.median(rates[mode]) for mode in MODES)
            print(
                f"{batch:2d} item(s) per call: NORMAL {normal:7,.0f} items/s, "
                f"FULL {full:7,.0f} items/s ({normal / full:.1f}x slower; "
                f"per call {1000 * batch / normal:.2f} ms -> {1000 * batch / full:.2f} ms)"
            )


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Benchmark: the memory of one server worker after many distinct bodies, caches on and off.

Run from the repository root with the project's interpreter::

    python bench/bench_cache_memory.py                    # 100,000 distinct bodies per server
    python bench/bench_cache_memory.py --bodies 20000     # quicker
    python bench/bench_cache_memory.py --body tiny --json

In one run the script starts two servers as subprocesses (``python -m inputtokens serve
--workers 1``, the same clean environment as bench_http.py), one after the other:

- **off**: both caches off (``INPUTTOKENS_CACHE_ENTRIES=0``): what a worker holds without them;
- **default**: the cache settings as shipped.

Each gets the same `--bodies` distinct bodies (no body and no long text repeats, the worst case
for the caches: every one is a new entry), over `--connections` keep-alive connections. The
worker's resident memory (VmRSS) is read when it is ready and after the bodies, and the caches'
figures from its ``GET /metrics``. Reported: the absolute MiB, the growth, and default / off.
The exit code is 0 unless the script itself fails: it reports, it does not gate.

``--overhead`` measures instead, with tracemalloc, what an OrderedDict costs per entry beyond
its keys and values (core/token_cache.py ENTRY_OVERHEAD): filled to sizes around its resizes,
and at its bound with the least recently used entry dropped for each new one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_count  # noqa: E402
import bench_http  # noqa: E402

COUNT_PATH = bench_http.COUNT_PATH
SETTINGS = {
    "off": {"INPUTTOKENS_CACHE_ENTRIES": "0"},
    "default": {},
}


def body(kind: str, i: int) -> bytes:
    """The `i`-th distinct body: bench_count's tiny or small request with `i` in one text. The
    tiny one is bench_count's tiny message after a short developer message: a plain text
    alone (under 2,048 characters) would not be kept in the content cache behind the answer
    cache, and the worst case for memory is a new entry in both caches per body."""
    if kind == "tiny":
        tiny, _ = bench_count.tiny_pipeline_request("gpt-5")
        tiny["input"][-1]["content"][0]["text"] = f"{i}: {bench_count.TINY_TEXT}"
        return json.dumps(tiny).encode()
    small, _ = bench_count.small_request("gpt-5")
    small = dict(small)
    items = list(small["input"])
    items.append({"role": "user", "content": f"Request {i}: and the day after that?"})
    small["input"] = items
    return json.dumps(small).encode()


async def _send_all(port: int, payloads: list[bytes], connections: int) -> int:
    """Send every payload once over `connections` keep-alive connections; the non-200 count."""
    errors = 0
    queue = iter(payloads)

    async def conn() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for payload in queue:
                writer.write(bench_http.http_request(port, COUNT_PATH, payload))
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                if not head.startswith(b"HTTP/1.1 200"):
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(conn() for _ in range(connections)))
    return errors


def metrics(port: int) -> dict[str, float]:
    """The worker's /metrics figures (name without labels -> value)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
        text = r.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name.split("{", 1)[0]] = float(value)
    return out


def measure(name: str, extra_env: dict[str, str], payloads: list[bytes], args: Any) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench_cache_memory_") as tmp_name:
        tmp = Path(tmp_name)
        env = bench_http.clean_env(tmp)
        env.update(extra_env)
        server = bench_http.start_server(name, bench_http.serve_command(), env, tmp, args.workers)
        try:
            ready = server.rss_mib()
            started = time.perf_counter()
            errors = asyncio.run(_send_all(server.port, payloads, args.connections))
            seconds = time.perf_counter() - started
            after = server.rss_mib()
            figures = metrics(server.port)
        finally:
            bench_http.stop_servers({name: server})
    caches = {k: v for k, v in figures.items() if "_cache_" in k}
    return {
        "env": extra_env,
        "ready_rss_mib": max(ready),
        "rss_mib": max(after),
        "growth_mib": max(after) - max(ready),
        "seconds": seconds,
        "errors": errors,
        "metrics": caches,
    }


def overhead() -> dict[str, float]:
    """Bytes per entry of an OrderedDict of 16-byte keys and int values, beyond the keys and
    values (created beforehand): filled to n, and at its worst while churning at n."""
    import os
    import tracemalloc
    from collections import OrderedDict

    out: dict[str, float] = {}
    for n in (10_922, 10_923, 43_690, 43_691, 65_536, 100_000):
        keys = [os.urandom(16) for _ in range(4 * n)]
        values = [1000 + i for i in range(4 * n)]
        tracemalloc.start()
        start = tracemalloc.get_traced_memory()[0]
        table: OrderedDict[bytes, int] = OrderedDict()
        worst = 0
        for i, (k, v) in enumerate(zip(keys, values, strict=True)):
            table[k] = v
            if i + 1 == n:
                out[f"filled {n:,}"] = (tracemalloc.get_traced_memory()[0] - start) / n
            if len(table) > n:
                table.popitem(last=False)
                worst = max(worst, tracemalloc.get_traced_memory()[0] - start)
        tracemalloc.stop()
        out[f"churned {n:,}"] = worst / n
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    payloads = [body(args.body, i) for i in range(args.bodies)]
    results: dict[str, Any] = {
        "bodies": args.bodies,
        "body": args.body,
        "body_bytes": len(payloads[0]),
        "servers": {},
    }
    for name, env in SETTINGS.items():
        results["servers"][name] = measure(name, env, payloads, args)
    off, default = results["servers"]["off"], results["servers"]["default"]
    results["ratio"] = default["rss_mib"] / off["rss_mib"]
    return results


def print_report(res: dict[str, Any]) -> None:
    print(
        f"worker memory after {res['bodies']:,} distinct {res['body']} bodies "
        f"({res['body_bytes']:,} bytes of JSON each), one worker per server:"
    )
    print(f"{'caches':<10}{'ready MiB':>11}{'after MiB':>11}{'growth':>9}{'req/s':>9}  cache bytes")
    for name, s in res["servers"].items():
        held = [
            f"{k.removeprefix('inputtokens_').removesuffix('_bytes')} {int(v):,}"
            for k, v in s["metrics"].items()
            if k.endswith("_bytes")
        ]
        print(
            f"{name:<10}{s['ready_rss_mib']:>11.1f}{s['rss_mib']:>11.1f}{s['growth_mib']:>9.1f}"
            f"{res['bodies'] / s['seconds']:>9.0f}  {', '.join(held) or '-'}"
            + (f"  ({s['errors']} errors)" if s["errors"] else "")
        )
    print(f"default / off: {res['ratio']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bodies", type=int, default=100_000, help="distinct bodies (100,000)")
    parser.add_argument(
        "--body", choices=("tiny", "small"), default="tiny", help="body shape (tiny)"
    )
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections (8)")
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--overhead", action="store_true", help="measure ENTRY_OVERHEAD only")
    args = parser.parse_args(argv)
    if args.overhead:
        for case, per_entry in overhead().items():
            print(f"{case:>16}: {per_entry:6.1f} bytes per entry")
        return 0
    res = run(args)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print_report(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())

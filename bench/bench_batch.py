"""Batch pre-flight throughput and memory, as ratios against a plain loop in the same run.

    .venv/bin/python bench/bench_batch.py            # 20,000 lines: lines/s for 1 and 2 workers
    .venv/bin/python bench/bench_batch.py --quick    # 2,000 lines
    .venv/bin/python bench/bench_batch.py --memory   # and peak memory on a 200 MB file

The file is generated (seeded): Responses, Chat Completions and Embeddings lines of a few
hundred tokens each, one bad line in 50. The baseline is the plainest correct loop over the
library: read each line, decode it, call the library function of its url. ``count_stream`` is
timed with this process alone (workers 1) and with a pool of 2 processes. Memory: the peak RSS
of a fresh process counting a 200 MB file with ``inputtokens batch`` (1 worker), next to the
peak of the same command on a 3-line file. Reports, never enforces.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inputtokens import count_chat_tokens, count_embedding_tokens, count_input_tokens
from inputtokens.batch.run import LocalCounter, count_stream

WORDS = "the of and to in is that for it as with was on be by at this from or an are".split()
URLS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings")


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def write_file(path: Path, lines: int, words: int = 150, seed: int = 1) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            if i % 50 == 49:
                out.write("{not json\n")
                continue
            url = URLS[i % 3]
            text = _text(rng, words)
            if url == "/v1/responses":
                body = {"model": "gpt-4o-mini", "instructions": "Be brief.", "input": text}
            elif url == "/v1/chat/completions":
                body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
            else:
                body = {"model": "text-embedding-3-small", "input": [text]}
            record = {"custom_id": f"r{i}", "method": "POST", "url": url, "body": body}
            out.write(json.dumps(record) + "\n")


def plain_loop(path: Path) -> int:
    """The baseline: each line decoded and counted by the library function of its url."""
    total = 0
    count = {
        "/v1/responses": count_input_tokens,
        "/v1/chat/completions": count_chat_tokens,
        "/v1/embeddings": count_embedding_tokens,
    }
    with path.open("rb") as lines:
        for raw in lines:
            try:
                record = json.loads(raw)
                total += count[record["url"]](record["body"]).input_tokens
            except Exception:  # a bad line: counted as an error by the batch runner
                pass
    return total


def batch(path: Path, workers: int) -> int:
    counter = LocalCounter(workers, None)
    try:
        with path.open("rb") as stream:
            return count_stream(stream, counter).summary.input_tokens
    finally:
        counter.close()


def _best(fn, *args, rounds: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def _peak_rss_mb(args: list[str]) -> float:
    """The peak resident memory of a fresh process running `args` (VmHWM of /proc)."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = {args!r}\n"
        "try:\n"
        "    runpy.run_module(sys.argv[0], run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "for line in open('/proc/self/status'):\n"
        "    if line.startswith('VmHWM:'):\n"
        "        print(int(line.split()[1]) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--memory", action="store_true")
    args = ap.parse_args()
    lines = 2_000 if args.quick else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.jsonl"
        write_file(path, lines)
        size = path.stat().st_size
        assert plain_loop(path) == batch(path, 1) == batch(path, 2), "the counts differ"
        rounds = 1 if args.quick else 3
        base = _best(plain_loop, path, rounds=rounds)
        one = _best(batch, path, 1, rounds=rounds)
        two = _best(batch, path, 2, rounds=rounds)
        print(f"{lines} lines, {size / 1e6:.1f} MB")
        print(f"{'runner':<28} {'lines/s':>10} {'vs plain loop':>14}")
        for name, seconds in (
            ("plain loop over the library", base),
            ("inputtokens batch, 1 worker", one),
            ("inputtokens batch, 2 workers", two),
        ):
            print(f"{name:<28} {lines / seconds:>10.0f} {base / seconds:>13.2f}x")
        if args.memory:
            big = Path(tmp) / "big.jsonl"
            write_file(big, 50_000, words=1100, seed=2)  # about 200 MB
            small = Path(tmp) / "one.jsonl"
            write_file(small, 3, words=1100, seed=2)  # the same code path on three lines
            idle = _peak_rss_mb(
                ["inputtokens", "batch", "--workers", "1", "--no-progress", str(small)]
            )
            start = time.perf_counter()
            peak = _peak_rss_mb(
                ["inputtokens", "batch", "--workers", "1", "--no-progress", str(big)]
            )
            print(
                f"200 MB file ({big.stat().st_size / 1e6:.0f} MB, 50,000 lines): peak RSS "
                f"{peak:.0f} MB with 1 worker (the same command on a 3-line file: "
                f"{idle:.0f} MB), {time.perf_counter() - start:.0f} s"
            )


if __name__ == "__main__":
    main()

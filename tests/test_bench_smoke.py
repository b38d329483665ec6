"""Smoke test of bench/bench_count.py: it runs, and its JSON has every case with positive numbers.

No timing target is asserted here: the benchmark reports, it does not gate.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_count.py"


def test_bench_quick_json() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    cases = result["cases"]
    for name in ("tiny", "small", "large"):
        case = cases[name]
        for key in (
            "baseline_us",
            "inputtokens_us",
            "ratio",
            "baseline_tokens",
            "inputtokens_tokens",
        ):
            assert case[key] > 0, (name, key, case[key])
        assert case["inputtokens_tokens"] >= case["baseline_tokens"], name
    assert cases["large"]["text_bytes"] == 1 << 20
    cold = result["cold_start"]["inputtokens"]
    assert cold["total_ms"] > 0 and cold["peak_rss_mb"] > 0
    assert set(result["targets"]) == {
        "large_ratio",
        "tiny_overhead_us",
        "tiny_ratio",
        "large_engine_ratio",
    }


def test_bench_cache_memory_json() -> None:
    bench = BENCH.with_name("bench_cache_memory.py")
    proc = subprocess.run(
        [sys.executable, str(bench), "--bodies", "300", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    off, default = result["servers"]["off"], result["servers"]["default"]
    assert off["errors"] == default["errors"] == 0
    assert off["rss_mib"] > 0 and result["ratio"] > 0
    figures = default["metrics"]
    for cache in ("count", "answer"):
        held = figures[f"inputtokens_{cache}_cache_bytes"]
        assert 0 < held <= figures[f"inputtokens_{cache}_cache_max_bytes"]


def test_bench_startup_json() -> None:
    """One round of bench_startup.py: serve --workers 2 answered from two workers, figures > 0."""
    bench = BENCH.with_name("bench_startup.py")
    proc = subprocess.run(
        [sys.executable, str(bench), "--rounds", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    serve = result["serve"]
    assert 0 < serve["first_s"] <= serve["both_s"]
    assert serve["worker_vmhwm_mib"] > 0 and result["bare"]["both_s"] > 0
    assert result["stages_ms"]["import server"] > 0
    assert set(result["targets"]) == {
        "both_workers_s",
        "import_o200k_s",
        "import_o200k_rss_mib",
        "worker_rss_mib",
    }

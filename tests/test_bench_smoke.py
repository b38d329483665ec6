"""Smoke test of bench/bench_count.py: it runs, and its JSON has every case with positive numbers.

No timing target is asserted here: the benchmark reports, it does not gate.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_count.py"


def _bench_json(script: str, *args: str) -> dict[str, Any]:
    """Run bench/`script` with `args` and ``--json``: it exits 0, and its JSON results."""
    proc = subprocess.run(
        [sys.executable, str(BENCH.with_name(script)), *args, "--json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_bench_quick_json() -> None:
    result = _bench_json("bench_count.py", "--quick")
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
    # large_engine_ratio only when the engine's own count API is available.
    assert {"large_ratio", "tiny_overhead_us", "tiny_ratio"} <= set(result["targets"])
    assert set(result["targets"]) <= {
        "large_ratio",
        "tiny_overhead_us",
        "tiny_ratio",
        "large_engine_ratio",
    }


def test_bench_cache_memory_json() -> None:
    result = _bench_json("bench_cache_memory.py", "--bodies", "300")
    off, default = result["servers"]["off"], result["servers"]["default"]
    assert off["errors"] == default["errors"] == 0
    assert off["rss_mib"] > 0 and result["ratio"] > 0
    figures = default["metrics"]
    for cache in ("count", "answer"):
        held = figures[f"inputtokens_{cache}_cache_bytes"]
        assert 0 < held <= figures[f"inputtokens_{cache}_cache_max_bytes"]


def test_bench_startup_json() -> None:
    """One round of bench_startup.py: serve --workers 2 answered from two workers, figures > 0."""
    result = _bench_json("bench_startup.py", "--rounds", "1")
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


def test_bench_http_wrk_paced() -> None:
    """bench_http.py's paced wrk run (WRK_PACED_LUA), 1 s against the bare app at a low rate,
    numbered bodies: it keeps the rate and reports latency percentiles and the client lag."""
    import shutil
    import tempfile

    import pytest

    wrk = shutil.which("wrk")
    if wrk is None:
        pytest.skip("wrk not installed")
    sys.path.insert(0, str(BENCH.parent))
    try:
        import bench_http
    finally:
        sys.path.remove(str(BENCH.parent))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "bench_http_bare.py").write_text(bench_http.BARE_APP)
        env = dict(bench_http.clean_env(tmp), PYTHONPATH=str(tmp))
        cmd = [sys.executable, "-c", bench_http.BARE_RUN]
        server = bench_http.start_server("bare", cmd, env, tmp, 1, "/")
        try:
            template = bench_http.numbered_template({"model": "gpt-5", "input": "hello"})
            res = bench_http.wrk_load(wrk, server.port, "/", template, 8, 1, tmp, 0, rate=200)
        finally:
            bench_http.stop_servers({"bare": server})
    assert res.errors == 0
    assert 150 <= res.rps <= 250, res.rps
    assert 0 < res.p50 <= res.p99 <= res.p999
    assert res.late is not None and 0 <= res.late <= 1
    assert res.lag_p99_ms is not None and res.lag_max_ms is not None

"""The benchmark script still runs end to end (its smoke mode) and writes every figure the README reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = {
    "raw_step_ms",
    "engine_step_ms_sqlite",
    "engine_step_ms_postgres",
    "ratio_sqlite",
    "ratio_postgres",
    "history_step_ms",
    "history_ratio_1000_10",
    "queue_p95_ms",
    "http_single_ms",
    "http_single_basic_ms",
    "http_per_s",
    "http_p95_ms",
    "timer_late_p50_ms",
    "timer_late_p99_ms",
    "web_rss_mb",
}


def test_the_benchmark_runs_in_smoke_mode(tmp_path: Path, pg_url: str) -> None:
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "benchmarks" / "run.py"), "--smoke", "--json", str(out), "--pg", pg_url],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert KEYS <= set(figures)
    numbers = [figures[k] for k in KEYS if k != "history_step_ms"] + list(figures["history_step_ms"].values())
    assert all(isinstance(n, int | float) and n > 0 for n in numbers)
    assert set(figures["history_step_ms"]) == {"10", "20"}
    for key in ("ratio_sqlite", "http_per_s", "timer_late_p99_ms", "web_rss_mb"):
        assert key in done.stdout

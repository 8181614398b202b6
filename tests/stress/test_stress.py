"""Run the stress script's short version: two servers and two workers on PostgreSQL, one of each on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_URL, _pg_available

SCRIPT = Path(__file__).with_name("run.py")


def test_quick_stress_run_on_postgresql_holds_every_check() -> None:
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL}, and CI is set")
        pytest.skip("PostgreSQL is not reachable")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--admin-url", PG_URL],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout.splitlines()
    assert "complete 409" in result.stdout  # the races really happened, and their losers got conflicts
    assert "complete 5" not in result.stdout and "start 5" not in result.stdout


def test_quick_stress_run_on_sqlite_in_wal_mode_survives_the_kill() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--sqlite"], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout.splitlines()
    assert "database: sqlite (WAL)" in result.stdout
    assert "complete 409" in result.stdout

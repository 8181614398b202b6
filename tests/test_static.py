"""Static checks run with the tests: ruff lints the code, mypy checks the engine strictly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", "engine", "web", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_engine() -> None:
    result = run("mypy", "engine")
    assert result.returncode == 0, result.stdout + result.stderr

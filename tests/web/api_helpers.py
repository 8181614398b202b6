"""Helpers the JSON API tests share: Basic auth headers, the error body check, deploying the simple process."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[2]
# Task_Enter (sales) takes amount (long 1..1000, required), note, urgent, kind (enum a/b), when (date);
# total = amount * 2 + divisor_check, and a total above 100 goes to Task_Review (team-lead).
SIMPLE = (ROOT / "tests" / "engine" / "data" / "simple.bpmn").read_text(encoding="utf-8")


def auth(name: str, password: str = "demo") -> dict[str, str]:
    """HTTP Basic headers for a demo user."""
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Check the status and the error body's shape; return the body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error", "message", "details"}
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], list)
    if code is not None:
        assert body["error"] == code
    return body  # type: ignore[no-any-return]


def deploy(client: FlaskClient, text: str) -> None:
    """Deploy a variant of the simple process as the owner."""
    files = {"files": [(io.BytesIO(text.encode()), "simple.bpmn")]}
    response = client.post("/api/v1/deployments", data=files, headers=auth("owner"))
    assert response.status_code == 201, response.get_data(as_text=True)

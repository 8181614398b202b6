"""A real worker process written with camunda-external-task-client-js works the external tasks of a server."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import urllib.request
from typing import Any

import pytest
from api_helpers import ROOT, auth

WORKER = ROOT / "tests" / "workers" / "reserve_stock.mjs"
CLIENT = ROOT / "web" / "node_modules" / "camunda-external-task-client-js"


def _call(url: str, body: dict[str, Any] | None = None, user: str = "manager") -> Any:
    headers = auth(user)
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30) as response:
        return json.loads(response.read() or b"null")


def test_the_published_js_client_completes_tasks_and_throws_bpmn_errors(live_server: str, client) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("node") is None or not CLIENT.is_dir():
        pytest.skip("node or web/node_modules missing: run .ci/setup")
    bpmn = (ROOT / "tests" / "engine" / "data" / "external.bpmn").read_bytes()
    files = {"files": [(io.BytesIO(bpmn), "external.bpmn")]}
    assert client.post("/api/v1/deployments", data=files, headers=auth("owner")).status_code == 201
    started = {}
    for key, qty in (("SO-1", 2), ("SO-2", 500), ("SO-3", 7)):
        body = {"business_key": key, "data": {"sku": "A-1", "qty": qty}}
        started[key] = _call(f"{live_server}/api/v1/processes/external_order/instances", body, "sales")["id"]
    run = subprocess.run(
        ["node", str(WORKER), live_server, "worker", "demo", "3"], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
    reports = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert sorted(r.get("businessKey") or r["error"] for r in reports) == ["OUT_OF_STOCK", "SO-1", "SO-3"]

    def instance(key: str) -> dict[str, Any]:
        return _call(f"{live_server}/api/v1/instances/{started[key]}")  # type: ignore[no-any-return]

    shipped = instance("SO-1")
    assert [t["name"] for t in shipped["tasks"]] == ["发货"]
    assert shipped["data"]["reserved"] == 2 and shipped["data"]["reservedBy"] == "node"
    assert shipped["data"]["lines"] == [{"sku": "A-1", "qty": 2}]
    backorder = instance("SO-2")
    assert [t["name"] for t in backorder["tasks"]] == ["补货"] and backorder["data"]["eta"] == 14
    events = _call(f"{live_server}/api/v1/instances/{started['SO-3']}/events")
    [completed] = [e for e in events if e["type"] == "external_task_completed"]
    assert completed["actor"] == "worker" and completed["data"]["worker_id"] == "node-stock-worker"

"""API for managers: dashboard, filtered instances, heatmap, data edits and due dates; staff get 403."""

from __future__ import annotations

import pytest
from api_helpers import assert_error, auth
from flask import Flask
from flask.testing import FlaskClient


def start(client: FlaskClient, title: str = "投诉") -> int:
    response = client.post("/api/v1/processes/complaint/instances", json={"title": title}, headers=auth("service"))
    assert response.status_code == 201
    return int(response.get_json()["id"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/monitor/dashboard"),
        ("get", "/api/v1/monitor/instances"),
        ("get", "/api/v1/monitor/processes/complaint/heatmap"),
        ("post", "/api/v1/instances/1/data"),
        ("post", "/api/v1/tasks/1/due"),
    ],
)
def test_staff_get_403(client: FlaskClient, method: str, path: str) -> None:
    start(client)
    kwargs = {"json": {"name": "x", "value": 1}} if method == "post" else {}
    assert_error(getattr(client, method)(path, headers=auth("service"), **kwargs), 403)
    assert getattr(client, method)(path, **kwargs).status_code == 401


def test_dashboard_instances_and_heatmap(client: FlaskClient) -> None:
    first = start(client, "投诉 甲")
    start(client, "投诉 乙")
    board = client.get("/api/v1/monitor/dashboard?period=12w", headers=auth("lead")).get_json()
    complaint = next(p for p in board["processes"] if p["key"] == "complaint")
    assert complaint["counts"]["running"] == 2 and complaint["open_tasks"] == 2
    assert board["unit"] == "week" and sum(p["started"] for p in board["throughput"]) == 2
    assert {t["id"] for t in board["team"]} >= {"complaint_service", "sales_funnel", "recruitment_stages"}
    page = client.get("/api/v1/monitor/instances?q=甲", headers=auth("lead")).get_json()
    assert [i["id"] for i in page["items"]] == [first] and page["counts"] == {"running": 1}
    assert_error(client.get("/api/v1/monitor/instances?status=lost", headers=auth("lead")), 422)
    assert_error(client.get("/api/v1/monitor/dashboard?period=9y", headers=auth("lead")), 422)
    heat = client.get("/api/v1/monitor/processes/complaint/heatmap?days=7", headers=auth("lead")).get_json()
    assert {"element_id": "Task_RecordComplaint", "waiting": 2} in [
        {"element_id": e["element_id"], "waiting": e["waiting"]} for e in heat["elements"]
    ]
    assert_error(client.get("/api/v1/monitor/processes/complaint/heatmap?days=3", headers=auth("lead")), 422)


def test_edit_data_and_due_date(app: Flask, client: FlaskClient) -> None:
    instance_id = start(client)
    detail = client.get(f"/api/v1/instances/{instance_id}", headers=auth("lead")).get_json()
    task_id = detail["tasks"][0]["id"]
    url = f"/api/v1/instances/{instance_id}/data"
    changed = client.post(url, json={"name": "tier", "value": "vip", "reason": "客户升级"}, headers=auth("lead"))
    assert changed.status_code == 200 and changed.get_json()["data"]["tier"] == "vip"
    assert_error(client.post(url, json={"name": "tier", "value": "x", "version": 1}, headers=auth("lead")), 409)
    assert_error(client.post(url, json={"name": "no way", "value": 1}, headers=auth("lead")), 422)
    assert_error(client.post(url, json={"name": "n", "value": 10**30}, headers=auth("lead")), 422)
    assert_error(client.post(url, json={"value": 1}, headers=auth("lead")), 422)
    due_url = f"/api/v1/tasks/{task_id}/due"
    moved = client.post(due_url, json={"due_at": "2026-12-31T09:00:00+08:00", "reason": "延期"}, headers=auth("lead"))
    assert moved.status_code == 200 and moved.get_json()["due_at"].startswith("2026-12-31T01:00:00")
    assert_error(client.post(due_url, json={"due_at": "2026-12-31T09:00:00"}, headers=auth("lead")), 422)
    assert_error(client.post(due_url, json={"due_at": "soon"}, headers=auth("lead")), 422)
    cleared = client.post(due_url, json={"due_at": None}, headers=auth("lead")).get_json()
    assert cleared["due_at"] is None
    events = client.get(f"/api/v1/instances/{instance_id}/events", headers=auth("lead")).get_json()
    assert {"data_changed", "due_changed"} <= {e["type"] for e in events}


def test_described_in_openapi(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/monitor/dashboard", "/api/v1/monitor/instances", "/api/v1/monitor/processes/{key}/heatmap"):
        assert "get" in spec["paths"][path]
    assert "post" in spec["paths"]["/api/v1/instances/{instance_id}/data"]
    assert "Dashboard" in spec["components"]["schemas"]

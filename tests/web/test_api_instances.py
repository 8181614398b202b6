"""API: start, list and read instances and their events; suspend, resume, terminate and retry them."""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import SIMPLE, assert_error, auth, deploy
from flask import Flask
from flask.testing import FlaskClient

# Task_Enter (sales, form: amount long 1..1000 required), then total = amount * 2 + divisor_check.
FAILING = SIMPLE.replace("+ divisor_check", "/ divisor_check")
STARTERS_ONLY_HR = SIMPLE.replace('isExecutable="true"', 'isExecutable="true" camunda:candidateStarterGroups="hr"')


def start(client: FlaskClient, key: str = "simple", user: str = "sales", **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/processes/{key}/instances", json=body, headers=auth(user))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def complete_first_task(client: FlaskClient, instance: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    [task] = instance["tasks"]
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data}, headers=auth("sales"))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["instance"]  # type: ignore[no-any-return]


@pytest.fixture
def simple(client: FlaskClient) -> FlaskClient:
    deploy(client, SIMPLE)
    return client


@pytest.fixture
def failed(client: FlaskClient) -> dict[str, Any]:
    """An instance whose script divided by zero."""
    deploy(client, FAILING)
    instance = start(client, data={"divisor_check": 0}, title="will fail")
    failed = complete_first_task(client, instance, {"amount": 5})
    assert failed["status"] == "error"
    return failed


def test_start_returns_the_instance(simple: FlaskClient) -> None:
    response = simple.post(
        "/api/v1/processes/simple/instances",
        json={"title": "订单 42", "data": {"divisor_check": 1, "customer": "华信"}},
        headers=auth("sales"),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/instances/{body['id']}")
    assert body["process_key"] == "simple"
    assert body["version"] == 1
    assert body["title"] == "订单 42"
    assert body["status"] == "running"
    assert body["data"] == {"divisor_check": 1, "customer": "华信"}
    assert body["started_by"] == "sales"
    assert body["started_at"].endswith("+00:00")
    assert body["ended_at"] is None
    assert body["error"] is None
    [task] = body["tasks"]
    assert task["element_id"] == "Task_Enter"
    assert task["group"] == "sales"
    assert task["status"] == "open"
    assert task["assignee"] is None
    assert task["priority"] == 70


@pytest.mark.parametrize("kwargs", [{}, {"json": {}}, {"json": {"title": None, "data": None}}])
def test_start_with_nothing_gives_a_default_title(simple: FlaskClient, kwargs: dict[str, Any]) -> None:
    response = simple.post("/api/v1/processes/simple/instances", headers=auth("sales"), **kwargs)
    assert response.status_code == 201
    assert response.get_json()["title"].startswith("简单流程")


@pytest.mark.parametrize(
    ("kwargs", "status", "field"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, None),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400, None),
        ({"data": '"text"', "content_type": "application/json"}, 400, None),
        ({"data": '{"data": NaN}', "content_type": "application/json"}, 400, None),
        ({"data": '{"data": {"x": 1e999}}', "content_type": "application/json"}, 400, None),
        ({"data": "[" * 100000 + "]" * 100000, "content_type": "application/json"}, 400, None),
        ({"data": b"\xff\xfe{", "content_type": "application/json"}, 400, None),
        ({"data": "title=x", "content_type": "application/x-www-form-urlencoded"}, 400, None),
        ({"json": {"title": "a\x00b"}}, 400, None),
        ({"json": {"data": {"k\x00": 1}}}, 400, None),
        ({"json": {"data": {"k": [["\x00"]]}}}, 400, None),
        ({"data": '{"data": {"x": ' + "[" * 40 + "]" * 40 + "}}", "content_type": "application/json"}, 400, None),
        ({"json": {"data": [1, 2]}}, 422, "data"),
        ({"json": {"data": "x"}}, 422, "data"),
        ({"json": {"title": 5}}, 422, "title"),
        ({"json": {"title": "x" * 301}}, 422, "title"),
    ],
)
def test_start_refuses_bad_bodies(simple: FlaskClient, kwargs: dict[str, Any], status: int, field: str | None) -> None:
    response = simple.post("/api/v1/processes/simple/instances", headers=auth("sales"), **kwargs)
    body = assert_error(response, status)
    if field:
        assert [d["field"] for d in body["details"]] == [field]


def test_start_errors(app: Flask, simple: FlaskClient) -> None:
    assert_error(simple.post("/api/v1/processes/simple/instances", json={}), 401, "unauthorized")
    assert_error(simple.post("/api/v1/processes/nope/instances", json={}, headers=auth("sales")), 404)
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = simple.post("/api/v1/processes/simple/instances", json={"title": "x" * 200}, headers=auth("sales"))
    assert_error(response, 413, "too_large")


def test_start_only_by_the_starter_groups(client: FlaskClient) -> None:
    deploy(client, STARTERS_ONLY_HR)
    response = client.post("/api/v1/processes/simple/instances", json={}, headers=auth("sales"))
    assert_error(response, 403, "forbidden")
    assert start(client, user="hr")["status"] == "running"
    assert start(client, user="manager")["status"] == "running"


def test_list_instances_filters_and_pages(simple: FlaskClient) -> None:
    first = start(simple, title="one")
    second = start(simple, title="two")
    start(simple, key="complaint", user="service", title="three")
    simple.post(f"/api/v1/instances/{first['id']}/terminate", json={"reason": "test"}, headers=auth("manager"))

    everything = simple.get("/api/v1/instances", headers=auth("manager")).get_json()
    assert everything["total"] == 3
    assert [i["title"] for i in everything["items"]] == ["three", "two", "one"]
    assert set(everything["items"][0]) >= {"id", "process_key", "version", "title", "status", "started_at"}
    # Staff see only the instances they take part in: sales started one and two, not three.
    own = simple.get("/api/v1/instances", headers=auth("sales")).get_json()
    assert [i["title"] for i in own["items"]] == ["two", "one"]
    assert simple.get("/api/v1/instances", headers=auth("hr")).get_json()["total"] == 0

    mine = simple.get("/api/v1/instances?process=simple&status=running", headers=auth("manager")).get_json()
    assert [i["id"] for i in mine["items"]] == [second["id"]]
    assert mine["total"] == 1
    page = simple.get("/api/v1/instances?per_page=1&page=2", headers=auth("manager")).get_json()
    assert page == {**page, "total": 3, "page": 2, "per_page": 1}
    assert [i["title"] for i in page["items"]] == ["two"]
    beyond = simple.get("/api/v1/instances?per_page=500&page=1000000", headers=auth("manager")).get_json()
    assert beyond["items"] == [] and beyond["total"] == 3


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("page=abc", 400),
        ("per_page=1.5", 400),
        ("page=99999999999999999999999999", 400),
        ("page=0", 422),
        ("page=-1", 422),
        ("page=1000001", 422),
        ("per_page=0", 422),
        ("per_page=501", 422),
        ("status=sleeping", 422),
        ("process=%00", 400),
    ],
)
def test_list_instances_refuses_bad_parameters(client: FlaskClient, query: str, status: int) -> None:
    assert_error(client.get(f"/api/v1/instances?{query}", headers=auth("sales")), status)


def test_list_instances_needs_a_login(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/instances"), 401)


def test_instance_detail(simple: FlaskClient) -> None:
    started = start(simple, title="detail", data={"divisor_check": 1})
    response = simple.get(f"/api/v1/instances/{started['id']}", headers=auth("sales"))
    assert response.status_code == 200
    body = response.get_json()
    assert body == started
    keys = {
        "id",
        "process_key",
        "version",
        "title",
        "status",
        "data",
        "tasks",
        "started_at",
        "ended_at",
        "error",
    }
    assert keys <= set(body)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/instances/999",
        "/api/v1/instances/0",
        "/api/v1/instances/-1",
        "/api/v1/instances/99999999999999999999",
        "/api/v1/instances/abc",
    ],
)
def test_unknown_instance(client: FlaskClient, path: str) -> None:
    assert_error(client.get(path, headers=auth("sales")), 404, "not_found")
    assert_error(client.get(path + "/events", headers=auth("sales")), 404, "not_found")


def test_instance_detail_and_events_need_a_login(simple: FlaskClient) -> None:
    started = start(simple)
    assert_error(simple.get(f"/api/v1/instances/{started['id']}"), 401)
    assert_error(simple.get(f"/api/v1/instances/{started['id']}/events"), 401)


def test_only_people_taking_part_read_an_instance(simple: FlaskClient) -> None:
    started = start(simple)
    for path in (f"/api/v1/instances/{started['id']}", f"/api/v1/instances/{started['id']}/events"):
        assert_error(simple.get(path, headers=auth("hr")), 403, "forbidden")
        assert simple.get(path, headers=auth("manager")).status_code == 200


def test_events_are_the_audit_trail(simple: FlaskClient) -> None:
    started = start(simple, data={"divisor_check": 1})
    complete_first_task(simple, started, {"amount": 5})
    response = simple.get(f"/api/v1/instances/{started['id']}/events", headers=auth("sales"))
    assert response.status_code == 200
    events = response.get_json()
    types = [e["type"] for e in events]
    assert types[0] == "started"
    assert "completed" in types
    first, done = events[0], events[types.index("completed")]
    assert set(first) == {"type", "actor", "at", "element_id", "data"}
    assert first["actor"] == "sales"
    assert done["element_id"] == "Task_Enter"
    assert done["data"]["data"]["amount"] == 5
    assert first["at"].endswith("+00:00")


def test_suspend_and_resume(simple: FlaskClient) -> None:
    started = start(simple)
    url = f"/api/v1/instances/{started['id']}"
    response = simple.post(url + "/suspend", headers=auth("manager"))
    assert response.status_code == 200
    assert response.get_json()["status"] == "suspended"
    [task] = started["tasks"]
    assert_error(simple.post(f"/api/v1/tasks/{task['id']}/claim", headers=auth("sales")), 409, "conflict")
    assert_error(simple.post(url + "/suspend", headers=auth("manager")), 409, "conflict")
    response = simple.post(url + "/resume", headers=auth("admin"))
    assert response.status_code == 200
    assert response.get_json()["status"] == "running"
    assert_error(simple.post(url + "/resume", headers=auth("manager")), 409, "conflict")


def test_terminate(simple: FlaskClient) -> None:
    started = start(simple)
    url = f"/api/v1/instances/{started['id']}"
    response = simple.post(url + "/terminate", json={"reason": "重复订单"}, headers=auth("lead"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "terminated"
    assert body["ended_at"] is not None
    assert body["tasks"] == []
    events = simple.get(url + "/events", headers=auth("lead")).get_json()
    assert {"type": "terminated", "reason": "重复订单"} in [
        {"type": e["type"], "reason": e["data"].get("reason")} for e in events
    ]
    assert_error(simple.post(url + "/terminate", json={}, headers=auth("lead")), 409, "conflict")
    assert_error(simple.post(url + "/suspend", headers=auth("lead")), 409, "conflict")


def test_terminate_without_a_reason(simple: FlaskClient) -> None:
    started = start(simple)
    response = simple.post(f"/api/v1/instances/{started['id']}/terminate", headers=auth("manager"))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"reason": 5}}, 422),
        ({"json": {"reason": ["x"]}}, 422),
        ({"json": [1]}, 400),
        ({"data": "{", "content_type": "application/json"}, 400),
    ],
)
def test_terminate_refuses_bad_bodies(simple: FlaskClient, kwargs: dict[str, Any], status: int) -> None:
    started = start(simple)
    response = simple.post(f"/api/v1/instances/{started['id']}/terminate", headers=auth("manager"), **kwargs)
    assert_error(response, status)


def test_retry_a_failed_instance(client: FlaskClient, failed: dict[str, Any]) -> None:
    assert failed["error"]["element_id"] == "Script_Double"
    assert "ZeroDivisionError" in failed["error"]["message"]
    url = f"/api/v1/instances/{failed['id']}/retry"
    again = client.post(url, json={"data": {"divisor_check": 0}}, headers=auth("manager"))
    assert again.status_code == 200
    assert again.get_json()["status"] == "error"
    fixed = client.post(url, json={"data": {"divisor_check": 1}}, headers=auth("admin"))
    assert fixed.status_code == 200
    body = fixed.get_json()
    assert body["status"] == "completed"
    assert body["error"] is None
    assert body["data"]["total"] == 10
    assert_error(client.post(url, headers=auth("manager")), 409, "conflict")


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [({"json": {"data": [1]}}, 422), ({"json": {"data": 3}}, 422), ({"json": "x"}, 400)],
)
def test_retry_refuses_bad_bodies(
    client: FlaskClient, failed: dict[str, Any], kwargs: dict[str, Any], status: int
) -> None:
    assert_error(client.post(f"/api/v1/instances/{failed['id']}/retry", headers=auth("manager"), **kwargs), status)


def test_retry_a_running_instance_is_a_conflict(simple: FlaskClient) -> None:
    started = start(simple)
    assert_error(simple.post(f"/api/v1/instances/{started['id']}/retry", headers=auth("manager")), 409)


@pytest.mark.parametrize("action", ["suspend", "resume", "terminate", "retry"])
def test_actions_are_for_managers(simple: FlaskClient, action: str) -> None:
    started = start(simple)
    url = f"/api/v1/instances/{started['id']}/{action}"
    assert_error(simple.post(url, json={}, headers=auth("sales")), 403, "forbidden")
    assert_error(simple.post(url, json={}, headers=auth("owner")), 403, "forbidden")
    assert_error(simple.post(url, json={}), 401, "unauthorized")
    assert_error(simple.post(f"/api/v1/instances/999/{action}", json={}, headers=auth("manager")), 404)

"""API: task lists by scope, task detail with its form, claim, unclaim, assign and complete."""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import SIMPLE, assert_error, auth, deploy
from flask import Flask
from flask.testing import FlaskClient

from engine import people


@pytest.fixture
def task(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """The open Task_Enter of a fresh instance of the simple process (group sales: users sales and sales2)."""
    with app.extensions["engine"]["session_factory"].begin() as session:
        people.create_user(session, "sales2", "demo", ["sales"], ["staff"], "销售 二")
    deploy(client, SIMPLE)
    response = client.post(
        "/api/v1/processes/simple/instances", json={"data": {"divisor_check": 1}}, headers=auth("sales")
    )
    [found] = response.get_json()["tasks"]
    return found  # type: ignore[no-any-return]


def post(client: FlaskClient, task: dict[str, Any], action: str, user: str | None, **kwargs: Any) -> Any:
    return client.post(f"/api/v1/tasks/{task['id']}/{action}", headers=auth(user) if user else {}, **kwargs)


def ids(client: FlaskClient, user: str, query: str = "") -> list[int]:
    response = client.get(f"/api/v1/tasks?{query}", headers=auth(user))
    assert response.status_code == 200, response.get_data(as_text=True)
    return [t["id"] for t in response.get_json()]


def test_task_list_scopes(client: FlaskClient, task: dict[str, Any]) -> None:
    assert ids(client, "sales", "scope=groups") == [task["id"]]
    assert ids(client, "sales") == []
    assert ids(client, "service", "scope=groups") == []
    assert ids(client, "manager", "scope=all") == [task["id"]]
    assert ids(client, "admin", "scope=all&process=simple&status=open") == [task["id"]]
    assert ids(client, "manager", "scope=all&process=sales") == []
    post(client, task, "claim", "sales")
    assert ids(client, "sales", "scope=mine") == [task["id"]]
    assert ids(client, "sales", "scope=groups") == []
    assert ids(client, "sales", "scope=mine&process=complaint") == []
    [row] = client.get("/api/v1/tasks", headers=auth("sales")).get_json()
    fields = {"id", "instance_id", "process_key", "element_id", "name", "group", "assignee", "due_at"}
    assert fields | {"priority", "status"} <= set(row)
    assert row["assignee"] == "sales"
    assert row["due_at"].endswith("+00:00")


def test_completed_tasks_of_mine(client: FlaskClient, task: dict[str, Any]) -> None:
    post(client, task, "complete", "sales", json={"data": {"amount": 3}})
    assert ids(client, "sales", "scope=mine&status=completed") == [task["id"]]
    assert ids(client, "sales", "scope=mine") == []
    assert ids(client, "manager", "scope=all&status=completed") == [task["id"]]


@pytest.mark.parametrize(
    ("user", "query", "status"),
    [
        ("sales", "scope=all", 403),
        ("owner", "scope=all", 403),
        ("sales", "scope=everything", 422),
        ("sales", "status=sleeping", 422),
        ("sales", "process=%00", 400),
    ],
)
def test_task_list_errors(client: FlaskClient, user: str, query: str, status: int) -> None:
    assert_error(client.get(f"/api/v1/tasks?{query}", headers=auth(user)), status)


def test_task_list_needs_a_login(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/tasks"), 401)


def test_task_detail_has_the_form(client: FlaskClient, task: dict[str, Any]) -> None:
    response = client.get(f"/api/v1/tasks/{task['id']}", headers=auth("sales"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["element_id"] == "Task_Enter"
    assert body["documentation"] == "Enter the amount."
    assert body["data"] == {"divisor_check": 1}
    fields = {f["id"]: f for f in body["form"]["fields"]}
    assert list(fields) == ["amount", "note", "urgent", "kind", "when"]
    for field in fields.values():
        assert {"id", "label", "type", "required", "default", "options", "min", "max"} <= set(field)
    assert fields["amount"] == {
        **fields["amount"],
        "label": "金额",
        "type": "long",
        "required": True,
        "min": 1,
        "max": 1000,
        "default": None,
        "options": [],
    }
    assert fields["note"]["default"] == "无"
    assert fields["note"]["maxlength"] == 10
    assert fields["urgent"]["type"] == "boolean"
    assert fields["kind"]["options"] == [{"id": "a", "name": "甲"}, {"id": "b", "name": "乙"}]
    assert fields["when"]["type"] == "date"


def test_task_detail_errors(client: FlaskClient, task: dict[str, Any]) -> None:
    assert_error(client.get(f"/api/v1/tasks/{task['id']}", headers=auth("service")), 403, "forbidden")
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=auth("manager")).status_code == 200
    assert_error(client.get(f"/api/v1/tasks/{task['id']}"), 401)
    assert_error(client.get("/api/v1/tasks/4242", headers=auth("sales")), 404, "not_found")
    assert_error(client.get("/api/v1/tasks/123456789012345678901", headers=auth("sales")), 404)


def test_claim_and_unclaim(client: FlaskClient, task: dict[str, Any]) -> None:
    claimed = post(client, task, "claim", "sales")
    assert claimed.status_code == 200
    assert claimed.get_json()["assignee"] == "sales"
    assert post(client, task, "claim", "sales").status_code == 200  # claiming one's own task again
    assert_error(post(client, task, "unclaim", "service"), 403, "forbidden")
    released = post(client, task, "unclaim", "sales")
    assert released.status_code == 200
    assert released.get_json()["assignee"] is None
    post(client, task, "claim", "sales")
    assert post(client, task, "unclaim", "manager").get_json()["assignee"] is None


def test_claim_errors(client: FlaskClient, task: dict[str, Any]) -> None:
    assert_error(post(client, task, "claim", None), 401)
    assert_error(post(client, task, "claim", "service"), 403, "forbidden")
    post(client, task, "assign", "manager", json={"user": "sales2"})
    assert_error(post(client, task, "claim", "sales"), 409, "conflict")
    assert_error(client.post("/api/v1/tasks/4242/claim", headers=auth("sales")), 404)


def test_unclaim_errors(client: FlaskClient, task: dict[str, Any]) -> None:
    assert_error(post(client, task, "unclaim", None), 401)
    assert_error(client.post("/api/v1/tasks/4242/unclaim", headers=auth("sales")), 404)
    post(client, task, "complete", "sales", json={"data": {"amount": 3}})
    assert_error(post(client, task, "unclaim", "sales"), 409, "conflict")
    assert_error(post(client, task, "claim", "sales"), 409, "conflict")


def test_assign(client: FlaskClient, task: dict[str, Any]) -> None:
    response = post(client, task, "assign", "manager", json={"user": "sales2"})
    assert response.status_code == 200
    assert response.get_json()["assignee"] == "sales2"
    assert ids(client, "sales2", "scope=mine") == [task["id"]]
    # Only members of the task's groups can be given it.
    refused = post(client, task, "assign", "manager", json={"user": "hr"})
    assert_error(refused, 422, "invalid")
    assert refused.get_json()["details"][0]["field"] == "user"


@pytest.mark.parametrize(
    ("user", "kwargs", "status"),
    [
        (None, {"json": {"user": "hr"}}, 401),
        ("sales", {"json": {"user": "sales"}}, 403),
        ("manager", {"json": {"user": "nobody"}}, 404),
        ("manager", {"json": {}}, 422),
        ("manager", {"json": {"user": ""}}, 422),
        ("manager", {"json": {"user": 7}}, 422),
        ("manager", {}, 400),
        ("manager", {"json": ["hr"]}, 400),
    ],
)
def test_assign_errors(
    client: FlaskClient, task: dict[str, Any], user: str | None, kwargs: dict[str, Any], status: int
) -> None:
    assert_error(post(client, task, "assign", user, **kwargs), status)


def test_assign_unknown_or_done_task(client: FlaskClient, task: dict[str, Any]) -> None:
    assert_error(client.post("/api/v1/tasks/4242/assign", json={"user": "hr"}, headers=auth("manager")), 404)
    post(client, task, "complete", "sales", json={"data": {"amount": 3}})
    assert_error(post(client, task, "assign", "manager", json={"user": "hr"}), 409)


def test_complete_an_unclaimed_task_claims_it(client: FlaskClient, task: dict[str, Any]) -> None:
    response = post(client, task, "complete", "sales", json={"data": {"amount": 60, "urgent": "true"}})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"task", "instance"}
    assert body["task"]["status"] == "completed"
    assert body["task"]["assignee"] == "sales"
    assert body["task"]["completed_by"] == "sales"
    instance = body["instance"]
    assert instance["status"] == "running"
    assert instance["data"]["total"] == 121
    assert instance["data"]["urgent"] is True
    [review] = instance["tasks"]
    assert review["element_id"] == "Task_Review"
    assert review["group"] == "team-lead"
    assert ids(client, "lead", "scope=groups") == [review["id"]]
    done = post(client, review, "complete", "lead", json={"data": {"approved": True}})
    assert done.get_json()["instance"]["status"] == "completed"
    assert done.get_json()["instance"]["ended_at"] is not None


def test_complete_a_task_claimed_by_another(client: FlaskClient, task: dict[str, Any]) -> None:
    post(client, task, "assign", "manager", json={"user": "sales2"})
    assert_error(post(client, task, "complete", "sales", json={"data": {"amount": 3}}), 409, "conflict")
    response = post(client, task, "complete", "manager", json={"data": {"amount": 3}})
    assert response.status_code == 200


def test_complete_errors(app: Flask, client: FlaskClient, task: dict[str, Any]) -> None:
    assert_error(post(client, task, "complete", None, json={"data": {"amount": 3}}), 401)
    assert_error(post(client, task, "complete", "service", json={"data": {"amount": 3}}), 403, "forbidden")
    assert_error(client.post("/api/v1/tasks/4242/complete", json={}, headers=auth("sales")), 404)
    app.config["MAX_CONTENT_LENGTH"] = 50
    assert_error(post(client, task, "complete", "sales", json={"data": {"note": "x" * 100}}), 413)
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    assert post(client, task, "complete", "sales", json={"data": {"amount": 3}}).status_code == 200
    assert_error(post(client, task, "complete", "sales", json={"data": {"amount": 3}}), 409, "conflict")


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, ["amount"]),
        ({"amount": 0}, ["amount"]),
        ({"amount": "lots"}, ["amount"]),
        ({"amount": 5, "note": "x" * 11}, ["note"]),
        ({"amount": 5, "kind": "c"}, ["kind"]),
        ({"amount": 5, "when": "yesterday"}, ["when"]),
        ({"amount": 5, "unknown": 1}, ["unknown"]),
    ],
)
def test_complete_with_invalid_form_data(
    client: FlaskClient, task: dict[str, Any], data: dict[str, Any], fields: list[str]
) -> None:
    body = assert_error(post(client, task, "complete", "sales", json={"data": data}), 422, "invalid")
    assert [d["field"] for d in body["details"]] == fields
    assert all(set(d) == {"field", "message"} for d in body["details"])
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=auth("sales")).get_json()["status"] == "open"


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"data": [1]}}, 422),
        ({"json": {"data": "amount=3"}}, 422),
        ({"json": [{"amount": 3}]}, 400),
        ({"data": "{", "content_type": "application/json"}, 400),
        ({"data": "amount=3", "content_type": "application/x-www-form-urlencoded"}, 400),
    ],
)
def test_complete_refuses_bad_bodies(
    client: FlaskClient, task: dict[str, Any], kwargs: dict[str, Any], status: int
) -> None:
    assert_error(post(client, task, "complete", "sales", **kwargs), status)


def test_complete_in_a_suspended_instance_is_a_conflict(client: FlaskClient, task: dict[str, Any]) -> None:
    client.post(f"/api/v1/instances/{task['instance_id']}/suspend", headers=auth("manager"))
    assert_error(post(client, task, "complete", "sales", json={"data": {"amount": 3}}), 409, "conflict")


def test_queue_pages_through_my_groups_tasks(client: FlaskClient, task: dict[str, Any]) -> None:
    body = client.get("/api/v1/queue?queue=groups&per_page=1", headers=auth("sales")).get_json()
    assert (body["total"], body["total_capped"], body["page"]) == (1, False, 1)
    assert [t["id"] for t in body["items"]] == [task["id"]]
    assert client.get("/api/v1/queue?queue=mine", headers=auth("sales")).get_json()["items"] == []
    post(client, task, "claim", "sales")
    assert [t["id"] for t in client.get("/api/v1/queue?queue=mine", headers=auth("sales")).get_json()["items"]] == [
        task["id"]
    ]
    for bad, field in (("queue=all", "queue"), ("page=99", "page"), ("per_page=0", "per_page")):
        body = assert_error(client.get(f"/api/v1/queue?{bad}", headers=auth("sales")), 422)
        assert [d["field"] for d in body["details"]] == [field]

"""Camunda's external-task REST API: fetchAndLock (with bounded long polling), complete, failure, bpmnError."""

from __future__ import annotations

import io
import threading
from typing import Any

from api_helpers import ROOT, auth
from flask import Flask
from flask.testing import FlaskClient

EXTERNAL = (ROOT / "tests" / "engine" / "data" / "external.bpmn").read_bytes()
TOPIC = {"topicName": "reserve-stock", "lockDuration": 60_000}


def _deploy(client: FlaskClient) -> None:
    files = {"files": [(io.BytesIO(EXTERNAL), "external.bpmn")]}
    assert client.post("/api/v1/deployments", data=files, headers=auth("owner")).status_code == 201


def _start(client: FlaskClient, business_key: str) -> int:
    body = {"business_key": business_key, "data": {"sku": "A-1", "qty": 2}}
    response = client.post("/api/v1/processes/external_order/instances", json=body, headers=auth("sales"))
    assert response.status_code == 201, response.get_data(as_text=True)
    return int(response.get_json()["id"])


def _fetch(client: FlaskClient, worker: str = "w1", **extra: Any) -> list[dict[str, Any]]:
    body = {"workerId": worker, "maxTasks": 5, "topics": [TOPIC], **extra}
    response = client.post("/engine-rest/external-task/fetchAndLock", json=body, headers=auth("worker"))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def _post(client: FlaskClient, task_id: str, action: str, body: dict[str, Any]) -> Any:
    return client.post(f"/engine-rest/external-task/{task_id}/{action}", json=body, headers=auth("worker"))


def test_fetch_complete_and_the_errors_camunda_clients_expect(client: FlaskClient) -> None:
    _deploy(client)
    instance = _start(client, "SO-1")
    [task] = _fetch(client, topics=[{**TOPIC, "variables": ["sku"]}])
    assert task["topicName"] == "reserve-stock" and task["workerId"] == "w1" and task["businessKey"] == "SO-1"
    assert task["processInstanceId"] == str(instance) and task["activityId"] == "Task_Reserve"
    assert task["processDefinitionKey"] == "external_order" and task["priority"] == 5
    assert task["variables"] == {"sku": {"type": "String", "value": "A-1", "valueInfo": {}}}
    assert task["lockExpirationTime"].endswith("+0000")
    assert _fetch(client, "w2") == []

    wrong = _post(client, task["id"], "complete", {"workerId": "w2"})
    assert wrong.status_code == 409
    assert wrong.get_json() == {
        "type": "BadUserRequestException",
        "message": f"External Task {task['id']} cannot be completed by worker 'w2'. It is locked by worker 'w1'.",
    }
    bad = _post(
        client, task["id"], "complete", {"workerId": "w1", "variables": {"qty": {"value": "x", "type": "Long"}}}
    )
    assert bad.status_code == 400 and "qty" in bad.get_json()["message"]
    assert _post(client, "999", "complete", {"workerId": "w1"}).status_code == 404
    assert _post(client, "abc", "unlock", {}).status_code == 404
    assert _post(client, task["id"], "extendLock", {"workerId": "w1", "newDuration": 120_000}).status_code == 204
    listed = client.get(f"/engine-rest/external-task?processInstanceId={instance}", headers=auth("worker"))
    assert [t["id"] for t in listed.get_json()] == [task["id"]]
    assert client.get(f"/engine-rest/external-task/{task['id']}", headers=auth("sales")).status_code == 403

    done = _post(
        client, task["id"], "complete", {"workerId": "w1", "variables": {"reserved": {"value": 2, "type": "Integer"}}}
    )
    assert done.status_code == 204 and done.get_data() == b""
    detail = client.get(f"/api/v1/instances/{instance}", headers=auth("manager")).get_json()
    assert detail["data"]["reserved"] == 2 and [t["name"] for t in detail["tasks"]] == ["发货"]
    gone = _post(client, task["id"], "complete", {"workerId": "w1"})
    assert (
        gone.status_code == 404 and gone.get_json()["message"] == f"External task with id {task['id']} does not exist"
    )


def test_failures_become_an_incident_that_a_manager_retries_and_bpmn_errors_take_the_boundary(
    client: FlaskClient,
) -> None:
    _deploy(client)
    failing = _start(client, "SO-2")
    [task] = _fetch(client)
    failed = _post(client, task["id"], "failure", {"workerId": "w1", "errorMessage": "仓库系统离线", "retries": 0})
    assert failed.status_code == 204
    detail = client.get(f"/api/v1/instances/{failing}", headers=auth("manager")).get_json()
    assert detail["status"] == "error" and detail["error"]["element_id"] == "Task_Reserve"
    assert "仓库系统离线" in detail["error"]["message"]
    incidents = client.get("/engine-rest/external-task?noRetriesLeft=true", headers=auth("manager")).get_json()
    assert [(t["id"], t["retries"], t["errorMessage"]) for t in incidents] == [(task["id"], 0, "仓库系统离线")]
    assert _fetch(client) == []
    retried = client.post(f"/api/v1/instances/{failing}/retry", json={}, headers=auth("manager"))
    assert retried.status_code == 200 and retried.get_json()["status"] == "running"

    [again] = _fetch(client)
    assert again["id"] == task["id"] and again["retries"] == 1
    thrown = _post(
        client,
        again["id"],
        "bpmnError",
        {"workerId": "w1", "errorCode": "OUT_OF_STOCK", "variables": {"eta": {"value": 7, "type": "Integer"}}},
    )
    assert thrown.status_code == 204
    detail = client.get(f"/api/v1/instances/{failing}", headers=auth("manager")).get_json()
    assert [t["name"] for t in detail["tasks"]] == ["补货"] and detail["data"]["eta"] == 7


def test_long_polling_waits_for_work_but_only_within_its_bound(app: Flask, client: FlaskClient) -> None:
    _deploy(client)
    app.config["EXTERNAL_TASK_LONG_POLLS"] = 1

    def poll_while_starting(business_key: str) -> list[dict[str, Any]]:
        result: list[list[dict[str, Any]]] = []
        poller = threading.Thread(
            target=lambda: result.append(_fetch(app.test_client(), asyncResponseTimeout=20_000)), daemon=True
        )
        poller.start()
        poller.join(timeout=1.0)  # the request is waiting (or, over the bound, has answered already)
        _start(client, business_key)
        poller.join(timeout=30)
        return result[0]

    [waited] = poll_while_starting("SO-3")
    assert waited["businessKey"] == "SO-3"
    slots = app.extensions["external_task_polls"]
    assert slots.acquire(blocking=False)  # another request holds the only waiting slot
    try:
        assert poll_while_starting("SO-4") == []  # answered at once, before the task existed
    finally:
        slots.release()
    assert [t["businessKey"] for t in _fetch(client)] == ["SO-4"]


def test_a_manager_sees_the_incident_on_the_instance_page_and_retries_it_there(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    _deploy(client)
    instance = _start(client, "SO-9")
    [task] = _fetch(client)
    _post(client, task["id"], "failure", {"workerId": "w1", "errorMessage": "短信网关拒绝", "retries": 0})
    login_as("lead")
    url = f"/monitor/instances/{instance}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="instance-error"' in page and "Task_Reserve" in page and "短信网关拒绝" in page and "SO-9" in page
    assert "任务已交给外部系统" in page and "外部系统最终失败" in page  # the history says what happened
    assert client.post(url + "/retry", data={"reason": "网关已恢复"}).status_code == 302
    [again] = _fetch(client, "w2")
    assert again["id"] == task["id"] and again["retries"] == 1


def test_a_worker_may_use_a_personal_token_instead_of_its_password(app: Flask, client: FlaskClient) -> None:
    from engine import tokens

    with app.extensions["engine"]["session_factory"].begin() as session:
        _view, secret = tokens.create_token(session, "worker", "stock system")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/engine-rest/external-task", headers=bearer).status_code == 200
    assert client.get("/engine-rest/external-task", headers={"Authorization": "Bearer nope"}).status_code == 401

"""POST /engine-rest/message as Camunda 7's REST API: request and result shapes, errors, who may send."""

from __future__ import annotations

import io

from api_helpers import ROOT, auth
from flask.testing import FlaskClient

MESSAGES = (ROOT / "tests" / "engine" / "data" / "messages.bpmn").read_bytes()


def _deploy(client: FlaskClient) -> None:
    files = {"files": [(io.BytesIO(MESSAGES), "messages.bpmn")]}
    assert client.post("/api/v1/deployments", data=files, headers=auth("owner")).status_code == 201


def _start(client: FlaskClient, key: str, business_key: str, data: dict | None = None) -> int:  # type: ignore[type-arg]
    body = {"business_key": business_key, "data": data or {}}
    response = client.post(f"/api/v1/processes/{key}/instances", json=body, headers=auth("sales"))
    assert response.status_code == 201, response.get_data(as_text=True)
    return int(response.get_json()["id"])


def test_correlation_with_typed_variables_and_camunda_result_shapes(client: FlaskClient) -> None:
    _deploy(client)
    waiting = _start(client, "msg_receive", "SO-1", {"customer": "华信"})
    body = {
        "messageName": "payment",
        "businessKey": "SO-1",
        "correlationKeys": {"customer": {"value": "华信", "type": "String"}},
        "processVariables": {
            "paid": {"value": 12.5, "type": "Double"},
            "count": {"value": "3", "type": "Integer"},
            "vip": {"value": True, "type": "Boolean"},
            "items": {"value": '[{"sku": "A"}]', "type": "Json"},
        },
        "resultEnabled": True,
        "variablesInResultEnabled": True,
    }
    response = client.post("/engine-rest/message", json=body, headers=auth("worker"))
    assert response.status_code == 200, response.get_data(as_text=True)
    [result] = response.get_json()
    assert result["resultType"] == "Execution" and result["processInstance"] is None
    assert result["execution"] == {
        "id": str(waiting),
        "processInstanceId": str(waiting),
        "ended": False,
        "tenantId": None,
    }
    assert result["variables"]["paid"] == {"type": "Double", "value": 12.5, "valueInfo": {}}
    assert result["variables"]["items"]["type"] == "Json"
    instance = client.get(f"/api/v1/instances/{waiting}", headers=auth("manager")).get_json()
    assert instance["data"] == {"customer": "华信", "paid": 12.5, "count": 3, "vip": True, "items": [{"sku": "A"}]}
    assert [t["name"] for t in instance["tasks"]] == ["发货"]
    events = client.get(f"/api/v1/instances/{waiting}/events", headers=auth("manager")).get_json()
    received = [e for e in events if e["type"] == "message_received"]
    assert received[0]["actor"] == "worker" and received[0]["data"]["variables"]["paid"] == 12.5

    started = client.post(
        "/engine-rest/message",
        json={"messageName": "new-lead", "businessKey": "L-1", "resultEnabled": True},
        headers=auth("worker"),
    )
    [created] = started.get_json()
    assert created["resultType"] == "ProcessDefinition" and created["execution"] is None
    assert created["processInstance"]["businessKey"] == "L-1"
    assert created["processInstance"]["definitionId"] == "msg_start:1"
    quiet = client.post("/engine-rest/message", json={"messageName": "new-lead"}, headers=auth("worker"))
    assert quiet.status_code == 204 and quiet.get_data() == b""


def test_no_match_is_404_several_is_409_and_bad_input_400_in_camunda_error_shape(client: FlaskClient) -> None:
    _deploy(client)
    first, second = _start(client, "msg_receive", "A"), _start(client, "msg_receive", "B")

    def send(body: dict, user: str = "worker"):  # type: ignore[no-untyped-def,type-arg]
        return client.post("/engine-rest/message", json=body, headers=auth(user))

    missing = send({"messageName": "payment", "businessKey": "nobody"})
    assert missing.status_code == 404
    assert missing.get_json() == {
        "type": "MismatchingMessageCorrelationException",
        "message": "Cannot correlate message 'payment': No process definition or execution matches the parameters",
    }
    several = send({"messageName": "payment"})
    assert several.status_code == 409 and several.get_json()["type"] == "MismatchingMessageCorrelationException"
    assert f"instance {first}" in several.get_json()["message"]
    for bad, field in (
        ({"businessKey": "A"}, "messageName"),
        ({"messageName": "payment", "processVariables": {"x": {"value": "abc", "type": "Integer"}}}, "x"),
        ({"messageName": "payment", "processVariables": {"x": {"value": 1, "type": "Banana"}}}, "Banana"),
        ({"messageName": "payment", "all": "yes"}, "all"),
    ):
        response = send(bad)
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()["type"] == "InvalidRequestException" and field in response.get_json()["message"]
    assert send({"messageName": "payment"}, user="sales").status_code == 403
    anonymous = client.post("/engine-rest/message", json={"messageName": "payment"})
    assert anonymous.status_code == 401 and anonymous.get_json()["type"] == "AuthenticationException"
    # Nothing was delivered by the refused requests; "all" delivers to both.
    done = send({"messageName": "payment", "all": True, "resultEnabled": True})
    assert sorted(int(r["execution"]["id"]) for r in done.get_json()) == [first, second]


def test_the_json_api_correlates_with_plain_values_and_describes_the_call(client: FlaskClient) -> None:
    _deploy(client)
    waiting = _start(client, "msg_receive", "SO-7", {"customer": "华信"})
    body = {"message_name": "payment", "business_key": "SO-7", "variables": {"paid": 3}}
    response = client.post("/api/v1/messages", json=body, headers=auth("worker"))
    assert response.status_code == 200, response.get_data(as_text=True)
    [result] = response.get_json()
    assert (result["result_type"], result["element_id"], result["instance"]["id"]) == (
        "Execution",
        "Receive_Payment",
        waiting,
    )
    assert result["instance"]["data"]["paid"] == 3
    again = client.post("/api/v1/messages", json=body, headers=auth("worker"))
    assert again.status_code == 404 and again.get_json()["error"] == "not_found"
    bad = client.post("/api/v1/messages", json={"message_name": "payment", "all": 1}, headers=auth("worker"))
    assert bad.status_code == 422 and bad.get_json()["details"] == [
        {"field": "all", "message": "must be true or false"}
    ]
    described = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/messages" in described["paths"] and "CorrelateMessage" in described["components"]["schemas"]

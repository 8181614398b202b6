"""API: list processes and versions, read their BPMN, deploy files; authentication and CSRF on the way."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from api_helpers import assert_error, auth
from flask import Flask
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
KEYS = ["complaint", "promotion", "recruitment", "sales"]


def csrf_token_of(client: FlaskClient) -> str:
    """Read the CSRF token the login page embeds."""
    html = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


def upload(*paths: Path, changes: dict[str, bytes] | None = None) -> dict[str, object]:
    """A multipart body with the files, some of them with replaced content."""
    changes = changes or {}
    return {"files": [(io.BytesIO(changes.get(p.name, p.read_bytes())), p.name) for p in paths]}


def test_processes_lists_the_latest_version_of_each(client: FlaskClient) -> None:
    response = client.get("/api/v1/processes", headers=auth("sales"))
    assert response.status_code == 200
    items = response.get_json()
    assert sorted(p["key"] for p in items) == KEYS
    for item in items:
        assert item["version"] == 1
        assert item["name"]
        assert item["deployed_at"].endswith("+00:00")


@pytest.mark.parametrize("headers", [{}, auth("sales", "wrong"), {"Authorization": "Basic !!!"}])
def test_processes_needs_a_login(client: FlaskClient, headers: dict[str, str]) -> None:
    assert_error(client.get("/api/v1/processes", headers=headers), 401, "unauthorized")


def test_session_cookie_logs_in_too(client: FlaskClient, login_as: object) -> None:
    login_as("sales")  # type: ignore[operator]
    assert client.get("/api/v1/processes").status_code == 200


def test_versions_of_a_process(client: FlaskClient) -> None:
    response = client.get("/api/v1/processes/sales/versions", headers=auth("sales"))
    assert response.status_code == 200
    [version] = response.get_json()
    assert version["key"] == "sales"
    assert version["version"] == 1
    assert version["deployed_by"] == "system"


def test_versions_of_an_unknown_process(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/processes/nope/versions", headers=auth("sales")), 404, "not_found")


def test_xml_of_the_latest_and_of_a_version(client: FlaskClient) -> None:
    latest = client.get("/api/v1/processes/complaint/xml", headers=auth("service"))
    assert latest.status_code == 200
    assert latest.mimetype == "application/xml"
    assert latest.get_data() == (PROCESSES / "complaint.bpmn").read_bytes()
    first = client.get("/api/v1/processes/complaint/xml?version=1", headers=auth("service"))
    assert first.get_data() == latest.get_data()


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/processes/complaint/xml?version=7", 404, "not_found"),
        ("/api/v1/processes/nope/xml", 404, "not_found"),
        ("/api/v1/processes/complaint/xml?version=abc", 400, "bad_request"),
        ("/api/v1/processes/complaint/xml?version=1.5", 400, "bad_request"),
        ("/api/v1/processes/complaint/xml?version=99999999999999999999999", 400, "bad_request"),
        ("/api/v1/processes/complaint/xml?version=0", 422, "invalid"),
        ("/api/v1/processes/complaint/xml?version=%00", 400, "bad_request"),
    ],
)
def test_xml_errors(client: FlaskClient, path: str, status: int, code: str) -> None:
    assert_error(client.get(path, headers=auth("service")), status, code)


def test_deploy_unchanged_files_keeps_the_version(client: FlaskClient) -> None:
    files = upload(PROCESSES / "complaint.bpmn", PROCESSES / "complaint_severity.dmn")
    response = client.post("/api/v1/deployments", data=files, headers=auth("owner"))
    assert response.status_code == 201
    assert response.get_json() == {"processes": [{"key": "complaint", "version": 1, "created": False}], "warnings": []}


@pytest.mark.parametrize("user", ["owner", "admin"])
def test_deploy_a_changed_process_makes_a_new_version(client: FlaskClient, user: str) -> None:
    bpmn = PROCESSES / "complaint.bpmn"
    changed = bpmn.read_bytes().replace(b"</bpmn:definitions>", b"<!-- v2 --></bpmn:definitions>")
    files = upload(bpmn, PROCESSES / "complaint_severity.dmn", changes={bpmn.name: changed})
    response = client.post("/api/v1/deployments", data=files, headers=auth(user))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == {"processes": [{"key": "complaint", "version": 2, "created": True}], "warnings": []}
    versions = client.get("/api/v1/processes/complaint/versions", headers=auth(user)).get_json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["deployed_by"] == user
    old = client.get("/api/v1/processes/complaint/xml?version=1", headers=auth(user)).get_data()
    assert b"<!-- v2 -->" not in old


@pytest.mark.parametrize("user", ["sales", "manager", "lead"])
def test_deploy_is_for_owners_only(client: FlaskClient, user: str) -> None:
    files = upload(PROCESSES / "complaint.bpmn", PROCESSES / "complaint_severity.dmn")
    assert_error(client.post("/api/v1/deployments", data=files, headers=auth(user)), 403, "forbidden")


def test_deploy_needs_a_login(client: FlaskClient) -> None:
    files = upload(PROCESSES / "complaint.bpmn")
    assert_error(client.post("/api/v1/deployments", data=files), 401, "unauthorized")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"data": {"other": (io.BytesIO(b"x"), "a.bpmn")}},
        {"json": {"files": ["a.bpmn"]}},
    ],
)
def test_deploy_without_files_is_malformed(client: FlaskClient, kwargs: dict[str, object]) -> None:
    response = client.post("/api/v1/deployments", headers=auth("owner"), **kwargs)  # type: ignore[arg-type]
    assert_error(response, 400, "bad_request")


def test_deploy_broken_bpmn_locates_the_problem(client: FlaskClient) -> None:
    files = {"files": [(io.BytesIO(b"<bpmn:definitions"), "broken.bpmn")]}
    body = assert_error(client.post("/api/v1/deployments", data=files, headers=auth("owner")), 422)
    assert body["error"] == "invalid_definition"
    [problem] = body["details"]
    assert set(problem) == {"file", "element_id", "line", "message"}
    assert problem["file"] == "broken.bpmn"


def test_deploy_refuses_other_file_types(client: FlaskClient) -> None:
    files = {"files": [(io.BytesIO(b"hello"), "notes.txt")]}
    body = assert_error(client.post("/api/v1/deployments", data=files, headers=auth("owner")), 422)
    assert body["details"][0]["file"] == "notes.txt"


def test_deploy_too_large(app: Flask, client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    files = {"files": [(io.BytesIO(b"x" * 5000), "big.bpmn")]}
    assert_error(client.post("/api/v1/deployments", data=files, headers=auth("owner")), 413, "too_large")


def test_cookie_writes_need_the_csrf_token(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    token = csrf_token_of(client)
    response = client.post("/login", data={"username": "owner", "password": "demo", "csrf_token": token})
    assert response.status_code == 302
    files = upload(PROCESSES / "complaint.bpmn", PROCESSES / "complaint_severity.dmn")
    assert_error(client.post("/api/v1/deployments", data=files), 400, "bad_request")
    assert client.get("/api/v1/processes").status_code == 200
    files = upload(PROCESSES / "complaint.bpmn", PROCESSES / "complaint_severity.dmn")
    response = client.post("/api/v1/deployments", data=files, headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_basic_writes_need_no_csrf_token(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    response = client.post("/api/v1/processes/complaint/instances", json={}, headers=auth("service"))
    assert response.status_code == 201


def test_cookie_json_write_with_a_wrong_token(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    token = csrf_token_of(client)
    client.post("/login", data={"username": "service", "password": "demo", "csrf_token": token})
    response = client.post("/api/v1/processes/complaint/instances", json={}, headers={"X-CSRFToken": "forged"})
    assert_error(response, 400, "bad_request")
    response = client.post("/api/v1/processes/complaint/instances", json={}, headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_unknown_api_path_is_a_json_404(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/nothing-here", headers=auth("sales")), 404, "not_found")


def test_openapi_describes_every_route(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["basicAuth"] == {"type": "http", "scheme": "basic"}
    assert "Error" in spec["components"]["schemas"]
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)  # arguments in the order they appear
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented
    for ops in spec["paths"].values():
        for op in ops.values():
            assert "200" in op["responses"] or "201" in op["responses"]
            for status, response_spec in op["responses"].items():
                if status.startswith("4"):
                    assert response_spec["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"
                    }
    complete = spec["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]
    assert {"400", "401", "403", "404", "409", "422"} <= set(complete["responses"])


UNKNOWN_GROUP = ROOT / "tests" / "engine" / "data" / "unknown_group.bpmn"


def test_deploy_with_a_fallback_group_lists_the_tasks_as_warnings(client: FlaskClient) -> None:
    refused = client.post("/api/v1/deployments", data=upload(UNKNOWN_GROUP), headers=auth("owner"))
    body = assert_error(refused, 422)
    assert {p["element_id"] for p in body["details"]} == {"Task_Accounting", "Task_Nobody"}

    data = {**upload(UNKNOWN_GROUP), "fallback_group": "team-lead"}
    response = client.post("/api/v1/deployments", data=data, headers=auth("owner"))
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["processes"] == [{"key": "unknown_group", "version": 1, "created": True}]
    assert [w["element_id"] for w in body["warnings"]] == ["Task_Accounting", "Task_Nobody"]
    assert all(w["file"] == "unknown_group.bpmn" and "team-lead" in w["message"] for w in body["warnings"])
    [version] = client.get("/api/v1/processes/unknown_group/versions", headers=auth("owner")).get_json()
    assert version["fallback_group"] == "team-lead"


def test_deploy_with_an_unknown_fallback_group_is_refused(client: FlaskClient) -> None:
    data = {**upload(UNKNOWN_GROUP), "fallback_group": "accounting"}
    body = assert_error(client.post("/api/v1/deployments", data=data, headers=auth("owner")), 422)
    assert "fallback group 'accounting'" in body["details"][0]["message"]
    assert client.get("/api/v1/processes/unknown_group/versions", headers=auth("owner")).status_code == 404

"""Every endpoint of the URL map, asked by each role and by an anonymous client, answers as the table says.

One app and one seeded database: an instance of each process, a task, an external task, a user, a token.
GET for pages and reads; every other method with an empty body, so a denied role must be refused (403, or
401/login for anonymous) before any validation, and an allowed one gets an answer that is not 401/403/5xx.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Flask, url_for
from flask.testing import FlaskClient

from tests.web.api_helpers import ROOT, auth

# Who asks, in this order (the destructive empty-body requests of an allowed role come after the denied ones).
ROLES = {
    "anonymous": None,
    "worker": "worker",
    "staff": "service",
    "owner": "owner",
    "manager": "manager",
    "admin": "admin",
}

PUBLIC = "public"  # anyone, logged in or not
ANY = "any"  # anyone logged in
STAFF = ("staff", "manager", "admin")  # demo managers are staff of team-lead too
OWNER = ("owner", "admin")
MANAGER = ("manager", "admin")
ADMIN = ("admin",)
WORKER = ("worker", "manager", "admin")

# endpoint -> who may use it: PUBLIC, ANY, or the roles of ROLES allowed (all methods of the endpoint).
# ANY on a task or instance route means the engine checks that one task or instance (its group, its starter).
ANY_ENDPOINTS = """
    tasks.queue tasks.badge tasks.cases_page tasks.completed tasks.queue_fragment tasks.start tasks.claim
    tasks.unclaim account.tokens account.create_token account.revoke_token auth.home
    api.list_cases api.list_instances api.correlate_message api.withdraw_instance api.list_processes
    api.diff_versions api.list_scenarios api.list_versions api.version_file api.process_xml
    api.processes_overview api.queue_page api.list_tasks api.claim_task api.complete_task api.unclaim_task
"""
OWNER_ENDPOINTS = """
    api.deploy api.deploy_noted api.get_draft api.save_draft api.discard_draft api.deploy_draft
    api.dry_run_draft api.validate_draft api.save_scenario api.delete_scenario api.new_process
    editor.edit editor.new_process editor.upload
"""
MANAGER_ENDPOINTS = """
    api.resume_instance api.retry_instance api.suspend_instance api.terminate_instance api.monitor_dashboard
    api.monitor_instances api.monitor_heatmap api.change_due_date api.assign_task api.edit_instance_data
    monitoring.dashboard monitoring.export monitoring.instances monitoring.instance monitoring.act
    monitoring.heatmap monitoring.act_on_task tasks.assign
"""
ADMIN_ENDPOINTS = """
    admin.index admin.groups admin.new_group admin.rename_group admin.users admin.user admin.user_access
    admin.user_active admin.user_password admin.new_user api.admin_list_groups api.admin_create_group
    api.admin_rename_group api.admin_list_users api.admin_create_user api.admin_get_user api.admin_change_user
"""
ACCESS: dict[str, Any] = {
    **{endpoint: ADMIN for endpoint in ADMIN_ENDPOINTS.split()},
    **{endpoint: ANY for endpoint in ANY_ENDPOINTS.split()},
    **{endpoint: OWNER for endpoint in OWNER_ENDPOINTS.split()},
    **{endpoint: MANAGER for endpoint in MANAGER_ENDPOINTS.split()},
    "static": PUBLIC,
    "auth.login": PUBLIC,  # a POST with no credentials is a refused login (401), not a denied page
    "auth.set_language": PUBLIC,
    "auth.logout": PUBLIC,  # its answer is the login page, for everyone
    "api.openapi": PUBLIC,
    # process pages managers read too; editing is the owners'
    **{f"editor.{page}": ("owner", "manager", "admin") for page in ("home", "compare", "history", "download")},
    # the seeded instance's starter (staff of service); owners read instances and their history
    "api.get_instance": ("staff", "owner", "manager", "admin"),
    "api.list_events": ("staff", "owner", "manager", "admin"),
    "tasks.withdraw": ("staff",),
    # the seeded task is in the service group, which the staff user and the team-lead managers see
    "api.get_task": STAFF,
    "tasks.task": STAFF,
    "tasks.complete": STAFF,
    "tasks.comment": STAFF,
    "api.start_instance": STAFF,
    "tasks.start_instance": STAFF,
    **{
        rule: WORKER
        for rule in (
            "list_tasks",
            "get_task",
            "bpmn_error",
            "complete",
            "extend_lock",
            "failure",
            "set_retries",
            "unlock",
            "fetch_and_lock",
            "correlate_message",
        )
        for rule in [f"engine_rest.{rule}"]
    },
}


def _seed(client: FlaskClient) -> dict[str, Any]:
    """Real ids for the path parameters."""
    instances = {}
    for key, user in (("complaint", "service"), ("sales", "sales"), ("recruitment", "lead"), ("promotion", "lead")):
        response = client.post(f"/api/v1/processes/{key}/instances", json={"title": "access"}, headers=auth(user))
        assert response.status_code == 201, response.get_data(as_text=True)
        instances[key] = response.get_json()["id"]
    tasks = client.get("/api/v1/tasks?scope=all", headers=auth("manager")).get_json()
    task = next(t for t in tasks if "service" in str(t))
    external = (ROOT / "tests" / "engine" / "data" / "external.bpmn").read_bytes()
    files = {"files": [(io.BytesIO(external), "external.bpmn")]}
    assert client.post("/api/v1/deployments", data=files, headers=auth("owner")).status_code == 201
    body = {"business_key": "SO-1", "data": {"sku": "A-1", "qty": 2}}
    assert (
        client.post("/api/v1/processes/external_order/instances", json=body, headers=auth("sales")).status_code == 201
    )
    [external_task] = client.get("/engine-rest/external-task", headers=auth("worker")).get_json()
    user = client.post(
        "/api/v1/admin/users",
        json={"name": "target", "password": "long-enough-password", "groups": ["sales"]},
        headers=auth("admin"),
    )
    assert user.status_code == 201, user.get_data(as_text=True)
    token = client.post("/account/tokens", data={"name": "ci"}, headers=auth("service"))
    assert token.status_code < 400, token.get_data(as_text=True)
    scenarios = client.get("/api/v1/processes/complaint/scenarios", headers=auth("owner")).get_json()
    return {
        "instance_id": instances["complaint"],
        "task_id": task["id"],
        "token_id": 1,
        "user_id": user.get_json()["id"],
        "group_id": "sales",
        "key": "complaint",
        "version": 1,
        "name": scenarios[0]["name"] if isinstance(scenarios, list) and scenarios else "complaint.bpmn",
        "code": "en",
        "action": "suspend",
        "filename": "css/app.css",
        "external_task_id": external_task["id"],
    }


def _values(rule: Any, seeded: dict[str, Any]) -> dict[str, Any]:
    values = {arg: seeded[arg] for arg in rule.arguments}
    if rule.endpoint == "engine_rest.get_task" or rule.rule.startswith("/engine-rest/external-task/<"):
        values["task_id"] = seeded["external_task_id"]
    if rule.endpoint == "monitoring.act_on_task":
        values["action"] = "due"
    if rule.endpoint == "monitoring.export":
        values["name"] = "processes"
    if rule.endpoint == "api.version_file":
        values["name"] = "complaint.bpmn"
    return values


def _ask(client: FlaskClient, method: str, path: str, who: str | None) -> Any:
    headers = auth(who) if who else {}
    if path.startswith(("/api/", "/engine-rest/")):
        return client.open(path, method=method, json={} if method != "GET" else None, headers=headers)
    return client.open(path, method=method, data={} if method != "GET" else None, headers=headers)


def _outcome(response: Any) -> str:
    if response.status_code in (401, 403):
        return "denied"
    if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
        return "login"
    if response.status_code >= 500:
        return "error"
    return "allowed"


def _expected(access: Any, role: str) -> str:
    if access == PUBLIC or (access == ANY and role != "anonymous") or role in access:
        return "allowed"
    return "login" if role == "anonymous" else "denied"


def test_every_endpoint_answers_each_role_as_the_table_says(app: Flask, client: FlaskClient) -> None:
    seeded = _seed(client)
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    missing = sorted({rule.endpoint for rule in rules} - set(ACCESS))
    assert not missing, f"add these endpoints to ACCESS in tests/web/test_access_map.py: {missing}"
    wrong = []
    for rule in rules:
        with app.test_request_context():
            path = url_for(rule.endpoint, **_values(rule, seeded))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role, who in ROLES.items():
                response = _ask(client, method, path, who)
                response.close()
                outcome, expected = _outcome(response), _expected(ACCESS[rule.endpoint], role)
                if expected == "login" and path.startswith(("/api/", "/engine-rest/")):
                    expected = "denied"  # the API answers 401 instead of sending to the login page
                if expected == "allowed" and ACCESS[rule.endpoint] == PUBLIC and outcome == "denied":
                    outcome = "allowed" if response.status_code == 401 and rule.endpoint == "auth.login" else outcome
                if rule.endpoint == "auth.logout" and outcome == "login":
                    outcome = "allowed"
                if outcome != expected or (
                    expected == "denied" and role != "anonymous" and response.status_code != 403
                ):
                    wrong.append(
                        f"{method} {path} ({rule.endpoint}) as {role}: {response.status_code}, expected {expected}"
                    )
    assert not wrong, "\n".join(wrong)

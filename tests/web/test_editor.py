"""Process owners over HTTP: processes home, drafts, validate, dry run, scenarios, diff, deploy with a note, uploads."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from api_helpers import assert_error, auth
from flask import Flask
from flask.testing import FlaskClient

from engine import definitions, instances
from web import create_app

ROOT = Path(__file__).resolve().parents[2]
OWNER = auth("owner")
API = "/api/v1/processes"


def _draft(client: FlaskClient, key: str = "complaint") -> dict[str, Any]:
    response = client.get(f"{API}/{key}/draft", headers=OWNER)
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def _save(client: FlaskClient, key: str, files: dict[str, str], headers: dict[str, str] = OWNER) -> Any:
    return client.put(f"{API}/{key}/draft", json={"files": files}, headers=headers)


def _renamed(xml: str, old: str, new: str) -> str:
    assert f'name="{old}"' in xml
    return xml.replace(f'name="{old}"', f'name="{new}"', 1)


def _deployed_versions(app: Flask, key: str) -> list[int]:
    with app.extensions["engine"]["session_factory"]() as session:
        return [v.version for v in definitions.list_versions(session, key)]


def test_owner_lands_on_the_processes_home_with_counts_and_links(app: Flask, client: FlaskClient) -> None:
    with app.extensions["engine"]["session_factory"].begin() as session:
        instances.start_instance(session, "complaint", "service", {}, "one")
        instances.start_instance(session, "complaint", "service", {}, "two")
    response = client.post("/login", data={"username": "owner", "password": "demo"})
    assert response.headers["Location"] == "/processes/"
    html = client.get("/processes/", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    for key in ("complaint", "sales", "promotion", "recruitment"):
        assert f'id="process-{key}"' in html
        assert f"/processes/{key}/edit" in html
        assert f"/processes/{key}/history" in html
        assert f"/processes/{key}/versions/1/download" in html
    row = html.split('id="process-complaint"')[1].split("</tr>")[0]
    assert "v1: 2" in row and "系统" in row  # deployed by `teamflow demo`, named for people
    edit = client.get("/processes/complaint/edit", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "<h1>编辑 客户投诉处理" in edit
    overview = client.get(f"{API}/overview").get_json()["processes"]
    complaint = next(p for p in overview if p["key"] == "complaint")
    assert complaint["running"] == [{"version": 1, "instances": 2}]


def test_managers_read_staff_may_not(login_as: Any) -> None:
    client = login_as("manager")
    html = client.get("/processes/").get_data(as_text=True)
    assert "/processes/complaint/history" in html and "/processes/complaint/edit" not in html
    assert client.get("/processes/complaint/edit").status_code == 403
    assert client.get("/processes/complaint/history").status_code == 200
    assert client.post("/processes/new", data={"key": "x", "name": "x"}).status_code == 403
    assert client.post("/processes/upload", data={}).status_code == 403
    client.post("/logout")
    staff = login_as("service")
    assert staff.get("/processes/").status_code == 403


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/complaint/draft", None),
        ("put", "/complaint/draft", {"files": {"a.bpmn": "<x/>"}}),
        ("delete", "/complaint/draft", None),
        ("post", "/complaint/draft/validate", None),
        ("post", "/complaint/draft/dry-run", {"steps": []}),
        ("post", "/complaint/draft/deploy", {"note": "n"}),
        ("post", "/new", {"key": "k", "name": "n"}),
        ("put", "/complaint/scenarios", {"name": "n", "steps": []}),
        ("delete", "/complaint/scenarios/n", None),
    ],
)
@pytest.mark.parametrize("user", ["manager", "service"])
def test_api_writes_are_for_owners_only(client: FlaskClient, method: str, path: str, body: Any, user: str) -> None:
    response = getattr(client, method)(API + path, json=body, headers=auth(user))
    assert_error(response, 403)


def test_draft_edit_validate_deploy_with_note_keeps_running_instances(app: Flask, client: FlaskClient) -> None:
    with app.extensions["engine"]["session_factory"].begin() as session:
        before = instances.start_instance(session, "complaint", "service", {}, "before")
    draft = _draft(client)
    assert draft["saved"] is False and draft["base_version"] == 1
    bpmn = draft["bpmn_file"]
    files = dict(draft["files"])
    files[bpmn] = _renamed(files[bpmn], "登记投诉", "登记客户投诉")
    saved = _save(client, "complaint", files)
    assert saved.status_code == 200 and saved.get_json()["saved"] is True
    # The draft is kept per user, survives a restart and never runs: version 1 is still what starts.
    restarted = create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "other"})
    assert restarted.test_client().get(f"{API}/complaint/draft", headers=OWNER).get_json()["files"][bpmn] == files[bpmn]
    restarted.extensions["engine"]["db_engine"].dispose()
    assert client.get(f"{API}/complaint/draft", headers=auth("admin")).get_json()["saved"] is False
    assert _deployed_versions(app, "complaint") == [1]
    assert client.post(f"{API}/complaint/draft/validate", headers=OWNER).get_json() == {"valid": True, "problems": []}
    assert_error(client.post(f"{API}/complaint/draft/deploy", json={"note": "  "}, headers=OWNER), 422)
    response = client.post(f"{API}/complaint/draft/deploy", json={"note": "任务改名"}, headers=OWNER)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["processes"] == [{"key": "complaint", "version": 2, "created": True}]
    assert _deployed_versions(app, "complaint") == [1, 2]
    assert _draft(client)["saved"] is False  # the draft is gone once deployed
    with app.extensions["engine"]["session_factory"].begin() as session:
        after = instances.start_instance(session, "complaint", "service", {}, "after")
        assert instances.get_instance(session, before.id).version == 1
        assert after.version == 2
        assert after.tasks[0].name == "登记客户投诉"
        assert instances.get_instance(session, before.id).tasks[0].name == "登记投诉"
    history = client.get("/processes/complaint/history", headers=OWNER).get_data(as_text=True)
    assert "任务改名" in history and "/processes/complaint/compare?left=1&amp;right=2" in history
    diff = client.get(f"{API}/complaint/diff?left=1&right=2", headers=OWNER).get_json()
    changed = [c for c in diff["changes"] if c["kind"] == "changed"]
    assert [(c["element_id"], c["changes"]) for c in changed] == [
        ("Task_RecordComplaint", [["name", "登记投诉", "登记客户投诉"]])
    ]


def test_validate_lists_problems_with_element_and_name(client: FlaskClient) -> None:
    files = dict(_draft(client, "sales")["files"])
    xml = files["sales.bpmn"]
    xml = re.sub(r'camunda:candidateGroups="[^"]*"', 'camunda:candidateGroups="nobody"', xml, count=1)
    condition = re.search(r"(<bpmn:conditionExpression[^>]*>)([^<]+)(<)", xml)
    assert condition
    xml = xml.replace(condition.group(0), condition.group(1) + "credit_rating ==" + condition.group(3), 1)
    files["sales.bpmn"] = xml
    assert _save(client, "sales", files).status_code == 200
    body = client.post(f"{API}/sales/draft/validate", headers=OWNER).get_json()
    assert body["valid"] is False
    messages = {p["element_id"]: p for p in body["problems"]}
    group_problem = next(p for p in body["problems"] if "nobody" in p["message"])
    assert group_problem["element_name"] and group_problem["element_id"].startswith("Task_")
    assert any("not a valid expression" in p["message"] for p in messages.values())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<bpmn:definitions", "not well-formed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
            "DOCTYPE",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>',
            "DOCTYPE",
        ),
    ],
)
def test_bad_xml_is_refused_and_never_stored(app: Flask, client: FlaskClient, content: bytes, message: str) -> None:
    body = assert_error(_save(client, "complaint", {"complaint.bpmn": content.decode()}), 422)
    assert message in body["message"]
    assert _draft(client)["saved"] is False
    upload = client.post(
        f"{API}/../../deployments/noted".replace("/processes/../..", ""),
        data={"files": (io.BytesIO(content), "complaint.bpmn"), "note": "x"},
        headers=OWNER,
    )
    assert_error(upload, 422)
    assert _deployed_versions(app, "complaint") == [1]


def test_upload_needs_a_note_and_makes_the_next_version(app: Flask, login_as: Any) -> None:
    client = login_as("owner")
    source = (ROOT / "processes" / "complaint.bpmn").read_text(encoding="utf-8")
    changed = _renamed(source, "登记投诉", "记录投诉").encode()
    response = client.post("/processes/upload", data={"files": (io.BytesIO(changed), "complaint.bpmn"), "note": ""})
    assert response.status_code == 422 and "note" in response.get_data(as_text=True)
    assert _deployed_versions(app, "complaint") == [1]
    response = client.post(
        "/processes/upload", data={"files": (io.BytesIO(changed), "complaint.bpmn"), "note": "从桌面建模器上传"}
    )
    assert response.status_code == 302
    assert _deployed_versions(app, "complaint") == [1, 2]
    assert "从桌面建模器上传" in client.get("/processes/complaint/history").get_data(as_text=True)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/processes/complaint/versions/1/download").data))
    assert sorted(archive.namelist()) == ["complaint.bpmn", "complaint_severity.dmn"]
    one = client.get("/processes/complaint/versions/2/download?file=complaint.bpmn")
    assert one.data == changed and "attachment" in one.headers["Content-Disposition"]


def test_new_process_empty_or_copied(app: Flask, client: FlaskClient) -> None:
    bad = client.post(f"{API}/new", json={"key": "1 bad", "name": "x"}, headers=OWNER)
    assert assert_error(bad, 422)["details"][0]["field"] == "key"
    taken = client.post(f"{API}/new", json={"key": "sales", "name": "x"}, headers=OWNER)
    assert assert_error(taken, 422)["details"][0]["field"] == "key"
    empty = client.post(f"{API}/new", json={"key": "onboarding", "name": "入职"}, headers=OWNER)
    assert empty.status_code == 201
    assert 'id="onboarding"' in empty.get_json()["files"]["onboarding.bpmn"]
    copy = client.post(f"{API}/new", json={"key": "sales2", "name": "销售二", "copy_from": "sales"}, headers=OWNER)
    assert copy.status_code == 201
    assert sorted(copy.get_json()["files"]) == ["sales2.bpmn", "sales_credit_rating.dmn", "sales_discount_approval.dmn"]
    assert client.post(f"{API}/sales2/draft/validate", headers=OWNER).get_json()["valid"] is True
    deployed = client.post(f"{API}/sales2/draft/deploy", json={"note": "复制销售流程"}, headers=OWNER)
    assert deployed.status_code == 201
    assert _deployed_versions(app, "sales2") == [1]
    assert _deployed_versions(app, "sales") == [1]


def test_dry_run_of_a_d_rated_customer_takes_the_lost_path_and_stores_nothing(app: Flask, client: FlaskClient) -> None:
    scenarios = json.loads((ROOT / "processes" / "scenarios" / "sales.json").read_text(encoding="utf-8"))
    refused = next(s for s in scenarios["scenarios"] if s["name"] == "D级客户未获特批，丢单")
    first = client.post(f"{API}/sales/draft/dry-run", json={"steps": []}, headers=OWNER).get_json()
    assert first["waiting"][0]["element_id"] == "Task_RegisterProspect"
    assert {f["id"] for f in first["waiting"][0]["form"]} >= {"company_name", "industry"}
    trial = client.post(f"{API}/sales/draft/dry-run", json={"steps": refused["steps"]}, headers=OWNER).get_json()
    assert trial["error"] is None and trial["finished"] is True
    assert trial["ended"] == ["EndEvent_LostCredit"]
    assert trial["data"]["credit_rating"] == "D"
    assert "Task_SalesVisit" not in trial["completed"]
    assert [s["kind"] for s in trial["steps"]][0] == "start"
    bad = client.post(
        f"{API}/sales/draft/dry-run", json={"steps": [{"task": "Task_RegisterProspect", "data": {}}]}, headers=OWNER
    ).get_json()
    assert bad["error_element"] == "Task_RegisterProspect" and "required" in bad["error"]
    assert_error(client.post(f"{API}/sales/draft/dry-run", json={"steps": [1]}, headers=OWNER), 422)
    with app.extensions["engine"]["session_factory"]() as session:
        assert instances.list_instances(session, None, None, 1, 10, "admin")[1] == 0


def test_failing_scenario_blocks_deploy_unless_confirmed(app: Flask, client: FlaskClient) -> None:
    scenarios = json.loads((ROOT / "processes" / "scenarios" / "sales.json").read_text(encoding="utf-8"))
    refused = next(s for s in scenarios["scenarios"] if s["name"] == "D级客户未获特批，丢单")
    put = client.put(f"{API}/sales/scenarios", json=refused, headers=OWNER)
    assert put.status_code == 200
    files = dict(_draft(client, "sales")["files"])
    # The refused exception now leads to the visit instead of the lost end.
    lost_end = 'id="EndEvent_LostCredit" name="丢单（信用）"'
    assert lost_end in files["sales.bpmn"]
    files["sales.bpmn"] = files["sales.bpmn"].replace(lost_end, 'id="EndEvent_LostCredit2" name="丢单（信用）"')
    files["sales.bpmn"] = files["sales.bpmn"].replace('"EndEvent_LostCredit"', '"EndEvent_LostCredit2"')
    files["sales.bpmn"] = files["sales.bpmn"].replace(">EndEvent_LostCredit<", ">EndEvent_LostCredit2<")
    assert _save(client, "sales", files).status_code == 200
    body = client.post(f"{API}/sales/draft/validate", headers=OWNER).get_json()
    assert [p["kind"] for p in body["problems"]] == ["scenario"]
    assert "D级客户未获特批，丢单" in body["problems"][0]["message"]
    blocked = client.post(f"{API}/sales/draft/deploy", json={"note": "改结束事件"}, headers=OWNER)
    assert "D级客户未获特批，丢单" in assert_error(blocked, 422)["message"]
    assert _deployed_versions(app, "sales") == [1]
    confirmed = client.post(f"{API}/sales/draft/deploy", json={"note": "改结束事件", "confirm": True}, headers=OWNER)
    assert confirmed.status_code == 201
    assert _deployed_versions(app, "sales") == [1, 2]


def test_scenario_input_is_checked(client: FlaskClient) -> None:
    for body, field in [
        ({"name": "", "steps": []}, "name"),
        ({"name": "x", "steps": "no"}, "steps"),
        ({"name": "x", "steps": [{"task": 1}]}, "steps[1]"),
        ({"name": "x", "steps": [], "expected_data": []}, "expected_data"),
    ]:
        response = client.put(f"{API}/sales/scenarios", json=body, headers=OWNER)
        assert assert_error(response, 422)["details"][0]["field"] == field
    assert client.get(f"{API}/sales/scenarios", headers=OWNER).get_json() == {"scenarios": []}
    assert_error(client.delete(f"{API}/sales/scenarios/none", headers=OWNER), 404)


def test_fallback_group_turns_unknown_groups_into_warnings_and_shows_on_the_version(
    app: Flask, client: FlaskClient
) -> None:
    files = dict(_draft(client, "sales")["files"])
    files["sales.bpmn"] = re.sub(
        r'camunda:candidateGroups="[^"]*"', 'camunda:candidateGroups="accounting"', files["sales.bpmn"], count=1
    )
    assert _save(client, "sales", files).status_code == 200
    refused = client.post(f"{API}/sales/draft/validate", json={}, headers=OWNER).get_json()
    assert refused["valid"] is False and any("accounting" in p["message"] for p in refused["problems"])
    body = client.post(f"{API}/sales/draft/validate", json={"fallback_group": "team-lead"}, headers=OWNER).get_json()
    assert body["valid"] is True
    assert [p["kind"] for p in body["problems"]] == ["warning"] and "team-lead" in body["problems"][0]["message"]
    unknown = client.post(f"{API}/sales/draft/deploy", json={"note": "n", "fallback_group": "nobody"}, headers=OWNER)
    assert_error(unknown, 422)
    assert _deployed_versions(app, "sales") == [1]
    deployed = client.post(
        f"{API}/sales/draft/deploy",
        json={"note": "外部任务交给团队负责人", "fallback_group": "team-lead"},
        headers=OWNER,
    )
    assert deployed.status_code == 201
    history = client.get("/processes/sales/history", headers=OWNER).get_data(as_text=True)
    assert "团队负责人" in history.split('id="version-2"')[1].split("</li>")[0]


def test_editor_warns_when_the_draft_is_older_than_the_deployed_version(app: Flask, login_as: Any) -> None:
    client = login_as("owner")
    files = dict(_draft(client)["files"])
    assert _save(client, "complaint", files).status_code == 200
    assert 'id="stale-draft"' not in client.get("/processes/complaint/edit").get_data(as_text=True)
    source = (ROOT / "processes" / "complaint.bpmn").read_text(encoding="utf-8")
    changed = _renamed(source, "登记投诉", "记录投诉").encode()
    with app.extensions["engine"]["session_factory"].begin() as session:
        definitions.deploy(session, [("complaint.bpmn", changed)], "admin", "someone else's change")
    assert _deployed_versions(app, "complaint") == [1, 2]
    page = client.get("/processes/complaint/edit").get_data(as_text=True)
    assert 'id="stale-draft"' in page and "/processes/complaint/compare?left=2&amp;right=draft" in page

"""The managers' pages over HTTP: who may see them, the dashboard's links and CSV, the list's filters, actions."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import audit, definitions, instances, task_queue

DATA = Path(__file__).resolve().parents[1] / "engine" / "data"
Login = Callable[[str], FlaskClient]


def _engine(app: Flask, change: Callable[[Any], Any]) -> Any:
    with app.extensions["engine"]["session_factory"].begin() as session:
        return change(session)


def failed_instance(app: Flask) -> int:
    """A 'simple' instance that failed in its script (division by zero) after its first task."""
    dividing = (DATA / "simple.bpmn").read_text().replace("+ divisor_check", "/ divisor_check").encode()

    def run(session: Any) -> int:
        definitions.deploy(session, [("simple.bpmn", dividing)], "system")
        started = instances.start_instance(session, "simple", "sales", {"divisor_check": 0}, "订单 A-17")
        task = started.tasks[0]
        instances.complete_task(session, task.id, "sales", {"amount": 100})
        return started.id

    return int(_engine(app, run))


def complaint(app: Flask, title: str = "投诉 华东贸易") -> int:
    return int(_engine(app, lambda s: instances.start_instance(s, "complaint", "service", title=title)).id)


def events(app: Flask, instance_id: int) -> list[Any]:
    return _engine(app, lambda s: audit.list_events(s, instance_id))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/monitor/"),
        ("get", "/monitor/instances"),
        ("get", "/monitor/instances/1"),
        ("get", "/monitor/processes/complaint/heatmap"),
        ("get", "/monitor/export/processes.csv"),
        ("post", "/monitor/instances/1/suspend"),
        ("post", "/monitor/tasks/1/assign"),
    ],
)
def test_staff_get_403_and_strangers_log_in(client: FlaskClient, login_as: Login, method: str, path: str) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login_as("service")
    assert getattr(client, method)(path).status_code == 403


def test_managers_land_on_the_dashboard_and_reach_their_queue(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "lead", "password": "demo"})
    assert response.headers["Location"] == "/monitor/"
    html = client.get("/monitor/").get_data(as_text=True)
    assert 'href="/"' in html and 'id="nav-monitoring"' in html
    staff = client.post("/logout") and client.post("/login", data={"username": "service", "password": "demo"})
    assert staff.headers["Location"] == "/"
    assert 'id="nav-monitoring"' not in client.get("/").get_data(as_text=True)


def test_dashboard_figures_link_to_the_list_and_export_csv(app: Flask, login_as: Login) -> None:
    first = complaint(app, "投诉 一")
    complaint(app, "投诉 二")
    client = login_as("lead")
    html = client.get("/monitor/").get_data(as_text=True)
    row = re.search(r'<tr id="process-complaint">.*?</tr>', html, re.S)
    assert row is not None
    assert 'href="/monitor/instances?process=complaint&amp;status=running">2</a>' in row.group(0)
    listed = client.get("/monitor/instances?process=complaint&status=running").get_data(as_text=True)
    assert listed.count('class="instance-row"') == 2 and f'data-instance-id="{first}"' in listed
    # Open tasks by group: the two recording tasks of the service group.
    assert 'href="/monitor/instances?process=complaint&amp;group=service">2</a>' in html
    # The throughput table's last day (today) links to the instances started that day.
    days = re.findall(r'<th scope="row"><a href="(/monitor/instances\?from=[^"]+)">', html)
    assert days, "no links in the throughput table"
    today = client.get(days[-1].replace("&amp;", "&")).get_data(as_text=True)
    assert today.count('class="instance-row"') == 2
    csv = client.get("/monitor/export/processes.csv")
    assert csv.mimetype == "text/csv"
    text = csv.get_data(as_text=True)
    assert text.startswith("\ufeff")
    assert "客户投诉处理,2,0,0,0,0" in text
    groups = client.get("/monitor/export/groups.csv").get_data(as_text=True)
    assert "客户投诉处理,客户服务组,2,0" in groups
    assert client.get("/monitor/export/nothing.csv").status_code == 404
    assert client.get("/monitor/?period=5y").status_code == 422
    weekly = client.get("/monitor/?period=12w").get_data(as_text=True)
    assert 'value="12w" selected' in weekly
    assert "tf-chart" in weekly and "dist/charts.js" in weekly
    assert "团队业绩数据" in weekly
    client.post("/lang/en")
    for path in (
        "/monitor/",
        "/monitor/instances",
        f"/monitor/instances/{first}",
        "/monitor/processes/complaint/heatmap",
    ):
        english = client.get(path)
        assert english.status_code == 200 and 'lang="en"' in english.get_data(as_text=True)
    assert "Team figures" in client.get("/monitor/").get_data(as_text=True)


def test_instance_list_counts_pages_and_names_a_bad_filter(app: Flask, login_as: Login) -> None:
    for n in range(3):
        complaint(app, f"投诉 {n}")
    client = login_as("manager")
    page = client.get("/monitor/instances?per_page=2&sort=title&dir=asc").get_data(as_text=True)
    assert page.count('class="instance-row"') == 2
    assert 'id="total">3<' in page
    assert 'rel="next"' in page
    second = client.get("/monitor/instances?per_page=2&page=2&sort=title&dir=asc").get_data(as_text=True)
    assert second.count('class="instance-row"') == 1 and "投诉 2" in second
    bad = client.get("/monitor/instances?from=2026-02-30")
    assert bad.status_code == 422
    assert "from:" in bad.get_data(as_text=True)


def test_suspend_resume_and_terminate_with_reasons(app: Flask, login_as: Login) -> None:
    instance_id = complaint(app)
    client = login_as("lead")
    page = client.get(f"/monitor/instances/{instance_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    url = f"/monitor/instances/{instance_id}"
    response = client.post(url + "/suspend", data={"reason": "等待客户补充材料", "version": version.group(1)})
    assert response.status_code == 302
    assert _engine(app, lambda s: instances.get_instance(s, instance_id).status) == "suspended"
    # Terminating needs a reason: refused, nothing changes, the page says which field.
    refused = client.post(url + "/terminate", data={"reason": " "})
    assert refused.status_code == 422
    assert "reason" in refused.get_data(as_text=True)
    assert _engine(app, lambda s: instances.get_instance(s, instance_id).status) == "suspended"
    client.post(url + "/resume", data={"reason": "材料已到"})
    client.post(url + "/terminate", data={"reason": "客户撤回投诉"})
    trail = [(e.type, e.data.get("reason")) for e in events(app, instance_id)]
    assert ("suspended", "等待客户补充材料") in trail
    assert ("resumed", "材料已到") in trail
    assert ("terminated", "客户撤回投诉") in trail
    html = client.get(url).get_data(as_text=True)
    assert "客户撤回投诉" in html and 'id="action-terminate"' not in html
    assert client.post(url + "/explode", data={}).status_code == 404


def test_a_raced_change_shows_the_conflict_and_keeps_the_form(app: Flask, login_as: Login) -> None:
    instance_id = failed_instance(app)
    client = login_as("lead")
    url = f"/monitor/instances/{instance_id}"
    seen = re.search(r'name="version" value="(\d+)"', client.get(url).get_data(as_text=True))
    assert seen is not None
    # Someone else suspends the instance after the page was loaded.
    _engine(app, lambda s: instances.suspend_instance(s, instance_id, "manager", "另一位经理"))
    raced = client.post(
        url + "/data",
        data={
            "name": "divisor_check",
            "type": "number",
            "value": "4",
            "reason": "客户更正除数",
            "version": seen.group(1),
        },
    )
    assert raced.status_code == 409
    html = raced.get_data(as_text=True)
    assert 'id="action-message"' in html
    assert 'value="客户更正除数"' in html and 'value="divisor_check"' in html and 'value="4"' in html
    assert _engine(app, lambda s: instances.get_instance(s, instance_id).data["divisor_check"]) == 0


def test_correct_the_data_of_a_failed_instance_and_retry(app: Flask, login_as: Login) -> None:
    instance_id = failed_instance(app)
    client = login_as("lead")
    url = f"/monitor/instances/{instance_id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="instance-error"' in page and "Script_Double" in page and "ZeroDivisionError" in page
    bad = client.post(url + "/data", data={"name": "divisor_check", "type": "number", "value": "four"})
    assert bad.status_code == 422 and "value" in bad.get_data(as_text=True)
    bad_name = client.post(url + "/data", data={"name": "two words", "type": "text", "value": "x"})
    assert bad_name.status_code == 422
    assert client.post(url + "/data", data={"name": "divisor_check", "type": "number", "value": "1"}).status_code == 302
    assert client.post(url + "/retry", data={"reason": "除数已更正"}).status_code == 302
    after = _engine(app, lambda s: instances.get_instance(s, instance_id))
    assert after.status == "running" and after.error is None
    assert [t.element_id for t in after.tasks] == ["Task_Review"]
    trail = [e.type for e in events(app, instance_id)]
    assert trail.index("data_changed") < trail.index("retried")


def test_reassign_and_move_the_due_date(app: Flask, login_as: Login) -> None:
    instance_id = complaint(app)
    task = _engine(app, lambda s: instances.get_instance(s, instance_id).tasks[0])
    client = login_as("lead")
    wrong = client.post(f"/monitor/tasks/{task.id}/assign", data={"user": "hr", "expected": ""})
    assert wrong.status_code == 422  # hr is not in the task's group
    moved = client.post(
        f"/monitor/tasks/{task.id}/assign", data={"user": "service", "reason": "熟悉该客户", "expected": ""}
    )
    assert moved.status_code == 302
    assert [t.id for t in _engine(app, lambda s: task_queue.my_tasks(s, "service"))] == [task.id]
    stale = client.post(f"/monitor/tasks/{task.id}/assign", data={"user": "service", "expected": ""})
    assert stale.status_code == 409
    due = client.post(
        f"/monitor/tasks/{task.id}/due", data={"due_at": "2026-12-24T18:00", "reason": "客户出差", "expected": ""}
    )
    assert due.status_code == 302
    after = _engine(app, lambda s: instances.get_task(s, task.id).summary)
    assert after.due_at is not None and after.due_at.isoformat() == "2026-12-24T10:00:00+00:00"  # 18:00 Shanghai
    assert client.post(f"/monitor/tasks/{task.id}/due", data={"due_at": "tomorrow"}).status_code == 422
    reasons = {e.type: e.data.get("reason") for e in events(app, instance_id)}
    assert reasons["assigned"] == "熟悉该客户" and reasons["due_changed"] == "客户出差"


def test_heatmap_page_and_bad_periods(app: Flask, login_as: Login) -> None:
    complaint(app)
    client = login_as("lead")
    html = client.get("/monitor/processes/complaint/heatmap?days=7").get_data(as_text=True)
    assert '"waiting": 1' in html and "Task_RecordComplaint" in html
    assert client.get("/monitor/processes/complaint/heatmap?days=3").status_code == 422
    assert client.get("/monitor/processes/complaint/heatmap?version=9").status_code == 404
    assert client.get("/monitor/processes/nothing/heatmap").status_code == 404

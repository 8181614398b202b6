"""The task routes through the test client: queues, fragments, claim, unclaim, reassign, task page, start."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import definitions, instances, task_queue

COMPLAINT = {
    "customer_name": "华东贸易公司",
    "customer_contact": "13800000000",
    "channel": "phone",
    "category": "delivery",
    "tier": "standard",
    "order_reference": "SO-1001",
    "description": "货物延迟两周仍未送达",
}
Login = Callable[[str], FlaskClient]


def _start(client: FlaskClient, title: str = "延迟交付投诉") -> int:
    """Start a complaint through the start page; return the id of the task it opens."""
    response = client.post("/start/complaint", data={"title": title})
    assert response.status_code == 302
    match = re.search(r"/tasks/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _record(client: FlaskClient) -> int:
    """Start a complaint and complete its recording; return the first-response task's id."""
    task_id = _start(client)
    response = client.post(f"/tasks/{task_id}", data=COMPLAINT)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    html = client.get("/").get_data(as_text=True)
    match = re.search(r'id="task-(\d+)"[^>]*>\s*<td[^>]*>客户投诉处理', html)
    assert match
    return int(match.group(1))


def test_queue_shows_both_queues_with_counts(login_as: Login) -> None:
    client = login_as("service")
    html = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "我的任务" in html and "我所在组的任务" in html
    assert 'id="count-mine">0<' in html and 'id="count-groups">0<' in html
    assert 'hx-trigger="every 30s' in html


def test_start_page_lists_startable_processes(app: Flask, login_as: Login) -> None:
    client = login_as("service")
    html = client.get("/start").get_data(as_text=True)
    assert 'id="start-complaint"' in html
    with app.extensions["engine"]["session_factory"]() as session:
        for process in definitions.list_processes(session):
            allowed = not process.start_groups or "service" in process.start_groups
            assert (f'id="start-{process.key}"' in html) == allowed, process.key


def test_starting_opens_the_first_task_when_it_is_mine(login_as: Login) -> None:
    client = login_as("service")
    task_id = _start(client)
    html = client.get(f"/tasks/{task_id}", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "登记投诉" in html and "客户名称" in html
    assert 'class="required"' in html  # required fields are marked
    assert '<option value="phone" selected>' in html  # enum default
    assert 'id="diagram-data"' in html and "Task_RecordComplaint" in html


def test_task_form_maps_types_to_inputs(login_as: Login) -> None:
    client = login_as("service")
    first = _record(client)
    html = client.get(f"/tasks/{first}").get_data(as_text=True)
    assert 'type="checkbox" id="f-customer_reached" name="customer_reached" value="true" checked' in html
    assert '<select id="f-response_channel"' in html
    assert "首次响应客户" in html
    # history and key data of the instance
    assert "华东贸易公司" in html and "history-completed" in html


def test_missing_required_field_shows_error_beside_it_and_keeps_values(login_as: Login) -> None:
    client = login_as("service")
    task_id = _start(client)
    data = dict(COMPLAINT, customer_name="", description="很慢")
    response = client.post(f"/tasks/{task_id}", data=data, headers={"Accept-Language": "zh"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = html[html.index('id="field-customer_name"') : html.index('id="field-customer_contact"')]
    assert "此项必填" in field
    described = html[html.index('id="field-description"') : html.index('id="field-description"') + 1500]
    assert "至少输入 5 个字符" in described and "很慢" in described
    assert 'value="13800000000"' in html


def test_fields_outside_the_form_are_refused(login_as: Login) -> None:
    client = login_as("service")
    task_id = _start(client)
    response = client.post(f"/tasks/{task_id}", data=dict(COMPLAINT, severity="critical"))
    assert response.status_code == 422
    assert "severity" in response.get_data(as_text=True)


def test_completing_goes_back_to_the_queue_with_a_confirmation(login_as: Login) -> None:
    client = login_as("service")
    task_id = _start(client)
    response = client.post(
        f"/tasks/{task_id}", data=COMPLAINT, follow_redirects=True, headers={"Accept-Language": "en"}
    )
    html = response.get_data(as_text=True)
    assert response.request.path == "/"
    assert "flash-success" in html and "登记投诉" in html
    assert "首次响应客户" in html  # the next task waits in the group queue


def _table_of(html: str, task_id: int) -> str:
    """Which queue section of a rendered fragment holds the task's row."""
    mine, _sep, groups = html.partition('id="queue-groups"')
    row = f'id="task-{task_id}"'
    return "mine" if row in mine else "groups" if row in groups else "none"


def test_claim_and_release_move_the_row_between_the_queues(login_as: Login) -> None:
    client = login_as("service")
    first = _record(client)
    en = {"HX-Request": "true", "Accept-Language": "en", "HX-Current-URL": "http://x/?process=complaint"}
    response = client.post(f"/tasks/{first}/claim", headers=en)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _table_of(html, first) == "mine" and "claimed by you" in html and ">Release<" in html
    assert 'id="count-mine">1<' in html and 'id="count-groups">0<' in html
    assert "No unclaimed tasks in your groups." in html and "Nothing claimed by" not in html
    assert 'id="task-badge"' in html and 'hx-swap-oob="true"' in html
    response = client.post(f"/tasks/{first}/unclaim", headers=en)
    html = response.get_data(as_text=True)
    assert _table_of(html, first) == "groups" and ">Claim<" in html
    assert 'id="count-mine">0<' in html and 'id="count-groups">1<' in html
    assert "Nothing claimed by or assigned to you." in html
    zh = client.post(f"/tasks/{first}/claim", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "取消认领" in zh


def test_claim_without_htmx_redirects_with_a_flash(login_as: Login) -> None:
    client = login_as("service")
    first = _record(client)
    response = client.post(f"/tasks/{first}/claim", follow_redirects=True)
    assert response.request.path == "/"
    assert "flash-success" in response.get_data(as_text=True)


def test_queue_fragment_and_filters(login_as: Login) -> None:
    client = login_as("service")
    _record(client)
    fragment = client.get("/queue/fragment", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "首次响应客户" in fragment
    assert "首次响应客户" not in client.get("/queue/fragment?process=sales").get_data(as_text=True)
    assert "首次响应客户" not in client.get("/queue/fragment?overdue=1").get_data(as_text=True)
    assert 'id="count-groups">1<' in client.get("/?process=complaint").get_data(as_text=True)


def test_badge_counts_waiting_tasks(login_as: Login) -> None:
    client = login_as("service")
    assert ">0</span>" in client.get("/badge").get_data(as_text=True)
    _record(client)
    assert ">1</span>" in client.get("/badge").get_data(as_text=True)


def test_someone_else_claimed_it_gives_a_clear_message(app: Flask, login_as: Login) -> None:
    client = login_as("service")
    first = _record(client)
    with app.extensions["engine"]["session_factory"].begin() as session:
        from engine import people

        people.create_user(session, "service2", "demo", ["service"], ["staff"], "客服 二号")
        instances.claim_task(session, first, "service2")
    response = client.post(f"/tasks/{first}/claim", headers={"HX-Request": "true", "Accept-Language": "en"})
    assert response.status_code == 200
    assert "客服 二号" in response.get_data(as_text=True) or "service2" in response.get_data(as_text=True)
    response = client.post(
        f"/tasks/{first}",
        data={"response_channel": "phone", "response_note": "已致电客户"},
        headers={"Accept-Language": "en"},
    )
    # The task page again, with the reason and the form still holding what was typed.
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "claimed this task in the meantime" in html
    assert 'id="task-form"' in html and (">已致电客户</textarea>" in html or 'value="已致电客户"' in html)


def test_completed_elsewhere_gives_a_clear_message(app: Flask, login_as: Login) -> None:
    client = login_as("service")
    first = _record(client)
    with app.extensions["engine"]["session_factory"].begin() as session:
        instances.complete_task(
            session,
            first,
            "service",
            {"response_channel": "phone", "response_note": "已致电", "customer_reached": True},
        )
    response = client.post(
        f"/tasks/{first}",
        data={"response_channel": "phone", "response_note": "再次致电<b>客户</b>"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "completed this task in the meantime" in html
    # The task cannot be worked any more: what was typed is listed, not lost (and shown as text).
    assert "What you entered (not saved)" in html and "再次致电&lt;b&gt;客户&lt;/b&gt;" in html
    with app.extensions["engine"]["session_factory"]() as session:
        assert instances.get_task(session, first).submitted["response_note"] == "已致电"


def test_manager_reassigns_to_a_group_member(app: Flask, login_as: Login) -> None:
    client = login_as("service")
    first = _record(client)
    client.post("/logout")
    client = login_as("lead")
    html = client.get(f"/tasks/{first}").get_data(as_text=True)  # managers see every task
    assert "首次响应客户" in html
    response = client.post(f"/tasks/{first}/assign", data={"user": "service"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _table_of(html, first) == "none" and 'id="count-groups">0<' in html  # lead's queues: gone
    with app.extensions["engine"]["session_factory"]() as session:
        assert [t.id for t in task_queue.my_tasks(session, "service")] == [first]


def test_staff_may_not_reassign(login_as: Login) -> None:
    client = login_as("service")
    first = _record(client)
    assert client.post(f"/tasks/{first}/assign", data={"user": "service"}).status_code == 403


def test_user_of_another_group_cannot_open_the_task(login_as: Login) -> None:
    client = login_as("service")
    first = _record(client)
    client.post("/logout")
    client = login_as("sales")
    assert "首次响应客户" not in client.get("/").get_data(as_text=True)
    assert client.get(f"/tasks/{first}").status_code == 403


def test_comment_shows_in_history(login_as: Login) -> None:
    client = login_as("service")
    first = _record(client)
    response = client.post(f"/tasks/{first}/comment", data={"text": "客户要求下午回电"}, follow_redirects=True)
    assert "客户要求下午回电" in response.get_data(as_text=True)
    response = client.post(f"/tasks/{first}/comment", data={"text": "  "}, follow_redirects=True)
    assert "flash-warning" in response.get_data(as_text=True)


def test_completed_by_me_lists_history(login_as: Login) -> None:
    client = login_as("service")
    _record(client)
    html = client.get("/completed", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "登记投诉" in html and "Completed by me" in html


@pytest.mark.parametrize("lang,text", [("zh", "任务队列"), ("en", "Task queue")])
def test_language_follows_the_browser_and_the_switch(login_as: Login, lang: str, text: str) -> None:
    client = login_as("service")
    assert text in client.get("/", headers={"Accept-Language": lang}).get_data(as_text=True)
    other = "en" if lang == "zh" else "zh"
    client.post(f"/lang/{other}", data={"next": "/"})
    assert text not in client.get("/", headers={"Accept-Language": lang}).get_data(as_text=True)


def test_unknown_task_is_404(login_as: Login) -> None:
    assert login_as("service").get("/tasks/99999").status_code == 404


@pytest.mark.parametrize("path", ["/", "/start", "/completed", "/badge", "/queue/fragment", "/tasks/1"])
def test_pages_need_a_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_claim_from_the_task_page_returns_to_it(login_as: Login) -> None:
    client = login_as("service")
    first = _record(client)
    response = client.post(f"/tasks/{first}/claim", data={"next": f"/tasks/{first}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{first}")
    response = client.post(f"/tasks/{first}/unclaim", data={"next": "//evil.example/"})
    assert response.headers["Location"].endswith("/")


def test_a_completed_task_shows_who_completed_it(login_as: Login) -> None:
    client = login_as("service")
    task_id = _start(client)
    client.post(f"/tasks/{task_id}", data=COMPLAINT)
    html = client.get(f"/tasks/{task_id}", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert 'id="task-form"' not in html
    assert "由 客服 刘洋 于" in html and "华东贸易公司" in html


def test_ids_beyond_the_database_range_are_not_found(login_as: Callable[[str], FlaskClient]) -> None:
    client = login_as("service")
    for path in ("/tasks/99999999999999999999", "/tasks/9223372036854775808", "/tasks/0"):
        assert client.get(path).status_code == 404
    for suffix in ("", "/claim", "/unclaim", "/comment", "/assign"):
        assert client.post(f"/tasks/2147483648{suffix}").status_code in (404, 405)

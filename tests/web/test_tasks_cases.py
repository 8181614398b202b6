"""My cases and withdrawing, through the pages and the JSON API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from api_helpers import assert_error, auth
from flask.testing import FlaskClient
from test_tasks_views import COMPLAINT, Login, _start


def _case_id(client: FlaskClient, title: str) -> int:
    html = client.get("/cases").get_data(as_text=True)
    match = re.search(r'id="case-(\d+)" class="case-row">\s*<td[^>]*>' + re.escape(title), html)
    assert match, html[:3000]
    return int(match.group(1))


def test_my_cases_show_the_step_and_who_holds_it(login_as: Login) -> None:
    client = login_as("service")
    task_id = _start(client, "投诉甲")
    _start(client, "投诉乙")
    assert client.post(f"/tasks/{task_id}", data=COMPLAINT).status_code == 302
    html = client.get("/cases", headers={"Accept-Language": "en"}).get_data(as_text=True)
    html = html[html.index("<tbody") :]  # past the flashed messages
    assert html.index("投诉乙") < html.index("投诉甲")  # newest first
    assert "首次响应客户" in html and "登记投诉" in html and "to claim it" in html
    assert html.count("withdraw-button") == 1  # only the case whose first task is still open
    zh = client.get("/cases").get_data(as_text=True)
    assert 'id="count-cases">2<' in zh and "我的案件" in zh and "撤回" in zh
    assert client.get("/cases?page=x").status_code == 422
    assert client.get("/cases?page=999999").status_code == 422


def test_the_starter_withdraws_with_a_reason(login_as: Login) -> None:
    client = login_as("service")
    _start(client, "误建的投诉")
    case_id = _case_id(client, "误建的投诉")
    response = client.post(f"/cases/{case_id}/withdraw", data={"reason": " "}, headers={"Accept-Language": "en"})
    assert response.status_code == 422 and "why you withdraw it" in response.get_data(as_text=True)
    response = client.post(f"/cases/{case_id}/withdraw", data={"reason": "重复登记"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.request.path == "/cases" and "已撤回“误建的投诉”" in html and "已提前结束" in html
    response = client.post(f"/cases/{case_id}/withdraw", data={"reason": "再次"}, headers={"Accept-Language": "en"})
    assert response.status_code == 409 and "can no longer be withdrawn" in response.get_data(as_text=True)
    assert "登记投诉" not in client.get("/").get_data(as_text=True)  # its task left the queue
    events = client.get(f"/api/v1/instances/{case_id}/events", headers=auth("service")).get_json()
    assert {"type": "withdrawn", "reason": "重复登记"} in [
        {"type": e["type"], "reason": e["data"].get("reason")} for e in events
    ]


def test_someone_else_may_not_withdraw(client: FlaskClient, login_as: Login) -> None:
    login_as("service")
    _start(client, "别人的投诉")
    case_id = _case_id(client, "别人的投诉")
    client.post("/logout")
    login_as("manager")
    assert client.post(f"/cases/{case_id}/withdraw", data={"reason": "不需要"}).status_code == 403
    assert client.post("/cases/4242/withdraw", data={"reason": "不需要"}).status_code == 404


def _api_start(client: FlaskClient, user: str = "service") -> dict[str, Any]:
    response = client.post("/api/v1/processes/complaint/instances", json={"title": "接口投诉"}, headers=auth(user))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def test_api_lists_my_cases_and_withdraws(client: FlaskClient) -> None:
    started = _api_start(client)
    body = client.get("/api/v1/cases", headers=auth("service")).get_json()
    assert body["total"] == 1 and body["total_capped"] is False and body["page"] == 1
    [case] = body["items"]
    assert case["id"] == started["id"] and case["may_withdraw"] is True
    assert [s["name"] for s in case["steps"]] == ["登记投诉"]
    assert client.get("/api/v1/cases", headers=auth("sales")).get_json()["items"] == []
    path = f"/api/v1/instances/{started['id']}/withdraw"
    assert_error(client.post(path, json={}, headers=auth("service")), 422)
    assert_error(client.post(path, json={"reason": "x"}, headers=auth("sales")), 403, "forbidden")
    response = client.post(path, json={"reason": "测试误建"}, headers=auth("service"))
    assert response.status_code == 200 and response.get_json()["status"] == "terminated"
    assert_error(client.post(path, json={"reason": "再次"}, headers=auth("service")), 409, "conflict")
    assert_error(client.post("/api/v1/instances/4242/withdraw", json={"reason": "x"}, headers=auth("service")), 404)


@pytest.mark.parametrize("query", ["page=0", "page=abc", "per_page=0", "per_page=201"])
def test_api_cases_refuse_bad_pages(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/cases?{query}", headers=auth("service"))
    assert response.status_code in (400, 422)
    assert_error(response, response.status_code)

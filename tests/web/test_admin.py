"""Admin pages: users, groups, memberships and roles; only admins; every change audited; bad input refused."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_tasks_views import Login

from engine import audit, people


def _user_id(app: Flask, name: str) -> int:
    with app.extensions["engine"]["session_factory"]() as session:
        return people.get_user(session, name).id


def _events(app: Flask, type_: str) -> list[dict]:  # type: ignore[type-arg]
    with app.extensions["engine"]["session_factory"]() as session:
        return [e.data for e in audit.recent_events(session, 100, type_)]


NEW = {
    "name": "zhao",
    "display_name": "销售 赵六",
    "email": "zhao@example.com",
    "password": "abcd1234",
    "groups": ["sales"],
    "roles": ["staff"],
}


def test_admin_creates_a_user_who_then_works_the_group_queue(app: Flask, client: FlaskClient, login_as: Login) -> None:
    login_as("admin")
    html = client.get("/admin/users").get_data(as_text=True)
    assert "用户" in html and "销售 张伟" in html
    response = client.post("/admin/users/new", data=NEW)
    assert response.status_code == 302
    assert _events(app, "user_created")[0] == {"user": "zhao", "groups": ["sales"], "roles": ["staff"]}
    client.post("/logout")
    login_as("zhao", "abcd1234")
    assert "我所在组的任务" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "two words"}, "A user name without spaces"),
        ({"name": ""}, "A user name without spaces"),
        ({"password": "abc"}, "At least 4 characters."),
        ({"email": "not-an-email"}, "An email address like"),
        ({"groups": ["nope"]}, "Choose among the groups shown."),
        ({"roles": ["king"]}, "Choose among the roles shown."),
        ({"roles": []}, "Choose at least one role."),
        ({"display_name": "x" * 201}, "At most 200 characters."),
    ],
)
def test_bad_new_users_are_refused_naming_the_field(
    app: Flask, client: FlaskClient, login_as: Login, change: dict, message: str
) -> None:  # type: ignore[type-arg]
    login_as("admin")
    response = client.post("/admin/users/new", data={**NEW, **change}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'<p class="field-error"[^>]*>' + re.escape(message), html)
    with app.extensions["engine"]["session_factory"]() as session:
        assert people.find_user(session, "zhao") is None and _events(app, "user_created") == []


def test_a_taken_name_is_a_conflict(client: FlaskClient, login_as: Login) -> None:
    login_as("admin")
    response = client.post("/admin/users/new", data={**NEW, "name": "sales"}, headers={"Accept-Language": "en"})
    assert response.status_code == 409 and "taken already" in response.get_data(as_text=True)


def test_disable_enable_reset_and_change_access(app: Flask, client: FlaskClient, login_as: Login) -> None:
    sales = _user_id(app, "sales")
    login_as("admin")
    assert client.post(f"/admin/users/{sales}/active", data={"active": "0"}).status_code == 302
    client.post("/logout")
    response = client.post("/login", data={"username": "sales", "password": "demo"})
    assert response.status_code == 401
    assert client.get("/api/v1/tasks", headers={"Authorization": "Basic c2FsZXM6ZGVtbw=="}).status_code == 401
    login_as("admin")
    client.post(f"/admin/users/{sales}/active", data={"active": "1"})
    assert client.post(f"/admin/users/{sales}/password", data={"password": "ab"}).status_code == 422
    assert client.post(f"/admin/users/{sales}/password", data={"password": "new-pass"}).status_code == 302
    data = {"display_name": "销售 张伟", "groups": ["sales", "service"], "roles": ["staff", "manager"]}
    assert client.post(f"/admin/users/{sales}/access", data=data).status_code == 302
    assert client.post(f"/admin/users/{sales}/access", data={**data, "roles": []}).status_code == 422
    with app.extensions["engine"]["session_factory"]() as session:
        view = people.get_user(session, "sales")
        assert (view.groups, view.roles, view.active) == (("sales", "service"), ("staff", "manager"), True)
    types = [e for t in ("user_disabled", "user_enabled", "password_reset", "user_changed") for e in _events(app, t)]
    assert len(types) == 4 and all(e["user"] == "sales" for e in types)
    assert not any("new-pass" in str(e) for e in types)
    client.post("/logout")
    login_as("sales", "new-pass")


def test_an_admin_cannot_lock_themselves_out(app: Flask, client: FlaskClient, login_as: Login) -> None:
    me = _user_id(app, "admin")
    login_as("admin")
    assert client.post(f"/admin/users/{me}/active", data={"active": "0"}).status_code == 409
    response = client.post(f"/admin/users/{me}/access", data={"display_name": "管理员", "roles": ["staff"]})
    assert response.status_code == 409
    assert client.get("/admin/users").status_code == 200


def test_groups_are_created_and_renamed(app: Flask, client: FlaskClient, login_as: Login) -> None:
    login_as("admin")
    assert client.post("/admin/groups", data={"id": "finance", "name": "财务组"}).status_code == 302
    assert client.post("/admin/groups", data={"id": "finance", "name": "又一个"}).status_code == 409
    assert client.post("/admin/groups", data={"id": "Bad Id", "name": "x"}).status_code == 422
    assert client.post("/admin/groups", data={"id": "ok", "name": " "}).status_code == 422
    assert client.post("/admin/groups/finance/name", data={"name": "财务部"}).status_code == 302
    assert client.post("/admin/groups/finance/name", data={"name": ""}).status_code == 422
    assert client.post("/admin/groups/nope/name", data={"name": "x"}).status_code == 404
    html = client.get("/admin/groups").get_data(as_text=True)
    assert "财务部" in html and "又一个" not in html
    assert [e["group"] for e in _events(app, "group_created")] == ["finance"]
    assert _events(app, "group_renamed")[0]["previous"] == "财务组"


@pytest.mark.parametrize("user", ["sales", "manager", "owner"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/admin/users"), ("get", "/admin/groups"), ("post", "/admin/users/new"), ("post", "/admin/groups")],
)
def test_only_admins_reach_the_admin_pages(
    client: FlaskClient, login_as: Login, user: str, method: str, path: str
) -> None:
    login_as(user)
    assert getattr(client, method)(path, data={"id": "x", "name": "x"}).status_code == 403

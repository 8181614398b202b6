"""API: admins manage users and groups; others get 403; bad input is refused naming the field."""

from __future__ import annotations

import pytest
from api_helpers import assert_error, auth
from flask.testing import FlaskClient

NEW = {"name": "qian", "password": "abcd", "display_name": "客服 钱七", "groups": ["service"], "roles": ["staff"]}


def test_admin_creates_changes_and_disables_a_user(client: FlaskClient) -> None:
    response = client.post("/api/v1/admin/users", json=NEW, headers=auth("admin"))
    assert response.status_code == 201, response.get_data(as_text=True)
    user = response.get_json()
    assert (user["name"], user["groups"], user["roles"], user["active"]) == ("qian", ["service"], ["staff"], True)
    assert "password" not in user and client.get(response.headers["Location"], headers=auth("admin")).status_code == 200
    assert client.get("/api/v1/tasks?scope=groups", headers=auth("qian", "abcd")).status_code == 200
    path = f"/api/v1/admin/users/{user['id']}"
    changed = client.post(
        path + "/change", json={"groups": ["service", "sales"], "roles": ["staff", "manager"]}, headers=auth("admin")
    )
    assert changed.get_json()["groups"] == ["sales", "service"] and changed.get_json()["roles"] == ["staff", "manager"]
    assert client.post(path + "/change", json={"password": "wxyz"}, headers=auth("admin")).status_code == 200
    assert client.get("/api/v1/tasks", headers=auth("qian", "abcd")).status_code == 401
    assert client.post(path + "/change", json={"active": False}, headers=auth("admin")).get_json()["active"] is False
    assert client.get("/api/v1/tasks", headers=auth("qian", "wxyz")).status_code == 401
    names = [u["name"] for u in client.get("/api/v1/admin/users", headers=auth("admin")).get_json()]
    assert "qian" in names


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW, "name": "a b"}, "name"),
        ({**NEW, "password": "x"}, "password"),
        ({**NEW, "groups": "service"}, "groups"),
        ({**NEW, "groups": ["nope"]}, "group"),
        ({**NEW, "roles": ["king"]}, "role"),
        ({**NEW, "roles": []}, "roles"),
        ({k: v for k, v in NEW.items() if k != "password"}, "password"),
    ],
)
def test_bad_users_name_the_field(client: FlaskClient, body: dict, field: str) -> None:  # type: ignore[type-arg]
    body_json = assert_error(client.post("/api/v1/admin/users", json=body, headers=auth("admin")), 422)
    assert [d["field"] for d in body_json["details"]] == [field]
    assert "qian" not in [u["name"] for u in client.get("/api/v1/admin/users", headers=auth("admin")).get_json()]


def test_conflicts_and_missing(client: FlaskClient) -> None:
    assert_error(client.post("/api/v1/admin/users", json={**NEW, "name": "sales"}, headers=auth("admin")), 409)
    assert_error(client.post("/api/v1/admin/users/4242/change", json={"active": False}, headers=auth("admin")), 404)
    admin_id = next(
        u["id"] for u in client.get("/api/v1/admin/users", headers=auth("admin")).get_json() if u["name"] == "admin"
    )
    path = f"/api/v1/admin/users/{admin_id}"
    assert_error(client.post(path + "/change", json={"active": False}, headers=auth("admin")), 409)
    assert_error(client.post(path + "/change", json={"roles": ["staff"]}, headers=auth("admin")), 409)
    assert_error(client.post(path + "/change", json={"active": "no"}, headers=auth("admin")), 422)


def test_groups(client: FlaskClient) -> None:
    response = client.post("/api/v1/admin/groups", json={"id": "finance", "name": "财务组"}, headers=auth("admin"))
    assert response.status_code == 201 and response.get_json() == {"id": "finance", "name": "财务组"}
    assert_error(client.post("/api/v1/admin/groups", json={"id": "finance", "name": "x"}, headers=auth("admin")), 409)
    body = assert_error(
        client.post("/api/v1/admin/groups", json={"id": "A B", "name": "x"}, headers=auth("admin")), 422
    )
    assert body["details"][0]["field"] == "id"
    renamed = client.patch("/api/v1/admin/groups/finance", json={"name": "财务部"}, headers=auth("admin"))
    assert renamed.get_json()["name"] == "财务部"
    assert_error(client.patch("/api/v1/admin/groups/nope", json={"name": "x"}, headers=auth("admin")), 404)
    assert {"id": "finance", "name": "财务部"} in client.get("/api/v1/admin/groups", headers=auth("admin")).get_json()


@pytest.mark.parametrize("user", ["sales", "manager", "owner"])
def test_only_admins(client: FlaskClient, user: str) -> None:
    assert_error(client.get("/api/v1/admin/users", headers=auth(user)), 403, "forbidden")
    assert_error(client.post("/api/v1/admin/users", json=NEW, headers=auth(user)), 403)
    assert_error(client.post("/api/v1/admin/groups", json={"id": "x", "name": "x"}, headers=auth(user)), 403)
    assert_error(client.get("/api/v1/admin/users"), 401)

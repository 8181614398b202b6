"""API tokens (page, Bearer on the API, expiry, revocation), the Basic cache, stamps and the failed-login limit."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from api_helpers import assert_error, auth
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine import people, tokens, utcnow
from engine.models import ApiToken, User


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def create(client: FlaskClient, name: str = "report script", days: str = "") -> str:
    response = client.post("/account/tokens", data={"name": name, "expires_days": days})
    assert response.status_code == 201, response.get_data(as_text=True)
    match = re.search(r'id="token-secret">(tf_[A-Za-z0-9_-]+)<', response.get_data(as_text=True))
    assert match, "the new token is shown on the page"
    return match.group(1)


def stored(app: Flask) -> list[ApiToken]:
    with app.extensions["engine"]["session_factory"]() as session:
        return list(session.scalars(select(ApiToken)))


def change_user(app: Flask, name: str, **values: Any) -> None:
    """Change a user's row the way an admin would (roles, the active flag)."""
    with app.extensions["engine"]["session_factory"].begin() as session:
        user = session.scalars(select(User).where(User.name == name)).one()
        for key, value in values.items():
            setattr(user, key, value)


def test_a_token_is_shown_once_stored_as_a_digest_and_works_with_the_users_permissions(
    app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]
) -> None:
    login_as("sales")
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "report script" not in page
    secret = create(client)
    [row] = stored(app)
    assert row.digest == tokens.digest(secret) and secret not in (row.digest, row.name)
    assert secret not in client.get("/account/tokens").get_data(as_text=True)

    anonymous = app.test_client()
    listed = anonymous.get("/api/v1/tasks?scope=groups", headers=bearer(secret))
    assert listed.status_code == 200 and isinstance(listed.get_json(), list)
    # The token acts as sales: no deployments (owners only), and writes need no CSRF token.
    assert_error(anonymous.post("/api/v1/deployments", headers=bearer(secret)), 403)
    assert anonymous.get("/api/v1/processes", headers=bearer(secret)).status_code == 200
    assert "从未" not in client.get("/account/tokens").get_data(as_text=True)
    assert stored(app)[0].last_used_at is not None


@pytest.mark.parametrize(
    "header",
    ["Bearer tf_wrong", "Bearer ", "Bearer " + "x" * 300, "Token abc", "Basic !!!", "Basic " + "c2FsZXM="],
)
def test_bad_credentials_are_401(client: FlaskClient, header: str) -> None:
    body = assert_error(client.get("/api/v1/tasks", headers={"Authorization": header}), 401, "unauthorized")
    assert "Bearer" in body["message"]


def test_revoked_and_expired_tokens_and_disabled_users_are_refused(
    app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]
) -> None:
    login_as("sales")
    revoked, expiring, kept = create(client, "a"), create(client, "b", "30"), create(client, "c")
    api = app.test_client()
    assert all(api.get("/api/v1/tasks", headers=bearer(s)).status_code == 200 for s in (revoked, expiring, kept))

    token_id = next(t.id for t in stored(app) if t.name == "a")
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    assert_error(api.get("/api/v1/tasks", headers=bearer(revoked)), 401)
    assert [t.name for t in stored(app)] == ["b", "c"]

    with app.extensions["engine"]["session_factory"].begin() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.name == "b")).one()
        assert row.expires_at is not None and row.expires_at - utcnow() > timedelta(days=29)
        row.expires_at = utcnow() - timedelta(seconds=1)
    assert_error(api.get("/api/v1/tasks", headers=bearer(expiring)), 401)
    assert "已过期" in client.get("/account/tokens", headers={"Accept-Language": "zh"}).get_data(as_text=True)

    change_user(app, "sales", active=False)
    assert_error(api.get("/api/v1/tasks", headers=bearer(kept)), 401)


def test_another_users_token_cannot_be_revoked(
    app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]
) -> None:
    with app.extensions["engine"]["session_factory"].begin() as session:
        _view, secret = tokens.create_token(session, "lead", "lead's")
    login_as("sales")
    token_id = stored(app)[0].id
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert client.get("/api/v1/tasks", headers=bearer(secret)).status_code == 200


@pytest.mark.parametrize(
    ("name", "days", "field"),
    [
        ("", "", "token-name-error"),
        ("x" * 101, "", "token-name-error"),
        ("ok", "abc", "token-days-error"),
        ("ok", "0", "token-days-error"),
        ("ok", "3651", "token-days-error"),
        ("ok", "-3", "token-days-error"),
    ],
)
def test_bad_token_input_is_422_and_stores_nothing(
    app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient], name: str, days: str, field: str
) -> None:
    login_as("sales")
    response = client.post("/account/tokens", data={"name": name, "expires_days": days})
    assert response.status_code == 422
    assert f'id="{field}"' in response.get_data(as_text=True)
    assert stored(app) == []


def test_the_token_page_needs_a_login(client: FlaskClient) -> None:
    assert client.get("/account/tokens").status_code == 302
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 302
    assert client.get("/account/tokens", headers=auth("sales")).status_code == 200


def test_basic_checks_the_password_hash_once_then_again_after_a_change(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    real = people.check_password_hash
    monkeypatch.setattr(people, "check_password_hash", lambda h, p: checks.append(p) or real(h, p))

    def get(user: str = "sales", password: str = "demo") -> int:
        return client.get("/api/v1/tasks", headers=auth(user, password)).status_code

    assert [get(), get(), get()] == [200, 200, 200]
    assert len(checks) == 1
    change_user(app, "sales", roles=["staff", "manager"])  # new roles: the cached entry is dropped
    assert get() == 200 and len(checks) == 2
    assert client.get("/api/v1/tasks?scope=all", headers=auth("sales")).status_code == 200
    assert get() == 200 and len(checks) == 2

    with app.extensions["engine"]["session_factory"].begin() as session:
        people.set_password(session, "sales", "new password")
    assert get() == 401  # the old password, cached a moment ago, no longer works
    assert get(password="new password") == 200
    change_user(app, "sales", active=False)
    assert get(password="new password") == 401


def test_a_password_change_ends_the_users_sessions(
    app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]
) -> None:
    login_as("sales")
    assert client.get("/api/v1/tasks").status_code == 200
    other = app.test_client()
    other.post("/login", data={"username": "lead", "password": "demo"})
    with app.extensions["engine"]["session_factory"].begin() as session:
        people.set_password(session, "sales", "changed")
    assert_error(client.get("/api/v1/tasks"), 401)
    assert client.get("/").status_code == 302
    assert other.get("/api/v1/tasks").status_code == 200  # other people stay logged in


def test_failed_logins_are_limited_per_user_name(client: FlaskClient) -> None:
    for _ in range(5):
        assert client.get("/api/v1/tasks", headers=auth("sales", "wrong")).status_code == 401
    limited = client.get("/api/v1/tasks", headers=auth("sales", "demo"))
    body = assert_error(limited, 429, "too_many_requests")
    assert int(limited.headers["Retry-After"]) > 0 and "try again" in body["message"]
    page = client.post("/login", data={"username": "sales", "password": "demo"}, headers={"Accept-Language": "en"})
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert "Too many failed logins" in page.get_data(as_text=True)
    # Other people are not locked out by someone guessing at sales's password.
    assert client.get("/api/v1/tasks", headers=auth("lead")).status_code == 200


def test_failed_logins_are_limited_per_address(client: FlaskClient) -> None:
    for i in range(20):
        response = client.post("/login", data={"username": f"nobody{i}", "password": "x"})
        assert response.status_code == 401
    page = client.post("/login", data={"username": "lead", "password": "demo"}, headers={"Accept-Language": "zh"})
    assert page.status_code == 429 and "登录失败次数过多" in page.get_data(as_text=True)
    assert_error(client.get("/api/v1/tasks", headers=auth("lead")), 429)
    other_address = client.get("/api/v1/tasks", headers=auth("lead"), environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_address.status_code == 200

"""The app starts, redirects anonymous visitors to the login page and lets a demo user in."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient


def test_anonymous_visitor_is_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_wrong_password_is_refused(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "sales", "password": "nope"})
    assert response.status_code == 401


def test_demo_user_logs_in_and_sees_queues(login_as: Callable[[str], FlaskClient]) -> None:
    client = login_as("service")
    response = client.get("/")
    assert response.status_code == 200

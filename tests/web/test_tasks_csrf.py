"""With CSRF protection on, every form post and htmx request of the task pages needs the token."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient


def csrf_token_of(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.fixture
def staff(csrf_app: Flask) -> tuple[FlaskClient, str]:
    """A client logged in as ``service`` on the CSRF-protected app, and its token."""
    client = csrf_app.test_client()
    token = csrf_token_of(client)
    response = client.post("/login", data={"username": "service", "password": "demo", "csrf_token": token})
    assert response.status_code == 302
    return client, csrf_token_of(client, "/")


def _first_task(client: FlaskClient, token: str) -> int:
    response = client.post("/start/complaint", data={"title": "CSRF", "csrf_token": token})
    assert response.status_code == 302
    match = re.search(r"/tasks/(\d+)$", response.headers["Location"])
    assert match
    return int(match.group(1))


def test_start_without_token_is_refused(staff: tuple[FlaskClient, str]) -> None:
    client, _token = staff
    assert client.post("/start/complaint", data={"title": "x"}).status_code == 400


def test_every_page_form_carries_the_token(staff: tuple[FlaskClient, str]) -> None:
    client, token = staff
    task_id = _first_task(client, token)
    for path in ("/", "/start", f"/tasks/{task_id}", "/completed"):
        html = client.get(path).get_data(as_text=True)
        posts = re.findall(r'<form method="post"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"', html)
        assert posts and html.count('<form method="post"') == len(posts), path
        assert f'"X-CSRFToken": "{posts[0]}"' in html  # htmx sends it as a header


@pytest.mark.parametrize("action", ["claim", "unclaim"])
def test_htmx_posts_need_the_header(staff: tuple[FlaskClient, str], action: str) -> None:
    client, token = staff
    task_id = _first_task(client, token)
    if action == "unclaim":
        client.post(f"/tasks/{task_id}/claim", data={"csrf_token": token})
    path = f"/tasks/{task_id}/{action}"
    assert client.post(path, headers={"HX-Request": "true"}).status_code == 400
    response = client.post(path, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200 and "<tr" in response.get_data(as_text=True)


def test_complete_and_comment_need_the_token(staff: tuple[FlaskClient, str]) -> None:
    client, token = staff
    task_id = _first_task(client, token)
    assert client.post(f"/tasks/{task_id}", data={"customer_name": "x"}).status_code == 400
    assert client.post(f"/tasks/{task_id}/comment", data={"text": "hi"}).status_code == 400
    response = client.post(f"/tasks/{task_id}/comment", data={"text": "hi", "csrf_token": token})
    assert response.status_code == 302
    response = client.post(f"/tasks/{task_id}", data={"customer_name": "", "csrf_token": token})
    assert response.status_code == 422
    errors = re.findall(r'<p class="error form-error">([^<]*)</p>', response.get_data(as_text=True))
    assert not any("csrf_token" in e for e in errors)  # the token is not taken for a form field

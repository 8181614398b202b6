"""Every role lands on its home after logging in, and the menu shows only pages that exist and fit the role."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

HOMES = {"editor.home": "/processes", "monitoring.dashboard": "/monitor"}


def _ensure(app: Flask, endpoint: str) -> str:
    """Stand in for a home page another blueprint has not registered (yet); return its URL."""
    if endpoint not in app.view_functions:
        app.add_url_rule(HOMES[endpoint], endpoint=endpoint, view_func=lambda: "home")
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint)


def _login(client: FlaskClient, name: str, next_: str = "") -> str:
    response = client.post("/login" + next_, data={"username": name, "password": "demo"})
    assert response.status_code == 302
    return response.headers["Location"]


@pytest.mark.parametrize(("user", "endpoint"), [("owner", "editor.home"), ("manager", "monitoring.dashboard")])
def test_owners_and_managers_land_on_their_home(app: Flask, client: FlaskClient, user: str, endpoint: str) -> None:
    url = _ensure(app, endpoint)
    assert _login(client, user) == url
    assert client.get("/home").headers["Location"] == url


def test_admins_land_on_people_and_staff_on_their_queue(client: FlaskClient) -> None:
    assert _login(client, "admin") == "/admin/users"
    client.post("/logout")
    assert _login(client, "sales") == "/"
    client.post("/logout")
    assert _login(client, "sales", "?next=/cases") == "/cases"  # an asked-for page wins


def test_without_the_home_page_the_queue_is_home(app: Flask, client: FlaskClient) -> None:
    if "editor.home" in app.view_functions:
        pytest.skip("the process editor is part of this build")
    assert _login(client, "owner") == "/"


def _menu(client: FlaskClient) -> str:
    html = client.get("/cases", headers={"Accept-Language": "en"}).get_data(as_text=True)
    return html[html.index('class="mainnav"') : html.index("</nav>")]


def test_the_menu_fits_the_role(app: Flask, client: FlaskClient) -> None:
    _ensure(app, "editor.home")
    _ensure(app, "monitoring.dashboard")
    _login(client, "sales")
    menu = _menu(client)
    assert "My cases" in menu and 'aria-current="page"' in menu
    assert "Admin" not in menu and "Processes" not in menu and "Monitoring" not in menu
    client.post("/logout")
    _login(client, "owner")
    menu = _menu(client)
    assert "Processes" in menu and "Admin" not in menu and "Monitoring" not in menu
    client.post("/logout")
    _login(client, "admin")
    menu = _menu(client)
    assert all(label in menu for label in ("Admin", "Processes", "Monitoring", "Task queue"))

"""Web fixtures: an app on a fresh SQLite database, a test client, demo users, logins and a live server."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from engine import definitions, people
from web import create_app
from web.cli import DEMO_PASSWORD, DEMO_USERS

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")


def _make_app(tmp_path: Path, template: Path, **config: Any) -> Flask:
    db = tmp_path / "web.db"
    shutil.copy(template, db)
    os.environ["TEAMFLOW_INSTANCE_PATH"] = str(tmp_path / "instance")
    settings = {
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{db}",
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "TIMER_POLL_SECONDS": 0.2,
    }
    settings.update(config)
    return create_app(settings)


def seed_demo(app: Flask) -> None:
    """Create the demo users and deploy processes/, as `teamflow demo` does."""
    definitions.clear_cache()
    with app.extensions["engine"]["session_factory"].begin() as session:
        for name, display, groups, roles in DEMO_USERS:
            people.create_user(session, name, DEMO_PASSWORD, groups, roles, display)
        definitions.deploy_paths(session, [ROOT / "processes"], "system")


@pytest.fixture
def app(tmp_path: Path, sqlite_template: Path) -> Iterator[Flask]:
    """An app with demo users and the four processes; CSRF checks off (see ``csrf_app``)."""
    application = _make_app(tmp_path, sqlite_template)
    seed_demo(application)
    yield application
    application.extensions["engine"]["db_engine"].dispose()


@pytest.fixture
def csrf_app(tmp_path: Path, sqlite_template: Path) -> Iterator[Flask]:
    """Like ``app`` but with CSRF protection on, as in production."""
    application = _make_app(tmp_path, sqlite_template, WTF_CSRF_ENABLED=True)
    seed_demo(application)
    yield application
    application.extensions["engine"]["db_engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[[str], FlaskClient]:
    """Log the test client in as a demo user."""

    def login(name: str, password: str = DEMO_PASSWORD) -> FlaskClient:
        response = client.post("/login", data={"username": name, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return login


def csrf_token_of(client: FlaskClient, path: str = "/login") -> str:
    """Read the CSRF token a page embeds in its <meta name="csrf-token">."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no csrf-token meta tag"
    return match.group(1)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve the app (with its timer thread) on a free local port; yield its base URL."""
    from web.cli import start_timer_thread

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stop = start_timer_thread(app)
    yield f"http://127.0.0.1:{server.server_port}"
    stop.set()
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def contexts(browser: Any) -> Iterator[list[Any]]:
    """Browser contexts opened by a browser test, closed after it."""
    opened: list[Any] = []
    yield opened
    for context in opened:
        context.close()


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Launch Debian's chromium; playwright cannot download its own browsers here."""
    if not CHROMIUM.is_file():
        message = "/usr/bin/chromium is missing: apt-get install -y chromium fonts-noto-cjk"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return {
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }

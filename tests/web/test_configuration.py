"""Operator settings from TEAMFLOW_* variables: values, clear refusals, the production key check, shared keys."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from engine import people
from web import create_app
from web.cli import main
from web.environment import ConfigError

STRONG_KEY = "4f1c9a7be2d84e0f9b36c5a1d7e2f8093c4b5a6d7e8f9a0b"


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No TEAMFLOW_* setting but the instance folder (and the test database address)."""
    for name in list(os.environ):
        if name.startswith(("TEAMFLOW_", "FLASK_")) and name != "TEAMFLOW_TEST_PG_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("TEAMFLOW_INSTANCE_PATH", str(tmp_path / "instance"))
    return monkeypatch


@pytest.fixture
def apps() -> Iterator[list[Flask]]:
    made: list[Flask] = []
    yield made
    for app in made:
        app.extensions["engine"]["db_engine"].dispose()


def build(apps: list[Flask], **config: Any) -> Flask:
    app = create_app({"TESTING": True, **config})
    apps.append(app)
    return app


def test_operator_settings_come_from_the_environment(
    environ: pytest.MonkeyPatch, apps: list[Flask], tmp_path: Path
) -> None:
    settings = {
        "TEAMFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
        "TEAMFLOW_SECRET_KEY": STRONG_KEY,
        "TEAMFLOW_TIMER_POLL_SECONDS": "2.5",
        "TEAMFLOW_MAIL_SERVER": "smtp.example.com",
        "TEAMFLOW_MAIL_PORT": "2525",
        "TEAMFLOW_MAIL_USE_TLS": "true",
        "TEAMFLOW_MAIL_USERNAME": "teamflow",
        "TEAMFLOW_MAIL_PASSWORD": "mail-password",
        "TEAMFLOW_MAIL_SENDER": "流程 <flow@example.com>",
        "TEAMFLOW_BASE_URL": "https://flow.example.com/",
        "TEAMFLOW_SECURE_COOKIES": "yes",
    }
    for name, value in settings.items():
        environ.setenv(name, value)
    app = build(apps)
    config = app.config
    assert config["DATABASE_URL"] == settings["TEAMFLOW_DATABASE_URL"]
    assert config["SECRET_KEY"] == STRONG_KEY
    assert (config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_USE_TLS"]) == ("smtp.example.com", 2525, True)
    assert (config["MAIL_USERNAME"], config["MAIL_PASSWORD"]) == ("teamflow", "mail-password")
    assert config["MAIL_SENDER"] == "流程 <flow@example.com>" and config["BASE_URL"] == "https://flow.example.com/"
    assert config["SESSION_COOKIE_SECURE"] is True and config["REMEMBER_COOKIE_SECURE"] is True
    engine_settings = app.extensions["engine"]["settings"]
    assert engine_settings.timer_poll_seconds == 2.5
    assert engine_settings.database_url == settings["TEAMFLOW_DATABASE_URL"]


@pytest.mark.parametrize(
    "name,value",
    [
        ("TEAMFLOW_TIMER_POLL_SECONDS", "soon"),
        ("TEAMFLOW_TIMER_POLL_SECONDS", "0"),
        ("TEAMFLOW_MAIL_PORT", "smtp"),
        ("TEAMFLOW_MAIL_PORT", "70000"),
        ("TEAMFLOW_MAIL_USE_TLS", "maybe"),
        ("TEAMFLOW_SECURE_COOKIES", "2"),
        ("TEAMFLOW_ENV", "prod"),
    ],
)
def test_a_malformed_setting_is_refused_by_name(
    environ: pytest.MonkeyPatch, apps: list[Flask], name: str, value: str
) -> None:
    environ.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        build(apps)


@pytest.mark.parametrize("key", [None, "", "dev", "change-me", "short-key-1234", "a" * 48, "ab" * 30])
def test_production_refuses_a_missing_or_weak_key(
    environ: pytest.MonkeyPatch, apps: list[Flask], tmp_path: Path, key: str | None
) -> None:
    environ.setenv("TEAMFLOW_ENV", "production")
    if key is not None:
        environ.setenv("TEAMFLOW_SECRET_KEY", key)
    with pytest.raises(ConfigError, match="TEAMFLOW_SECRET_KEY"):
        build(apps)
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_with_a_strong_key_starts_with_secure_cookies(
    environ: pytest.MonkeyPatch, apps: list[Flask]
) -> None:
    environ.setenv("TEAMFLOW_ENV", "production")
    environ.setenv("TEAMFLOW_SECRET_KEY", STRONG_KEY)
    app = build(apps)
    assert app.config["SECRET_KEY"] == STRONG_KEY
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["SESSION_COOKIE_HTTPONLY"] is True
    environ.setenv("TEAMFLOW_SECURE_COOKIES", "false")  # plain HTTP on a closed network: the operator's choice
    assert build(apps).config["SESSION_COOKIE_SECURE"] is False


def test_development_keeps_a_generated_key_in_the_instance_folder(
    environ: pytest.MonkeyPatch, apps: list[Flask]
) -> None:
    first, second = build(apps), build(apps)
    assert len(first.config["SECRET_KEY"]) >= 32 and first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["SESSION_COOKIE_SECURE"] is False


def _server(apps: list[Flask], tmp_path: Path, environ: pytest.MonkeyPatch, name: str, db: str) -> Flask:
    environ.setenv("TEAMFLOW_INSTANCE_PATH", str(tmp_path / name))
    return build(apps, DATABASE_URL=db, WTF_CSRF_ENABLED=False)


@pytest.mark.parametrize("shared", [True, False])
def test_servers_sharing_one_key_accept_each_others_sessions(
    environ: pytest.MonkeyPatch, apps: list[Flask], tmp_path: Path, sqlite_template: Path, shared: bool
) -> None:
    db = tmp_path / "shared.db"
    shutil.copy(sqlite_template, db)
    url = f"sqlite:///{db}"
    if shared:
        environ.setenv("TEAMFLOW_SECRET_KEY", STRONG_KEY)
    one = _server(apps, tmp_path, environ, "server-one", url)
    two = _server(apps, tmp_path, environ, "server-two", url)
    with one.extensions["engine"]["session_factory"].begin() as session:
        people.create_user(session, "sales", "demo", ["sales"], ["staff"], "销售")
    first = one.test_client()
    assert first.post("/login", data={"username": "sales", "password": "demo"}).status_code == 302
    cookie = first.get_cookie("session")
    assert cookie is not None
    second = two.test_client()
    second.set_cookie("session", cookie.value)
    answer = second.get("/")
    # One key: the other server knows the user. Keys of their own: it asks for a login.
    assert (answer.status_code == 200) == shared
    if not shared:
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_cli_refuses_a_production_start_without_a_key_in_one_line(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("TEAMFLOW_ENV", "production")
    result = CliRunner().invoke(main, ["tasks"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith("error: configuration: TEAMFLOW_SECRET_KEY is required")

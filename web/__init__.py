"""Create the Flask application: configuration, engine, login, CSRF, i18n and blueprints."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from engine import EngineSettings, configure_scripts, make_engine, make_session_factory
from web import environment

csrf = CSRFProtect()
babel = Babel()
LANGUAGES = {"zh": "简体中文", "en": "English"}
ROOT = Path(__file__).resolve().parent.parent


def _locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(["zh", "en"], default="zh") or "zh"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then FLASK_* and TEAMFLOW_* variables, then ``test_config``.

    :raises ConfigError: a malformed TEAMFLOW_* value, or a missing or weak key when TEAMFLOW_ENV=production.
    """
    instance_path = os.environ.get("TEAMFLOW_INSTANCE_PATH") or str(Path.cwd() / "instance")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY=None,
        DATABASE_URL=None,
        PROCESSES_DIR=str(ROOT / "processes"),
        TIMER_POLL_SECONDS=5.0,
        SCRIPT_TIMEOUT=2.0,
        SCRIPT_MEMORY_MB=200,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=10 * 1024 * 1024,
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        BABEL_TRANSLATION_DIRECTORIES=";".join(str(path) for path in translation_directories()),
        MAIL_SERVER=None,
        MAIL_PORT=25,
        MAIL_SENDER="teamflow@localhost",
        BASIC_CACHE_SECONDS=60.0,
        LOGIN_FAILURES_PER_NAME=5,
        LOGIN_FAILURES_PER_ADDRESS=20,
        LOGIN_FAILURE_WINDOW_SECONDS=300.0,
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env()
    production = environment.environment(os.environ) == "production"
    app.config.update(environment.read(os.environ))
    if test_config:
        app.config.update(test_config)
    environment.check_secret_key(app.config["SECRET_KEY"], production)
    environment.apply_cookie_security(app.config, production)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'teamflow.db'}"

    settings = EngineSettings(
        database_url=app.config["DATABASE_URL"],
        processes_dir=Path(app.config["PROCESSES_DIR"]),
        timer_poll_seconds=float(app.config["TIMER_POLL_SECONDS"]),
        script_timeout_seconds=float(app.config["SCRIPT_TIMEOUT"]),
        script_memory_mb=int(app.config["SCRIPT_MEMORY_MB"]),
    )
    configure_scripts(settings.script_timeout_seconds, settings.script_memory_mb)
    db_engine = make_engine(settings.database_url)
    app.extensions["engine"] = {
        "settings": settings,
        "db_engine": db_engine,
        "session_factory": make_session_factory(db_engine),
    }

    csrf.init_app(app)
    babel.init_app(app, locale_selector=_locale)

    from web import auth, db, errors

    db.init_app(app)
    auth.init_app(app)
    errors.init_app(app)

    from web.account import bp as account_bp
    from web.admin import bp as admin_bp
    from web.api import bp as api_bp
    from web.editor import bp as editor_bp
    from web.engine_rest import bp as engine_rest_bp
    from web.monitoring import bp as monitoring_bp
    from web.tasks import bp as tasks_bp

    app.register_blueprint(auth.bp)
    app.register_blueprint(account_bp, url_prefix="/account")
    app.register_blueprint(tasks_bp)
    app.register_blueprint(editor_bp, url_prefix="/processes")
    app.register_blueprint(monitoring_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # the API checks CSRF itself for cookie-authenticated writes
    app.register_blueprint(engine_rest_bp, url_prefix="/engine-rest")
    csrf.exempt(engine_rest_bp)  # like the API: Basic needs no token, a cookie session is checked

    @app.context_processor
    def _globals() -> dict[str, Any]:
        from flask_babel import get_locale

        return {"languages": LANGUAGES, "current_locale": str(get_locale() or "zh")}

    return app


def translation_directories() -> list[Path]:
    """Return the shared catalog folder first, then each blueprint's own (``web/<blueprint>/translations``)."""
    here = Path(__file__).parent
    return [here / "translations", *sorted(p for p in here.glob("*/translations") if p.is_dir())]


def _instance_secret(folder: Path) -> str:
    """Keep a random secret key in the instance folder so sessions survive restarts."""
    path = folder / "secret_key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()

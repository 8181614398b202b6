"""Log people in and out (Flask-Login, hashed passwords), API tokens and HTTP Basic, roles and language."""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from engine import PermissionDeniedError, people, tokens
from engine.views import UserView
from web import LANGUAGES
from web.credentials import BasicCache, FailureLimiter
from web.db import get_session, unit_of_work

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
F = TypeVar("F", bound=Callable[..., Any])


class CurrentUser(UserMixin):  # type: ignore[misc]
    """The logged-in person, as Flask-Login needs them.

    ``via_basic`` is true when the request carried its own credentials (an API token or HTTP Basic).
    """

    def __init__(self, view: UserView, via_basic: bool = False) -> None:
        self.view = view
        self.via_basic = via_basic

    def get_id(self) -> str:
        # The session keeps the credential stamp too: a new password or new roles end every session.
        return f"{self.view.id}:{self.view.stamp}"

    @property
    def name(self) -> str:
        return self.view.name

    @property
    def display_name(self) -> str:
        return self.view.display_name

    @property
    def groups(self) -> tuple[str, ...]:
        return self.view.groups

    @property
    def roles(self) -> tuple[str, ...]:
        return self.view.roles

    def has_role(self, *roles: str) -> bool:
        return self.view.has_role(*roles)


@login_manager.user_loader
def _load_user(session_id: str) -> CurrentUser | None:
    user_id, _sep, stamp = session_id.partition(":")
    if not user_id.isdigit():
        return None
    view = people.get_user_by_id(get_session(), int(user_id))
    return CurrentUser(view) if view and view.active and view.stamp == stamp else None


@login_manager.request_loader
def _header_user(req: Any) -> CurrentUser | None:
    header = req.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return _token_user(value.strip())
    if scheme.lower() != "basic":
        return None
    try:
        name, _sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except Exception:
        return None
    return _basic_user(name, password)


def _token_user(secret: str) -> CurrentUser | None:
    found = tokens.authenticate_token(get_session(), secret)
    if found is None:
        return None
    view, stale_token = found
    if stale_token:
        with unit_of_work(current_app) as session:
            tokens.record_use(session, stale_token)
    return CurrentUser(view, via_basic=True)


def _basic_user(name: str, password: str) -> CurrentUser | None:
    """Check Basic credentials; a pair verified in the last minute costs a lookup, not a password hash."""
    cache: BasicCache = current_app.extensions["credentials"]["cache"]
    key = cache.key(name, password)
    hit = cache.get(key)
    if hit is not None:
        view = people.get_user_by_id(get_session(), hit.user_id)
        if view is not None and view.stamp == hit.stamp:
            return CurrentUser(view, via_basic=True)
        cache.drop(key)
    view = check_password(name, password)
    if view is None:
        return None
    cache.put(key, view.id, view.stamp)
    return CurrentUser(view, via_basic=True)


def check_password(name: str, password: str) -> UserView | None:
    """Check a password, counting failures per user name and per address.

    :raises TooManyRequests: too many recent failures for this name or address (with Retry-After).
    """
    limiter: FailureLimiter = current_app.extensions["credentials"]["limiter"]
    address = request.remote_addr or ""
    wait = limiter.retry_after(name, address)
    if wait:
        raise TooManyRequests(f"too many failed logins; try again in {wait} seconds", retry_after=wait)
    view = people.authenticate(get_session(), name, password)
    if view is None:
        limiter.failed(name, address)
        return None
    limiter.succeeded(name)
    return view


def role_required(*roles: str) -> Callable[[F], F]:
    """Let only users with one of the roles (admins always) through; others get 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required  # type: ignore[misc]
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                raise PermissionDeniedError(f"{current_user.name} needs the role {' or '.join(roles)}")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


# Where each role lands after logging in, first match wins; the queue when none applies or its page
# is not part of this installation.
HOMES = (("admin", "admin.users"), ("manager", "monitoring.dashboard"), ("owner", "editor.home"))

# The main menu: id, endpoint, label, the roles that may use it (None: everyone), where it is current.
MENU: tuple[tuple[str, str, Any, tuple[str, ...] | None, tuple[str, ...]], ...] = (
    ("queue", "tasks.queue", lazy_gettext("Task queue"), None, ("tasks.queue", "tasks.queue_fragment", "tasks.task")),
    ("start", "tasks.start", lazy_gettext("Start"), None, ("tasks.start",)),
    ("cases", "tasks.cases_page", lazy_gettext("My cases"), None, ("tasks.cases_page",)),
    ("completed", "tasks.completed", lazy_gettext("Completed by me"), None, ("tasks.completed",)),
    ("processes", "editor.home", lazy_gettext("Processes"), ("owner", "manager"), ("editor.",)),
    ("monitoring", "monitoring.dashboard", lazy_gettext("Monitoring"), ("manager",), ("monitoring.",)),
    ("admin", "admin.users", lazy_gettext("Admin"), ("admin",), ("admin.",)),
)


def home_url(user: Any) -> str:
    """The page a user starts on: their role's home if this installation has it, else the task queue."""
    for role, endpoint in HOMES:
        if role in user.roles and endpoint in current_app.view_functions:
            return url_for(endpoint)
    return url_for("tasks.queue")


def menu() -> list[dict[str, Any]]:
    """The main menu's links for the current user: only pages that exist and that their roles may use."""
    here = request.endpoint or ""
    links = []
    for link_id, endpoint, label, roles, current in MENU:
        if endpoint not in current_app.view_functions or (roles and not current_user.has_role(*roles)):
            continue
        active = any(here == c or (c.endswith(".") and here.startswith(c)) for c in current)
        links.append({"id": link_id, "endpoint": endpoint, "label": label, "current": active})
    return links


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return home_url(current_user) if current_user.is_authenticated else url_for("tasks.queue")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    name = ""
    if request.method == "POST":
        name = request.form.get("username", "").strip()
        try:
            view = check_password(name, request.form.get("password", ""))
        except TooManyRequests as exc:
            error = _("Too many failed logins. Try again in %(seconds)d seconds.", seconds=exc.retry_after)
            page = render_template("auth/login.html", error=error, username=name)
            return page, 429, {"Retry-After": str(exc.retry_after)}
        if view is not None:
            login_user(CurrentUser(view), remember=bool(request.form.get("remember")))
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        error = _("Wrong user name or password.")
    return render_template("auth/login.html", error=error, username=name), (401 if error else 200)


@bp.route("/home")
@login_required  # type: ignore[misc]
def home() -> Any:
    return redirect(home_url(current_user))


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str) -> Any:
    if code not in LANGUAGES:
        abort(404)
    session["lang"] = code
    return redirect(_safe_next(request.form.get("next") or request.referrer and urlsplit(request.referrer).path))


def init_app(app: Flask) -> None:
    app.extensions["credentials"] = {
        "cache": BasicCache(app.config["SECRET_KEY"], float(app.config["BASIC_CACHE_SECONDS"])),
        "limiter": FailureLimiter(
            int(app.config["LOGIN_FAILURES_PER_NAME"]),
            int(app.config["LOGIN_FAILURES_PER_ADDRESS"]),
            float(app.config["LOGIN_FAILURE_WINDOW_SECONDS"]),
        ),
    }
    login_manager.init_app(app)
    app.context_processor(lambda: {"main_menu": menu})
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.unauthorized_handler
    def _unauthorized() -> Any:
        if request.path.startswith(("/api/", "/engine-rest/")):
            from web.errors import error_response

            return error_response(
                401, "unauthorized", "log in, or send an API token (Authorization: Bearer) or HTTP Basic credentials"
            )
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

"""Log people in and out (Flask-Login, hashed passwords), HTTP Basic for the API, roles and language."""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from engine import PermissionDeniedError, people
from engine.views import UserView
from web import LANGUAGES
from web.db import get_session

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
F = TypeVar("F", bound=Callable[..., Any])


class CurrentUser(UserMixin):  # type: ignore[misc]
    """The logged-in person, as Flask-Login needs them."""

    def __init__(self, view: UserView, via_basic: bool = False) -> None:
        self.view = view
        self.via_basic = via_basic

    def get_id(self) -> str:
        return str(self.view.id)

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
def _load_user(user_id: str) -> CurrentUser | None:
    if not user_id.isdigit():
        return None
    view = people.get_user_by_id(get_session(), int(user_id))
    return CurrentUser(view) if view else None


@login_manager.request_loader
def _basic_user(req: Any) -> CurrentUser | None:
    header = req.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        name, _sep, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
    except Exception:
        return None
    view = people.authenticate(get_session(), name, password)
    return CurrentUser(view, via_basic=True) if view else None


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


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("tasks.queue")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    name = ""
    if request.method == "POST":
        name = request.form.get("username", "").strip()
        view = people.authenticate(get_session(), name, request.form.get("password", ""))
        if view is not None:
            login_user(CurrentUser(view), remember=bool(request.form.get("remember")))
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        error = _("Wrong user name or password.")
    return render_template("auth/login.html", error=error, username=name), (401 if error else 200)


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
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.unauthorized_handler
    def _unauthorized() -> Any:
        if request.path.startswith("/api/"):
            from web.errors import error_response

            return error_response(401, "unauthorized", "log in, or send HTTP Basic credentials")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

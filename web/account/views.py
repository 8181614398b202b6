"""Routes of the API token page: list, create (the secret is shown once) and revoke."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import InvalidInputError, tokens
from engine.db import utcnow
from web.account import bp
from web.db import get_session

TOKEN_ID = "int(min=1, max=2147483647)"


def _page(status: int = 200, **context: Any) -> Any:
    listed = tokens.list_tokens(get_session(), current_user.name)
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return render_template("account/tokens.html", tokens=listed, now=utcnow(), **context), status


@bp.route("/tokens", endpoint="tokens")
@login_required  # type: ignore[misc]
def tokens_page() -> Any:
    return _page()


@bp.route("/tokens", methods=["POST"])
@login_required  # type: ignore[misc]
def create_token() -> Any:
    name = request.form.get("name", "")
    days_text = request.form.get("expires_days", "").strip()
    form = {"name": name, "expires_days": days_text}
    if days_text and not days_text.isdigit():
        return _page(422, errors={"expires_days": _("Enter a whole number of days, or leave it empty.")}, form=form)
    session = get_session()
    try:
        token, secret = tokens.create_token(session, current_user.name, name, int(days_text) if days_text else None)
    except InvalidInputError as exc:
        field = exc.problems[0].field if exc.problems else "name"
        message = {
            "name": _("Give the token a name of 1 to 100 characters (at most 50 tokens)."),
            "expires_days": _("Enter between 1 and 3650 days, or leave it empty."),
        }.get(field, exc.message)
        return _page(422, errors={field: message}, form=form)
    session.commit()
    return _page(201, created=token, secret=secret)


@bp.route(f"/tokens/<{TOKEN_ID}:token_id>/revoke", methods=["POST"])
@login_required  # type: ignore[misc]
def revoke_token(token_id: int) -> Any:
    session = get_session()
    tokens.revoke_token(session, current_user.name, token_id)
    session.commit()
    flash(_("The token is revoked; programs using it are refused from now on."), "info")
    return redirect(url_for("account.tokens"))

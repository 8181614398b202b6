"""A person's own account: personal API tokens."""

from flask import Blueprint

bp = Blueprint("account", __name__)

from web.account import views  # noqa: E402,F401

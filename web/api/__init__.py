"""The JSON API under /api/v1."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from web.api import views  # noqa: E402,F401

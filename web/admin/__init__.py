"""Admin pages: users (create, disable, reset password, groups and roles) and groups."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from web.admin import views  # noqa: E402,F401

"""Process owners' pages: the processes home, version history, the editor, compare and upload."""

from flask import Blueprint

bp = Blueprint("editor", __name__)

from web.editor import views  # noqa: E402,F401

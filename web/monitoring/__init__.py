"""The managers' pages: dashboard, instance list, instance page with its actions, and the heatmap."""

from typing import Any

from flask import Blueprint
from flask_login import current_user

from engine import PermissionDeniedError
from web.auth import login_manager
from web.monitoring.display import cell, duration, link, local_input, period_link, row_label, status_text

MANAGERS = ("manager", "admin")

bp = Blueprint("monitoring", __name__, url_prefix="/monitor")
bp.add_app_template_filter(duration, "duration")
bp.add_app_template_filter(status_text, "status_text")
bp.add_app_template_filter(local_input, "local_input")
bp.add_app_template_global(link, "figure_link")
bp.add_app_template_global(row_label, "row_label")
bp.add_app_template_global(cell, "figure_cell")
bp.add_app_template_global(period_link, "period_link")


@bp.before_request
def _managers_only() -> Any:
    """Only managers and admins reach these pages; others are sent to log in or get a 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.has_role(*MANAGERS):
        raise PermissionDeniedError(f"{current_user.name} needs the role manager or admin")
    return None


from web.monitoring import views  # noqa: E402,F401

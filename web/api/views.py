"""Routes of the JSON API."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import login_required

from engine import definitions
from web.api import bp
from web.db import get_session


@bp.get("/processes")
@login_required  # type: ignore[misc]
def list_processes() -> Any:
    return jsonify(
        [
            {"key": p.key, "name": p.name, "version": p.version, "deployed_at": p.deployed_at.isoformat()}
            for p in definitions.list_processes(get_session())
        ]
    )

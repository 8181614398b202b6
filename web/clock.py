"""The team's time zone and date: the setting BABEL_DEFAULT_TIMEZONE (Asia/Shanghai unless configured)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def team_zone() -> ZoneInfo:
    """The time zone the team works in."""
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")


def team_today() -> date:
    """Today's date where the team works."""
    return datetime.now(team_zone()).date()

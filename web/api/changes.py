"""Run one engine change for the caller on the request's Session and commit it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask_login import current_user

from web.db import get_session

T = TypeVar("T")


def commit_change(change: Callable[..., T], subject: Any, *args: Any) -> T:
    """Call ``change(session, subject, caller, *args)``, commit once it returns and return its result."""
    session = get_session()
    result = change(session, subject, current_user.name, *args)
    session.commit()
    return result

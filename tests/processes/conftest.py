"""Process tests reload every instance from the database between steps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session
from steps import deploy

from engine.services import definitions


@pytest.fixture(autouse=True)
def reload_after_each_commit(session: Session) -> Iterator[None]:
    """After every commit, forget loaded rows and cached specs, so the next step reads what was stored."""

    def forget(committed: Session) -> None:
        committed.expire_all()
        definitions.clear_cache()

    event.listen(session, "after_commit", forget)
    yield
    event.remove(session, "after_commit", forget)


@pytest.fixture
def deployed(request: pytest.FixtureRequest, session: Session, users: dict[str, str]) -> Any:
    """Deploy the test module's own FILES, so other processes' drafts cannot break its tests."""
    return deploy(session, request.module.FILES)

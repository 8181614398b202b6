"""Open one SQLAlchemy Session per request, closed (and rolled back if uncommitted) at teardown."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

# What reaching or reading the database can raise, for callers that report it in one line.
DATABASE_ERRORS = (SQLAlchemyError, OSError)


def session_factory() -> sessionmaker[Session]:
    return current_app.extensions["engine"]["session_factory"]  # type: ignore[no-any-return]


def get_session() -> Session:
    """Return the request's Session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    return g.db_session  # type: ignore[no-any-return]


def _close(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


@contextmanager
def unit_of_work(app: Flask) -> Iterator[Session]:
    """Run one unit of work outside a request (CLI, timers) in its own transaction."""
    with app.extensions["engine"]["session_factory"].begin() as session:
        yield session


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)

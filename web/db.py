"""Open one SQLAlchemy Session per request, closed (and rolled back if uncommitted) at teardown."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from engine import begin_writing

# What reaching or reading the database can raise, for callers that report it in one line.
DATABASE_ERRORS = (SQLAlchemyError, OSError)


def session_factory() -> sessionmaker[Session]:
    return current_app.extensions["engine"]["session_factory"]  # type: ignore[no-any-return]


READING = ("GET", "HEAD", "OPTIONS")


def get_session() -> Session:
    """Return the request's Session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    return g.db_session  # type: ignore[no-any-return]


def _begin_writing() -> None:
    """Make the Session of a request that may change something a writer before its route runs.

    The caller is identified first (authenticating reads, and may record a token's use in a
    transaction of its own); then the Session drops those reads and begins writing, so that two
    changes to one instance run one after the other (``engine.begin_writing``).
    """
    if request.method in READING or request.endpoint in (None, "static"):
        return
    current_user._get_current_object()
    session = get_session()
    session.rollback()
    begin_writing(session)


def _close(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


@contextmanager
def unit_of_work(app: Flask) -> Iterator[Session]:
    """Run one unit of work outside a request (CLI, timers) in its own transaction."""
    with app.extensions["engine"]["session_factory"].begin() as session:
        yield begin_writing(session)


def init_app(app: Flask) -> None:
    app.before_request(_begin_writing)
    app.teardown_appcontext(_close)

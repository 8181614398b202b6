"""Build the declarative base, the database engine and the session factory."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as UTC and always hand back aware UTC values (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base whose constraints follow one naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


# Execution option a writer's connection carries (see ``begin_writing``).
WRITER = "teamflow_writer"
# How long a change waits for another change of the same instance before giving up (PostgreSQL).
LOCK_TIMEOUT_MS = 15_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create a database engine; SQLite gets foreign keys, WAL (synchronous NORMAL), a busy timeout, immediate writers.

    pysqlite begins a transaction only at its first write, so two writers that both read first
    cannot be serialised: the second fails when it writes. A session that ``begin_writing`` marked
    begins with ``BEGIN IMMEDIATE`` instead; other sessions keep pysqlite's own behaviour, so their
    reads always see the latest commit.
    """
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL never corrupts the database; a power cut (not a crash) may lose the last
            # commits. It saves an fsync per commit, which is most of a step's time on SQLite.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            dbapi_connection = connection.connection.dbapi_connection
            if connection.get_execution_options().get(WRITER):
                dbapi_connection.isolation_level = None  # the driver leaves transactions to us
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                dbapi_connection.isolation_level = ""  # the driver's own: BEGIN before the first write

    elif engine.dialect.name == "postgresql":

        @event.listens_for(engine, "begin")
        def _pg_begin(connection: Any) -> None:
            if connection.get_execution_options().get(WRITER):
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")

    return engine


def begin_writing(session: Session) -> Session:
    """Start the session's transaction as a writer, before it reads anything.

    On SQLite the transaction takes the database's write lock at once (``BEGIN IMMEDIATE``): two
    changes then run one after the other, each reading what the other committed, instead of the
    second failing at its first write. On PostgreSQL, where changes lock the rows of the instance
    they change, a writer waits at most ``LOCK_TIMEOUT_MS`` for such a lock.
    """
    session.connection(execution_options={WRITER: True})
    return session


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Create the sessionmaker every unit of work uses."""
    return sessionmaker(bind=engine, expire_on_commit=False)

"""Engine fixtures: a fresh, migrated database per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from engine import make_engine, make_session_factory, people
from engine.schema import upgrade
from engine.services import definitions

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
DATA = Path(__file__).resolve().parent / "engine" / "data"
PG_URL = os.environ.get("TEAMFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

GROUP_USERS = {
    "team-lead": "lead1",
    "promotion": "promo1",
    "sales": "sales1",
    "service": "service1",
    "hr": "hr1",
    "risk": "risk1",
    "departments": "dept1",
}


def _pg_available() -> bool:
    try:
        engine = sa.create_engine(PG_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Hash test passwords cheaply; production keeps werkzeug's default (scrypt)."""
    original = people.generate_password_hash
    people.generate_password_hash = lambda password: original(password, method="pbkdf2:sha256:1000")
    yield
    people.generate_password_hash = original


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL database of this test run's own, so that parallel runs never share tables."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL}, and CI is set")
        pytest.skip("PostgreSQL is not reachable")
    name = f"teamflow_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


def _reset_pg(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'")
            )
        ]
        groups = conn.execute(sa.text("SELECT id, name FROM user_group")).all()
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        seeded = {gid for gid, _ in groups} >= set(GROUP_USERS)
        rows = groups if seeded else []
        for gid, name in rows:
            conn.execute(sa.text("INSERT INTO user_group (id, name) VALUES (:i, :n)"), {"i": gid, "n": name})


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "teamflow.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    engine = request.getfixturevalue("pg_engine")
    _reset_pg(engine)
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def session_factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    definitions.clear_cache()
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session
        session.rollback()


@pytest.fixture
def users(session: Session) -> dict[str, str]:
    """One staff user per group, plus manager1 (manager) and owner1 (owner)."""
    for group, name in GROUP_USERS.items():
        people.create_user(session, name, "secret", groups=[group], roles=["staff"])
    people.create_user(session, "manager1", "secret", groups=["team-lead"], roles=["staff", "manager"])
    people.create_user(session, "owner1", "secret", groups=[], roles=["owner"])
    session.commit()
    return dict(GROUP_USERS)


@pytest.fixture
def deploy_processes(session: Session, users: dict[str, str]):  # type: ignore[no-untyped-def]
    """Deploy every file in processes/."""
    results = definitions.deploy_paths(session, [PROCESSES], actor="owner1")
    session.commit()
    return results

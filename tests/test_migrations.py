"""Migrations: an empty database upgrades to the newest schema, which matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine import (
    Base,
    make_engine,
    models,  # noqa: F401 - registers the tables
)


def test_upgrade_from_empty_has_no_drift_from_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
        with engine.connect() as conn:
            groups = conn.exec_driver_sql("SELECT id FROM user_group ORDER BY id").scalars().all()
        assert groups == ["departments", "hr", "promotion", "risk", "sales", "service", "team-lead"]
    finally:
        engine.dispose()

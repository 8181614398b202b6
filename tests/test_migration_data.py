"""Upgrading a database that holds data keeps it: table copies on SQLite must not cascade deletes."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from engine.schema import upgrade


def test_upgrading_sqlite_keeps_group_memberships(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")  # before the app_user table is copied to add its credential stamp
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO app_user (id, name, display_name, password_hash, roles, active, created_at)"
            " VALUES (1, 'amy', 'Amy', 'x', '[]', 1, '2026-01-01 00:00:00')"
        )
        conn.exec_driver_sql("INSERT INTO membership (user_id, group_id) VALUES (1, 'sales')")
    upgrade(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT user_id, group_id FROM membership").all() == [(1, "sales")]
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    engine.dispose()

"""Time the managers' dashboard on 100,000 instances and 1,000,000 tasks, built with bulk inserts.

Run: ``.venv/bin/python tests/benchmarks/dashboard.py [--pg URL] [--sqlite] [--instances N] [--rounds R]``.
It deploys the four processes into a fresh database, inserts instances (a year of starts, most completed),
ten tasks per instance, key data and end events, then times the dashboard page, its JSON, the instance
list and a heatmap through the app with a logged-in manager. Nothing here asserts a time: the figures are
printed for the release notes.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

# Run as a script from tests/benchmarks, whose neighbours would shadow the engine package.
ROOT = Path(__file__).resolve().parents[2]
sys.path[0] = str(ROOT)

from engine import definitions, make_engine, make_session_factory, people  # noqa: E402
from engine.models import HumanTask, InstanceFact, ProcessInstance  # noqa: E402
from engine.schema import upgrade  # noqa: E402
from engine.services.facts import STAGE_OUTCOMES  # noqa: E402
from web import create_app  # noqa: E402

NOW = datetime.now(UTC)
STATUSES = ["completed"] * 70 + ["running"] * 20 + ["error"] * 4 + ["suspended"] * 3 + ["terminated"] * 3
KEY_DATA = {
    "complaint": {"category": ["product_quality", "delivery", "service_attitude", "billing"], "tier": ["vip", "key"]},
    "sales": {"credit_rating": ["A", "B", "C", "D"], "discount_decision": ["approve", "reject"]},
    "recruitment": {"level": ["junior", "senior", "manager"]},
    "promotion": {"goal_met": ["true", "false"]},
}
ENDS = {
    "complaint": ["End_ComplaintClosed"],
    "sales": ["EndEvent_Won", "EndEvent_LostNegotiation", "EndEvent_LostCredit"],
    "recruitment": ["EndEvent_PlanFilled", "EndEvent_PlanClosed"],
    "promotion": ["End_PromotionClosed"],
}


def build(url: str, count: int, tasks_per_instance: int) -> None:
    """Fill a fresh database with ``count`` instances and ``tasks_per_instance`` tasks each."""
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        people.create_user(session, "boss", "boss", ["team-lead"], ["staff", "manager"], "Boss")
        definitions.deploy_paths(session, [ROOT / "processes"], "bench")
        versions = {p.key: definitions.version_row(session, p.key) for p in definitions.list_processes(session)}
        elements = {key: [e for e in definitions.meta_for(session, v.id) if e] for key, v in versions.items()}
    rng = random.Random(7)
    keys = sorted(versions)
    started_all = time.perf_counter()
    with engine.begin() as conn:
        instance_rows: list[dict[str, Any]] = []
        for n in range(1, count + 1):
            key = keys[n % len(keys)]
            status = rng.choice(STATUSES)
            started = NOW - timedelta(seconds=rng.uniform(0, 365 * 86400))
            hours = rng.uniform(1, 24 * 20)
            ended = started + timedelta(hours=hours) if status in ("completed", "terminated") else None
            instance_rows.append(
                {
                    "id": n,
                    "process_version_id": versions[key].id,
                    "process_key": key,
                    "version": versions[key].version,
                    "title": f"{key} {n}",
                    "status": status,
                    "data": {},
                    "workflow": "{}",
                    "completed_elements": [],
                    "started_by": "boss",
                    "started_at": started,
                    "ended_at": ended,
                    "row_version": 1,
                    "cycle_seconds": hours * 3600 if status == "completed" else None,
                    "end_event_id": rng.choice(ENDS[key]) if status == "completed" else None,
                    "end_event_name": "end" if status == "completed" else None,
                    "error_message": "boom" if status == "error" else None,
                    "error_element_id": elements[key][0] if status == "error" else None,
                }
            )
        _insert(conn, ProcessInstance.__table__, instance_rows)
        fact_rows = [
            {"instance_id": r["id"], "process_key": r["process_key"], "name": name, "value": rng.choice(values)}
            | {"number": None, "updated_at": NOW}
            for r in instance_rows
            for name, values in KEY_DATA[r["process_key"]].items()
        ]
        _insert(conn, InstanceFact.__table__, fact_rows)
        task_id = 0
        batch: list[dict[str, Any]] = []
        for r in instance_rows:
            open_one = r["status"] in ("running", "error", "suspended")
            for step in range(tasks_per_instance):
                task_id += 1
                element = elements[r["process_key"]][step % len(elements[r["process_key"]])]
                created = r["started_at"] + timedelta(hours=step * 2)
                is_open = open_one and step == tasks_per_instance - 1
                outcome = None
                if (r["process_key"], element) in STAGE_OUTCOMES and not is_open:
                    outcome = "pass" if rng.random() < 0.7 else "fail"
                batch.append(
                    {
                        "id": task_id,
                        "instance_id": r["id"],
                        "spiff_task_id": str(uuid.UUID(int=task_id)),
                        "process_key": r["process_key"],
                        "element_id": element,
                        "name": element,
                        "group_id": rng.choice(["service", "sales", "hr", "team-lead", "promotion", "risk"]),
                        "assignee": rng.choice([None, "boss"]) if is_open else "boss",
                        "status": "open" if is_open else "completed",
                        "due_at": created + timedelta(hours=rng.uniform(1, 96)),
                        "priority": 50,
                        "form": [],
                        "documentation": "",
                        "created_at": created,
                        "completed_at": None if is_open else created + timedelta(minutes=rng.uniform(5, 3000)),
                        "completed_by": None if is_open else "boss",
                        "notified_at": created,
                        "outcome": outcome,
                    }
                )
                if len(batch) >= 20_000:
                    _insert(conn, HumanTask.__table__, batch)
                    batch = []
        _insert(conn, HumanTask.__table__, batch)
        if engine.dialect.name == "postgresql":
            for table in ("process_instance", "human_task"):
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10000000)"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    print(f"  built {count:,} instances and {task_id:,} tasks in {time.perf_counter() - started_all:.0f} s")
    engine.dispose()


def _insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 20_000):
        conn.execute(sa.insert(table), rows[start : start + 20_000])


def measure(url: str, rounds: int) -> dict[str, float]:
    """Median milliseconds of each managers' request, after one warm-up call."""
    definitions.clear_cache()
    with tempfile.TemporaryDirectory() as folder:
        import os

        os.environ["TEAMFLOW_INSTANCE_PATH"] = folder
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
        client = app.test_client()
        assert client.post("/login", data={"username": "boss", "password": "boss"}).status_code == 302
        requests = {
            "dashboard page": "/monitor/",
            "dashboard JSON": "/api/v1/monitor/dashboard",
            "dashboard, 52 weeks": "/monitor/?period=52w",
            "instance list, overdue": "/monitor/instances?overdue=1",
            "instance list, search": "/monitor/instances?q=sales%2012&process=sales",
            "heatmap (complaint)": "/monitor/processes/complaint/heatmap?days=90",
        }
        results = {}
        for name, path in requests.items():
            assert client.get(path).status_code == 200, path
            samples = []
            for _ in range(rounds):
                begin = time.perf_counter()
                response = client.get(path)
                samples.append((time.perf_counter() - begin) * 1000)
                assert response.status_code == 200
            results[name] = statistics.median(samples)
        app.extensions["engine"]["db_engine"].dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL server URL whose user may create databases")
    parser.add_argument("--sqlite", action="store_true", help="also measure on SQLite")
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=10, help="tasks per instance")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    targets: list[tuple[str, str, Any]] = []
    if args.pg:
        name = f"teamflow_bench_{uuid.uuid4().hex[:6]}"
        admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(args.pg).set(database=name).render_as_string(hide_password=False)

        def drop(name: str = name) -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        targets.append(("PostgreSQL", url, drop))
    if args.sqlite or not args.pg:
        folder = tempfile.mkdtemp()
        targets.append(("SQLite", f"sqlite:///{folder}/bench.db", None))
    for label, url, cleanup in targets:
        print(f"{label}:")
        try:
            build(url, args.instances, args.tasks)
            for name, ms in measure(url, args.rounds).items():
                print(f"  {name:<28} {ms:8.1f} ms")
        finally:
            if cleanup:
                cleanup()


if __name__ == "__main__":
    main()

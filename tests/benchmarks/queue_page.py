"""Time one group's queue page at a year's volume: bulk-insert open and completed tasks, then GET it over HTTP.

Run: ``.venv/bin/python tests/benchmarks/queue_page.py [--open N] [--completed N] [--pg URL] [--requests N]``.
It prints the median and p95 time and the size of the queue page (and its next page, and a filtered
view) for the user ``service``, on SQLite and, when ``--pg`` is given, on PostgreSQL. ``--keep`` leaves the
filled databases in place and prints their URLs; ``--url URL`` measures such a database again without
filling it (after ``teamflow db upgrade``, say). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

# Run as a script from tests/, whose engine/ test folder would shadow the engine package.
sys.path[0] = str(Path(__file__).resolve().parents[2])

from werkzeug.serving import make_server  # noqa: E402

from engine import definitions, people, utcnow  # noqa: E402
from engine.models import HumanTask, ProcessInstance, TaskCandidate  # noqa: E402
from engine.schema import upgrade  # noqa: E402
from web import create_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
GROUP = "service"
BATCH = 20_000


def _fill(url: str, open_tasks: int, completed: int) -> None:
    """Create the demo users, deploy processes/ and insert the tasks in bulk, ten completed per open one."""
    engine = sa.create_engine(url)
    factory = sa.orm.sessionmaker(engine)
    with factory.begin() as session:
        people.create_user(session, "service", "demo", [GROUP], ["staff"], "客服 刘洋")
        people.create_user(session, "service2", "demo", [GROUP], ["staff"], "客服 二")
        definitions.deploy_paths(session, [ROOT / "processes"], "system")
        version_id = session.scalar(sa.text("SELECT id FROM process_version WHERE key = 'complaint'"))
    now = utcnow()
    per_instance = max(1, completed // max(open_tasks, 1))
    instance_cols = ProcessInstance.__table__
    task_cols = HumanTask.__table__
    cand_cols = TaskCandidate.__table__
    task_id = 0
    with engine.begin() as conn:
        for start in range(0, open_tasks, BATCH):
            count = min(BATCH, open_tasks - start)
            conn.execute(
                instance_cols.insert(),
                [
                    {
                        "id": start + i + 1,
                        "process_version_id": version_id,
                        "process_key": "complaint",
                        "version": 1,
                        "title": f"客户投诉 {start + i + 1}",
                        "status": "running",
                        "data": {},
                        "workflow": "{}",
                        "completed_elements": [],
                        "started_by": "service",
                        "started_at": now - timedelta(minutes=start + i),
                        "row_version": 1,
                    }
                    for i in range(count)
                ],
            )
            tasks, candidates = [], []
            for i in range(count):
                instance_id = start + i + 1
                for round_ in range(per_instance + 1):
                    task_id += 1
                    done = round_ < per_instance
                    created = now - timedelta(minutes=instance_id, seconds=per_instance - round_)
                    tasks.append(
                        {
                            "id": task_id,
                            "instance_id": instance_id,
                            "spiff_task_id": str(uuid.UUID(int=task_id)),
                            "process_key": "complaint",
                            "element_id": "Task_Investigate" if done else "Task_FirstResponse",
                            "name": "调查处理" if done else "首次响应客户",
                            "group_id": GROUP,
                            "assignee": "service2" if done else None,
                            "status": "completed" if done else "open",
                            "due_at": None if instance_id % 3 == 0 else created + timedelta(hours=4),
                            "priority": 50 + (instance_id % 5) * 10,
                            "form": [],
                            "documentation": "",
                            "created_at": created,
                            "completed_at": created if done else None,
                            "completed_by": "service2" if done else None,
                            "notified_at": created,
                        }
                    )
                    candidates.append({"task_id": task_id, "group_id": GROUP})
            conn.execute(task_cols.insert(), tasks)
            conn.execute(cand_cols.insert(), candidates)
        if engine.dialect.name == "postgresql":
            for table in ("process_instance", "human_task"):
                conn.execute(sa.text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
            conn.execute(sa.text("ANALYZE"))
        else:
            conn.execute(sa.text("ANALYZE"))
    engine.dispose()


def _measure(url: str, requests: int, paths: list[str]) -> dict[str, tuple[float, float, int]]:
    """Serve the app on a free port, log in as ``service`` and time GETs of each path."""
    instance = tempfile.mkdtemp(prefix="tf-queue-")
    os.environ["TEAMFLOW_INSTANCE_PATH"] = instance
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    body = urllib.parse.urlencode({"username": "service", "password": "demo"}).encode()
    opener.open(f"{base}/login", body).read()
    results = {}
    for path in paths:
        samples, size = [], 0
        for _ in range(requests):
            started = time.perf_counter()
            with opener.open(f"{base}{path}") as response:
                size = len(response.read())
                assert response.status == 200
            samples.append(time.perf_counter() - started)
        samples.sort()
        p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
        results[path] = (statistics.median(samples) * 1000, p95 * 1000, size)
    server.shutdown()
    app.extensions["engine"]["db_engine"].dispose()
    return results


def _report(target: str, results: dict[str, tuple[float, float, int]]) -> None:
    for path, (median, p95, size) in results.items():
        print(f"{target:<10} GET {path:<36} median {median:8.1f} ms  p95 {p95:8.1f} ms  {size / 1024:10.1f} KiB")


def _pg_database(url: str) -> tuple[str, sa.Engine, str]:
    name = f"teamflow_queue_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False), admin, name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=100_000, help="open tasks in the group")
    parser.add_argument("--completed", type=int, default=1_000_000, help="completed tasks in the group")
    parser.add_argument("--requests", type=int, default=20, help="GETs per page")
    parser.add_argument("--pg", help="a PostgreSQL URL whose server may create a scratch database")
    parser.add_argument("--keep", action="store_true", help="keep the filled databases")
    parser.add_argument("--no-sqlite", action="store_true", help="with --pg: PostgreSQL only")
    parser.add_argument("--url", help="measure this filled database again, without filling it")
    parser.add_argument("--paths", default="/,/?page=2,/?process=complaint&overdue=1")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    paths = args.paths.split(",")
    if args.url:
        upgrade(args.url)
        # Indexes added by the upgrade have no planner statistics until the database is analysed again.
        engine = sa.create_engine(args.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
        engine.dispose()
        _report(args.url.split(":")[0], _measure(args.url, args.requests, paths))
        return
    targets = ([] if args.no_sqlite and args.pg else ["sqlite"]) + (["postgresql"] if args.pg else [])
    for target in targets:
        admin = name = None
        if target == "sqlite":
            folder = tempfile.mkdtemp(prefix="tf-queue-db-")
            url = f"sqlite:///{folder}/queue.db"
        else:
            url, admin, name = _pg_database(args.pg)
        upgrade(url)
        started = time.perf_counter()
        _fill(url, args.open, args.completed)
        print(
            f"{target}: inserted {args.open:,} open and {args.completed:,} completed tasks "
            f"in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        _report(target, _measure(url, args.requests, paths))
        if args.keep:
            print(f"kept: {url}")
        elif admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()

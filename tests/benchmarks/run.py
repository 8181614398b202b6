"""Measure Teamflow where users feel it, side by side in one run, and print a table (``--json FILE`` too).

Run: ``.venv/bin/python tests/benchmarks/run.py [--quick | --smoke] [--json FILE] [--pg URL]``.

- raw: SpiffWorkflow alone in memory (deserialize, complete one user task, run on, serialize), sampled
  alternately with the engine step below, in the same process, so that both see the same machine;
- engine: the complete-task service (load, step, save, commit) on SQLite and PostgreSQL; ratio = engine / raw;
- history: the engine step after 10, 100 and 1,000 rework rounds of one instance (SQLite);
- queues: p95 of "my groups' tasks" and "my tasks" with 1,000,000 completed and 100,000 open tasks
  (bulk inserted; ``--quick`` uses a tenth, ``--smoke`` a thousandth) on both databases;
- http_single: median complete-task over HTTP, one client, ``teamflow serve`` on SQLite as the README
  serves it, with an API token and with HTTP Basic;
- http: complete-task throughput and p95 of ``teamflow serve --workers 4`` on PostgreSQL with 8 concurrent
  clients on 127.0.0.1, each on its own instances; memory: the peak RSS of a web worker during that run;
- timers: lateness (fired minus due) of 1,000 timers (``--quick`` 300) with ``teamflow worker`` running.

Nothing here asserts a time. ``tests/test_benchmark.py`` runs ``--smoke`` so that the script cannot rot.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
# Run as a script from tests/benchmarks: make the repository's packages importable first.
sys.path[0] = str(ROOT)

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.camunda.parser import CamundaParser  # noqa: E402
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from engine import definitions, instances, make_engine, make_session_factory, people, task_queue, tokens  # noqa: E402
from engine.bpmn.scripting import SCRIPT_ENGINE  # noqa: E402
from engine.models import AuditEvent, HumanTask, ProcessInstance, TaskCandidate  # noqa: E402
from engine.schema import upgrade  # noqa: E402

DATA = ROOT / "tests" / "engine" / "data"
LOOP = DATA / "loop.bpmn"
TIMERS = DATA / "timers.bpmn"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GROUPS = ["team-lead", "promotion", "sales", "service", "hr", "risk", "departments"]
TARGETS = {
    "ratio_sqlite": ("<=", 1.5),
    "ratio_postgres": ("<=", 2.0),
    "history_ratio_1000_10": ("<=", 2.0),
    "http_single_ms": ("<=", 5.0),
    "http_single_basic_ms": ("<=", 5.0),
    "queue_p95_ms": ("<=", 20.0),
    "http_per_s": (">=", 200.0),
    "http_p95_ms": ("<=", 50.0),
    "timer_late_p99_ms": ("<=", 1000.0),
}


@dataclass(frozen=True)
class Sizes:
    """How much each part measures: full run, ``--quick`` (under 3 minutes) or ``--smoke`` (the test)."""

    name: str
    samples: int
    history: tuple[int, ...]
    completed_tasks: int
    open_tasks: int
    queue_samples: int
    http_single: int
    http_seconds: float
    timers: int

    @staticmethod
    def of(mode: str) -> Sizes:
        if mode == "smoke":
            return Sizes("smoke", 5, (10, 20), 1_000, 100, 3, 5, 2.0, 10)
        if mode == "quick":
            return Sizes("quick", 60, (10, 100, 1000), 100_000, 10_000, 15, 60, 10.0, 300)
        return Sizes("full", 300, (10, 100, 1000), 1_000_000, 100_000, 50, 300, 30.0, 1000)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def clock(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


# ---- raw and engine -------------------------------------------------------------------------------


class RawStep:
    """SpiffWorkflow alone: deserialize, complete the ready task, run the engine steps, serialize."""

    def __init__(self) -> None:
        parser = CamundaParser()
        parser.add_bpmn_file(str(LOOP))
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
        workflow = BpmnWorkflow(
            parser.get_spec("loop"), parser.get_subprocess_specs("loop"), script_engine=SCRIPT_ENGINE
        )
        workflow.do_engine_steps()
        self.state = self.serializer.serialize_json(workflow)
        # Ten rounds deep, then every measured step starts from that state (the baseline never prunes).
        for _ in range(10):
            self.step(keep=True)

    def step(self, keep: bool = False) -> None:
        workflow = self.serializer.deserialize_json(self.state)
        workflow.script_engine = SCRIPT_ENGINE
        [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
        task.data["done"] = False
        task.run()
        workflow.do_engine_steps()
        text = self.serializer.serialize_json(workflow)
        if keep:
            self.state = text


class EngineStep:
    """The complete-task service on one instance of the loop process: load, step, save, commit."""

    def __init__(self, url: str) -> None:
        upgrade(url)
        self.db = make_engine(url)
        self.factory = make_session_factory(self.db)
        with self.factory.begin() as session:
            if people.find_user(session, "bench") is None:
                people.create_user(session, "bench", "secret", ["sales"])
            definitions.deploy_paths(session, [LOOP], "bench")
            self.instance_id = instances.start_instance(session, "loop", "bench", {}, "bench").id
        self.task_id = self._open_task()

    def _open_task(self) -> int:
        with self.factory() as session:
            [task] = task_queue.list_tasks(session, instance_id=self.instance_id, status="open")
            return task.id

    def step(self) -> float:
        """Complete the open task; return the seconds it took (finding the next task is not timed)."""
        start = time.perf_counter()
        with self.factory.begin() as session:
            instances.complete_task(session, self.task_id, "bench", {"done": False})
        took = time.perf_counter() - start
        self.task_id = self._open_task()
        return took

    def close(self) -> None:
        self.db.dispose()


def engine_vs_raw(url: str, sizes: Sizes) -> tuple[float, float, float, float]:
    """Median raw and engine step, sampled alternately, in wall and in this process's CPU seconds.

    The engine instance is warmed by ten steps first. CPU time leaves out waiting for a busy machine (and
    the database server's own work), so it shows the engine's overhead when the wall clock is noisy.
    """
    raw = RawStep()
    engine = EngineStep(url)
    try:
        for _ in range(10):
            engine.step()
        raws, steps, raw_cpu, step_cpu = [], [], [], []
        for _ in range(sizes.samples):
            cpu = time.process_time()
            raws.append(clock(raw.step))
            raw_cpu.append(time.process_time() - cpu)
            cpu = time.process_time()
            steps.append(engine.step())
            step_cpu.append(time.process_time() - cpu)
        medians = (statistics.median(x) for x in (raws, steps, raw_cpu, step_cpu))
        return tuple(medians)  # type: ignore[return-value]
    finally:
        engine.close()


def history(url: str, sizes: Sizes) -> dict[str, float]:
    """The engine step's median after each number of rework rounds of one instance."""
    engine = EngineStep(url)
    figures: dict[str, float] = {}
    rounds = 0
    try:
        for target in sizes.history:
            while rounds < target:
                engine.step()
                rounds += 1
            samples = [engine.step() for _ in range(max(5, sizes.samples // 4))]
            rounds += len(samples)
            figures[str(target)] = ms(statistics.median(samples))
    finally:
        engine.close()
    return figures


# ---- queues ---------------------------------------------------------------------------------------


def fill_queues(url: str, completed: int, open_: int) -> None:
    """Bulk insert completed and open tasks over many instances; bench holds some, its group has many."""
    engine = EngineStep(url)
    factory = engine.factory
    rng = random.Random(7)
    now = datetime.now(UTC)
    with factory.begin() as session:
        version_id = session.scalar(sa.select(ProcessInstance.process_version_id).limit(1))
        instance_rows = [
            {
                "process_version_id": version_id,
                "process_key": "loop",
                "version": 1,
                "title": f"bulk {n}",
                "status": "running",
                "data": {},
                "workflow": "{}",
                "completed_elements": [],
                "started_by": "bench",
                "started_at": now,
                "row_version": 1,
            }
            for n in range(1000)
        ]
        session.execute(sa.insert(ProcessInstance), instance_rows)
        instance_ids = list(session.scalars(sa.select(ProcessInstance.id).where(ProcessInstance.title.like("bulk %"))))
        first_bulk_id = (session.scalar(sa.select(sa.func.max(HumanTask.id))) or 0) + 1
    users = [f"user{n}" for n in range(200)] + ["bench"]

    def rows(count: int, status: str) -> Iterator[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = []
        for n in range(count):
            group = GROUPS[n % len(GROUPS)]
            created = now - timedelta(minutes=rng.randrange(0, 525_600))
            assignee = rng.choice(users) if status == "completed" or rng.random() < 0.2 else None
            batch.append(
                {
                    "instance_id": instance_ids[n % len(instance_ids)],
                    "spiff_task_id": f"{n:036d}",
                    "process_key": "loop",
                    "element_id": "Task_Work",
                    "name": "工作",
                    "group_id": group,
                    "assignee": assignee,
                    "status": status,
                    "due_at": created + timedelta(days=3) if n % 3 else None,
                    "priority": 50,
                    "form": [],
                    "documentation": "",
                    "created_at": created,
                    "completed_at": created + timedelta(hours=2) if status == "completed" else None,
                    "completed_by": assignee if status == "completed" else None,
                }
            )
            if len(batch) == 5000:
                yield batch
                batch = []
        if batch:
            yield batch

    for status, count in (("completed", completed), ("open", open_)):
        for batch in rows(count, status):
            with factory.begin() as session:
                session.execute(sa.insert(HumanTask), batch)
    with factory.begin() as session:
        open_ids = session.execute(
            sa.select(HumanTask.id, HumanTask.group_id).where(HumanTask.status == "open", HumanTask.id >= first_bulk_id)
        ).all()
        for start in range(0, len(open_ids), 5000):
            chunk = open_ids[start : start + 5000]
            session.execute(sa.insert(TaskCandidate), [{"task_id": i, "group_id": g} for i, g in chunk])
    with engine.db.connect() as conn:
        if engine.db.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
    engine.close()


def queue_p95(url: str, sizes: Sizes) -> dict[str, float]:
    """p95 of bench's first page of "my groups' tasks" and "my tasks" over a filled database.

    Each read is the queue page's own: the first page with its capped count, as the queue page and
    GET /api/v1/queue read it, in a session of its own (as a request has).
    """
    fill_queues(url, sizes.completed_tasks, sizes.open_tasks)
    db = make_engine(url)
    factory = make_session_factory(db)
    figures: dict[str, float] = {}
    try:
        for name, which in (("groups", "groups"), ("mine", "mine")):

            def once(which: str = which) -> None:
                with factory() as session:
                    task_queue.queue_page(session, "bench", which)

            once()
            figures[name] = ms(p95([clock(once) for _ in range(sizes.queue_samples)]))
            cpu = time.process_time()
            for _ in range(sizes.queue_samples):
                once()
            figures[f"{name}_cpu"] = ms((time.process_time() - cpu) / sizes.queue_samples)
        with factory() as session:
            for name in ("groups", "mine"):
                page = task_queue.queue_page(session, "bench", name)
                figures[f"{name}_rows"] = len(page.tasks)
                figures[f"{name}_total"] = page.total
    finally:
        db.dispose()
    return figures


# ---- servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def site_env(folder: Path, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "TEAMFLOW_DATABASE_URL": url,
        "TEAMFLOW_INSTANCE_PATH": str(folder / "instance"),
        "PYTHONPATH": str(ROOT),
    }


def prepare_site(url: str) -> str:
    """The schema, the loop and timer processes, a user ``bench`` (password ``secret``); return its API token."""
    upgrade(url)
    db = make_engine(url)
    try:
        with make_session_factory(db).begin() as session:
            people.create_user(session, "bench", "secret", ["sales", "service"])
            definitions.deploy_paths(session, [LOOP, TIMERS], "bench")
            _view, token = tokens.create_token(session, "bench", "benchmark")
    finally:
        db.dispose()
    return token


@contextmanager
def server(env: dict[str, str], *args: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "serve", "--port", str(port), *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/login")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if time.time() > deadline or process.poll() is not None:
                    raise RuntimeError("teamflow serve did not start") from None
                time.sleep(0.2)
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


class Client:
    """One API client on a kept-alive connection, completing the loop task of its own instances."""

    def __init__(self, port: int, authorization: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": authorization, "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        self.conn.request(method, path, json.dumps(body) if body is not None else None, self.headers)
        response = self.conn.getresponse()
        payload = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:200]!r}")
        return json.loads(payload)

    def start(self) -> int:
        detail = self.call("POST", "/api/v1/processes/loop/instances", {"title": "bench", "data": {}})
        return int(detail["tasks"][0]["id"])

    def complete(self, task_id: int) -> tuple[float, int]:
        start = time.perf_counter()
        result = self.call("POST", f"/api/v1/tasks/{task_id}/complete", {"data": {"done": False}})
        took = time.perf_counter() - start
        return took, int(result["instance"]["tasks"][0]["id"])


def http_single(sizes: Sizes, folder: Path) -> dict[str, float]:
    """Median complete-task over HTTP on ``teamflow serve`` (SQLite), with a token and with Basic."""
    url = f"sqlite:///{folder / 'single.db'}"
    env = site_env(folder, url)
    token = prepare_site(url)
    basic = "Basic " + base64.b64encode(b"bench:secret").decode()
    figures = {}
    with server(env) as (port, process):
        for name, authorization in (("token", f"Bearer {token}"), ("basic", basic)):
            client = Client(port, authorization)
            task_id = client.start()
            for _ in range(5):
                _took, task_id = client.complete(task_id)
            samples = []
            cpu = tree_cpu_seconds(process.pid)
            for _ in range(sizes.http_single):
                took, task_id = client.complete(task_id)
                samples.append(took)
            figures[name] = ms(statistics.median(samples))
            figures[f"{name}_server_cpu"] = ms((tree_cpu_seconds(process.pid) - cpu) / sizes.http_single)
    return figures


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process and its children so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def peak_rss_mb(pid: int) -> float:
    """The largest peak RSS (VmHWM) among a process's children."""
    peak = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) != pid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (OSError, ValueError):
            continue
    return round(peak / 1024, 1)


def http_load(sizes: Sizes, folder: Path, pg_url: str, clients: int = 8, workers: int = 4) -> dict[str, float]:
    """Throughput and p95 of complete-task with ``--workers 4`` on PostgreSQL and 8 concurrent clients."""
    env = site_env(folder, pg_url)
    token = prepare_site(pg_url)
    with server(env, "--workers", str(workers)) as (port, process):
        ready = []
        for _ in range(clients):
            client = Client(port, f"Bearer {token}")
            ready.append((client, client.start()))
        samples: list[float] = []
        lock = threading.Lock()
        stop_at = time.perf_counter() + sizes.http_seconds
        errors: list[BaseException] = []

        def work(client: Client, task_id: int) -> None:
            mine = []
            try:
                while time.perf_counter() < stop_at:
                    took, task_id = client.complete(task_id)
                    mine.append(took)
            except BaseException as exc:  # noqa: BLE001 - reported after the run
                errors.append(exc)
            with lock:
                samples.extend(mine)

        threads = [threading.Thread(target=work, args=pair) for pair in ready]
        cpu = tree_cpu_seconds(process.pid)
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        if errors:
            raise RuntimeError(f"http run failed: {errors[0]}")
        rss = peak_rss_mb(process.pid)
        server_cpu = (tree_cpu_seconds(process.pid) - cpu) / max(1, len(samples))
    return {
        "per_s": round(len(samples) / elapsed, 1),
        "p95": ms(p95(samples)),
        "rss": rss,
        "server_cpu_ms": ms(server_cpu),
    }


# ---- timers ---------------------------------------------------------------------------------------


def timer_lateness(sizes: Sizes, folder: Path, pg_url: str) -> dict[str, float]:
    """Start instances whose timer falls due a few seconds later while ``teamflow worker`` runs; measure."""
    env = site_env(folder, pg_url)
    prepare_site(pg_url)
    worker = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = make_engine(pg_url)
    factory = make_session_factory(db)
    try:
        time.sleep(2)  # the worker is up and asleep
        for n in range(sizes.timers):
            with factory.begin() as session:
                instances.start_instance(session, "timers", "bench", {"deadline": "PT3S"}, f"timer {n}")
        deadline = time.time() + 120 + sizes.timers * 0.2
        events: list[AuditEvent] = []
        while time.time() < deadline:
            with factory() as session:
                events = list(session.scalars(sa.select(AuditEvent).where(AuditEvent.type == "timer_fired")))
            if len(events) >= sizes.timers:
                break
            time.sleep(0.5)
        late = [(e.at - datetime.fromisoformat(e.data["due_at"])).total_seconds() for e in events]
        if len(late) < sizes.timers:
            raise RuntimeError(f"only {len(late)} of {sizes.timers} timers fired")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        db.dispose()
    return {"p50": ms(percentile(late, 0.5)), "p99": ms(percentile(late, 0.99))}


# ---- databases, the table, main -------------------------------------------------------------------


@contextmanager
def fresh_pg(admin_url: str, name: str) -> Iterator[str]:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(sizes: Sizes, pg_admin: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    tag = f"{os.getpid()}"
    with tempfile.TemporaryDirectory() as folder_text:
        folder = Path(folder_text)
        raw_s, sqlite_s, raw_cpu_s, sqlite_cpu = engine_vs_raw(f"sqlite:///{folder / 'engine.db'}", sizes)
        with fresh_pg(pg_admin, f"teamflow_bench_engine_{tag}") as url:
            raw_p, pg_s, raw_cpu_p, pg_cpu = engine_vs_raw(url, sizes)
        result["raw_step_ms"] = ms(statistics.median([raw_s, raw_p]))
        result["engine_step_ms_sqlite"] = ms(sqlite_s)
        result["engine_step_ms_postgres"] = ms(pg_s)
        result["ratio_sqlite"] = round(sqlite_s / raw_s, 2)
        result["ratio_postgres"] = round(pg_s / raw_p, 2)
        result["cpu"] = {
            "raw_step_ms": ms(statistics.median([raw_cpu_s, raw_cpu_p])),
            "engine_step_ms_sqlite": ms(sqlite_cpu),
            "engine_step_ms_postgres": ms(pg_cpu),
            "ratio_sqlite": round(sqlite_cpu / raw_cpu_s, 2),
            "ratio_postgres": round(pg_cpu / raw_cpu_p, 2),
        }
        print(f"  engine: sqlite {ms(sqlite_s)} ms, postgres {ms(pg_s)} ms", file=sys.stderr)

        steps = history(f"sqlite:///{folder / 'history.db'}", sizes)
        result["history_step_ms"] = steps
        first, last = steps[str(sizes.history[0])], steps[str(sizes.history[-1])]
        result["history_ratio_1000_10"] = round(last / first, 2)
        print(f"  history: {steps}", file=sys.stderr)

        queues = {"sqlite": queue_p95(f"sqlite:///{folder / 'queues.db'}", sizes)}
        with fresh_pg(pg_admin, f"teamflow_bench_queues_{tag}") as url:
            queues["postgres"] = queue_p95(url, sizes)
        result["queue_p95_ms"] = max(q[k] for q in queues.values() for k in ("groups", "mine"))
        result["queue_detail"] = queues
        print(f"  queues: {queues}", file=sys.stderr)

        single = http_single(sizes, folder)
        result["http_single_ms"] = single["token"]
        result["http_single_basic_ms"] = single["basic"]
        result["cpu"]["http_single_server_ms"] = single["token_server_cpu"]
        result["cpu"]["http_single_basic_server_ms"] = single["basic_server_cpu"]
        print(f"  http single: {single}", file=sys.stderr)

        with fresh_pg(pg_admin, f"teamflow_bench_http_{tag}") as url:
            load = http_load(sizes, folder / "http", url)
        result["http_per_s"] = load["per_s"]
        result["http_p95_ms"] = load["p95"]
        result["web_rss_mb"] = load["rss"]
        result["cpu"]["http_server_ms_per_complete"] = load["server_cpu_ms"]
        print(f"  http: {load}", file=sys.stderr)

        with fresh_pg(pg_admin, f"teamflow_bench_timers_{tag}") as url:
            late = timer_lateness(sizes, folder / "timers", url)
        result["timer_late_p50_ms"] = late["p50"]
        result["timer_late_p99_ms"] = late["p99"]
    return result


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"


def table(result: dict[str, Any], sizes: Sizes) -> str:
    rows = [
        ("raw_step_ms", "SpiffWorkflow alone, in memory", ""),
        ("engine_step_ms_sqlite", "complete-task service, SQLite", ""),
        ("engine_step_ms_postgres", "complete-task service, PostgreSQL", ""),
        ("ratio_sqlite", "engine / raw, SQLite", "ratio_sqlite"),
        ("ratio_postgres", "engine / raw, PostgreSQL", "ratio_postgres"),
        ("history_step_ms", "step after N rework rounds (ms)", ""),
        (
            "history_ratio_1000_10",
            f"step at {sizes.history[-1]} / step at {sizes.history[0]} rounds",
            "history_ratio_1000_10",
        ),
        (
            "queue_p95_ms",
            f"worst queue p95, {sizes.completed_tasks:,} done + {sizes.open_tasks:,} open",
            "queue_p95_ms",
        ),
        ("http_single_ms", "complete over HTTP, API token (SQLite)", "http_single_ms"),
        ("http_single_basic_ms", "complete over HTTP, Basic (SQLite)", "http_single_basic_ms"),
        ("http_per_s", "completes/s, --workers 4, 8 clients (PostgreSQL)", "http_per_s"),
        ("http_p95_ms", "p95 of those completes", "http_p95_ms"),
        ("timer_late_p50_ms", f"timer lateness p50, {sizes.timers} timers", ""),
        ("timer_late_p99_ms", "timer lateness p99", "timer_late_p99_ms"),
        ("web_rss_mb", "peak RSS of a web worker (MB)", ""),
    ]
    lines = [f"{'figure':<24} {'value':>12}  {'target':>9}  {'met':<4} what", "-" * 100]
    for key, what, target_key in rows:
        value = result.get(key)
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else f"{value}"
        target, met = "", ""
        if target_key in TARGETS:
            op, bound = TARGETS[target_key]
            target = f"{op} {bound:g}"
            met = "yes" if (value <= bound if op == "<=" else value >= bound) else "NO"
        lines.append(f"{key:<24} {shown:>12}  {target:>9}  {met:<4} {what}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="smaller sizes, under 3 minutes")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes: proves the script still runs")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--pg", default=os.environ.get("TEAMFLOW_TEST_PG_URL", PG_DEFAULT))
    args = parser.parse_args()
    sizes = Sizes.of("smoke" if args.smoke else "quick" if args.quick else "full")
    began = time.perf_counter()
    print(f"Teamflow benchmark ({sizes.name}) on {machine()}", file=sys.stderr)
    result = measure(sizes, args.pg)
    result["mode"] = sizes.name
    result["machine"] = machine()
    result["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    result["seconds"] = round(time.perf_counter() - began, 1)
    print(table(result, sizes))
    print("CPU time (leaves out waiting for a busy machine):", json.dumps(result["cpu"]))
    print(f"{sizes.name} run took {result['seconds']} s; {result['date']}; {result['machine']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

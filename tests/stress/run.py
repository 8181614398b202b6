"""Several processes, one database: a bounded stress run over loopback.

Starts two ``teamflow serve --no-timers`` servers and two ``teamflow worker`` processes on a fresh
PostgreSQL database (``--sqlite``: one of each on an SQLite file in WAL mode), deploys the demo and a
process with a one-second timer, then lets client threads start instances and race on completing the
same tasks while one server and one worker are killed with SIGKILL and restarted. Afterwards it checks:

- every completion answered 200 is stored exactly once with its data (audit event and human_task row),
  and no task was completed twice;
- no 5xx outside the kill window (connection errors to the killed server are expected);
- every timer fired exactly once;
- every instance's open human_task rows match its workflow's ready user tasks;
- every instance completes.

Prints a summary and exits non-zero on any failure. ``--quick`` is small enough for CI.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEAMFLOW = ROOT / ".venv" / "bin" / "teamflow"
PROCESS_FILE = ROOT / "tests" / "engine" / "data" / "stress_timer.bpmn"
PROCESS_KEY = "stress_timer"
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
USER, PASSWORD = "service", "demo"
SECRET_KEY = "stress-run-shared-secret-key-0123456789abcdef"
REQUEST_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Outcome:
    """Every request the clients made, for the checks."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[str] = field(default_factory=Counter)
    server_errors: list[tuple[float, str, int, str]] = field(default_factory=list)
    connection_errors: list[tuple[float, str]] = field(default_factory=list)
    completed_200: list[tuple[int, str]] = field(default_factory=list)  # (task id, note)
    started_201: list[int] = field(default_factory=list)  # instance ids
    requests: int = 0

    def note(self, kind: str, status: int) -> None:
        with self.lock:
            self.requests += 1
            self.statuses[f"{kind} {status}"] += 1


class Topology:
    """The servers and workers, their logs and their restarts."""

    def __init__(self, env: dict[str, str], workdir: Path, servers: int, workers: int) -> None:
        self.env = env
        self.workdir = workdir
        self.ports = [free_port() for _ in range(servers)]
        self.servers: list[subprocess.Popen[bytes] | None] = [None] * servers
        self.workers: list[subprocess.Popen[bytes] | None] = [None] * workers
        self.down: set[int] = set()  # ports of servers killed and not yet back

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        folder = self.workdir / name
        folder.mkdir(exist_ok=True)
        env = dict(self.env, TEAMFLOW_INSTANCE_PATH=str(folder))
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        return subprocess.Popen([str(TEAMFLOW), *args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def start_server(self, i: int) -> None:
        args = ["serve", "--no-timers", "--host", "127.0.0.1", "--port", str(self.ports[i])]
        self.servers[i] = self._spawn(f"server{i}", args)

    def start_worker(self, i: int) -> None:
        self.workers[i] = self._spawn(f"worker{i}", ["worker"])

    def start_all(self) -> None:
        for i in range(len(self.servers)):
            self.start_server(i)
        for i in range(len(self.workers)):
            self.start_worker(i)
        for i in range(len(self.servers)):
            self.wait_ready(i)

    def wait_ready(self, i: int, limit: float = 60.0) -> None:
        deadline = time.monotonic() + limit
        url = f"http://127.0.0.1:{self.ports[i]}/api/v1/openapi.json"
        while time.monotonic() < deadline:
            proc = self.servers[i]
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"server{i} exited with {proc.returncode}; see its log")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                    if response.status == 200:
                        self.down.discard(self.ports[i])
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"server{i} not ready after {limit:g}s")

    def kill(self, proc: subprocess.Popen[bytes] | None) -> None:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in [*self.servers, *self.workers]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in [*self.servers, *self.workers]:
            if proc is None:
                continue
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill(proc)


class Client:
    """A JSON API client with Basic credentials or a token, against whichever server is up."""

    def __init__(self, topology: Topology, outcome: Outcome, auth: str) -> None:
        self.topology = topology
        self.outcome = outcome
        self.auth = auth

    def call(self, kind: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send one request; a connection error to a killed server is retried on another (bounded)."""
        give_up = time.monotonic() + 60.0  # long enough for a killed server to come back
        while time.monotonic() < give_up:
            ports = [p for p in self.topology.ports if p not in self.topology.down] or self.topology.ports
            port = random.choice(ports)
            data = json.dumps(body).encode() if body is not None else None
            request = urllib.request.Request(  # noqa: S310 - loopback only
                f"http://127.0.0.1:{port}/api/v1{path}",
                data=data,
                method=method,
                headers={"Authorization": self.auth, "Content-Type": "application/json", "Accept": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310
                    status, text = response.status, response.read()
            except urllib.error.HTTPError as exc:
                status, text = exc.code, exc.read()
            except OSError as exc:
                with self.outcome.lock:
                    self.outcome.connection_errors.append((time.monotonic(), f"{kind} :{port} {exc}"))
                if method == "POST" and kind == "complete":
                    return 0, None  # unknown whether it was stored: not retried, settled by the finishing pass
                time.sleep(0.2)
                continue
            self.outcome.note(kind, status)
            if status >= 500:
                with self.outcome.lock:
                    self.outcome.server_errors.append(
                        (time.monotonic(), kind, status, text[:300].decode(errors="replace"))
                    )
            try:
                return status, json.loads(text) if text else None
            except json.JSONDecodeError:
                return status, None
        return 0, None


def create_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"stress_{os.getpid()}_{random.randrange(10**6)}"
    with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cli(env: dict[str, str], workdir: Path, *args: str) -> str:
    run_env = dict(env, TEAMFLOW_INSTANCE_PATH=str(workdir / "cli"))
    result = subprocess.run(
        [str(TEAMFLOW), *args], env=run_env, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"teamflow {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def first_task(instance: Any, element: str) -> int | None:
    for task in (instance or {}).get("tasks", []):
        if task.get("element_id") == element:
            return int(task["id"])
    return None


def race(clients: list[Client], outcome: Outcome, task_id: int, racers: int, tag: str) -> None:
    """Let ``racers`` clients complete one task at the same moment, each with its own note."""
    barrier = threading.Barrier(racers)

    def one(k: int) -> None:
        note = f"{tag}-racer{k}"
        try:
            barrier.wait(timeout=10)
        except threading.BrokenBarrierError:
            pass
        status, _ = clients[k % len(clients)].call(
            "complete", "POST", f"/tasks/{task_id}/complete", {"data": {"note": note}}
        )
        if status == 200:
            with outcome.lock:
                outcome.completed_200.append((task_id, note))

    threads = [threading.Thread(target=one, args=(k,)) for k in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=REQUEST_TIMEOUT * 3)


def db_state(url: str) -> Any:
    """Open the database through the engine, for the checks."""
    from engine import make_engine, make_session_factory

    engine = make_engine(url)
    return engine, make_session_factory(engine)


def check_projection(factory: Any) -> list[str]:
    """Every running instance's open human_task rows against its workflow's ready user tasks."""
    from sqlalchemy import select

    from engine.bpmn import runner
    from engine.models import ProcessInstance
    from engine.repositories import tasks as tasks_repo
    from engine.services import projection

    problems = []
    with factory() as session:
        for instance in session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)):
            workflow = projection.load(session, instance)
            ready = {t.spiff_id for t in runner.ready_tasks(workflow)}
            open_rows = [row.spiff_task_id for row in tasks_repo.open_for_instance(session, instance.id)]
            if Counter(open_rows) != Counter(ready):
                problems.append(f"instance {instance.id}: open tasks {sorted(open_rows)} but ready {sorted(ready)}")
    return problems


def wait_for_timers(factory: Any, deadline: float) -> None:
    """Wait (bounded) until no timer of the stress process waits."""
    from sqlalchemy import func, select

    from engine.models import ProcessInstance, Timer

    while time.monotonic() < deadline:
        with factory() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(Timer)
                .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                .where(ProcessInstance.process_key == PROCESS_KEY)
            )
        if not waiting:
            return
        time.sleep(0.3)


def open_tasks(factory: Any) -> dict[int, list[tuple[int, str]]]:
    """Open tasks per running instance: (task id, element id)."""
    from sqlalchemy import select

    from engine.models import HumanTask, ProcessInstance

    with factory() as session:
        rows = session.execute(
            select(HumanTask.instance_id, HumanTask.id, HumanTask.element_id)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(HumanTask.status == "open", ProcessInstance.process_key == PROCESS_KEY)
        ).all()
    result: dict[int, list[tuple[int, str]]] = {}
    for instance_id, task_id, element in rows:
        result.setdefault(instance_id, []).append((task_id, element))
    return result


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    deadline = started + args.time_limit
    workdir = Path(tempfile.mkdtemp(prefix="teamflow-stress-"))
    db_name = None
    if args.sqlite:
        url = f"sqlite:///{workdir / 'teamflow.db'}"
        servers, workers = 1, 1
    else:
        db_name, url = create_database(args.admin_url)
        servers, workers = 2, 2
    env = dict(
        os.environ,
        TEAMFLOW_DATABASE_URL=url,
        TEAMFLOW_SECRET_KEY=SECRET_KEY,
        TEAMFLOW_TIMER_POLL_SECONDS="0.5",
    )
    env.pop("TEAMFLOW_ENV", None)
    topology = Topology(env, workdir, servers, workers)
    outcome = Outcome()
    failures: list[str] = []
    figures: dict[str, Any] = {
        "database": "sqlite (WAL)" if args.sqlite else "postgresql",
        "servers": servers,
        "workers": workers,
    }
    engine = None
    try:
        cli(env, workdir, "demo")
        cli(env, workdir, "deploy", str(PROCESS_FILE))
        token = cli(env, workdir, "token", "create", USER, "--name", "stress").strip().splitlines()[-1].strip()
        basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        topology.start_all()
        figures["setup seconds"] = round(time.monotonic() - started, 1)
        clients = [Client(topology, outcome, basic if i % 2 else f"Bearer {token}") for i in range(args.clients)]

        kill_window: list[float] = []
        started_count = 0
        count_lock = threading.Lock()
        kill_at = args.instances // 2
        kill_done = threading.Event()

        def killer() -> None:
            while not kill_done.is_set():
                with count_lock:
                    if started_count >= kill_at:
                        break
                time.sleep(0.05)
            kill_window.append(time.monotonic())
            topology.down.add(topology.ports[0])
            topology.kill(topology.servers[0])
            topology.kill(topology.workers[0])
            time.sleep(1.0)
            topology.start_worker(0)
            topology.start_server(0)
            topology.wait_ready(0)
            # Requests already sent to the killed server and answered late still count as in the window.
            kill_window.append(time.monotonic() + 2.0)

        kill_thread = threading.Thread(target=killer)
        kill_thread.start()

        def job(n: int) -> None:
            nonlocal started_count
            if time.monotonic() > deadline:
                return
            client = clients[n % len(clients)]
            status, instance = client.call(
                "start", "POST", f"/processes/{PROCESS_KEY}/instances", {"title": f"stress {n}"}
            )
            with count_lock:
                started_count += 1
            if status != 201:
                return
            with outcome.lock:
                outcome.started_201.append(int(instance["id"]))
            task_id = first_task(instance, "Task_First")
            if task_id is None:
                return
            if n < args.raced:
                race(clients, outcome, task_id, args.racers, f"i{n}")
            else:
                race(clients, outcome, task_id, 1, f"i{n}")

        with ThreadPoolExecutor(max_workers=max(1, args.clients // 2)) as pool:
            list(pool.map(job, range(args.instances)))
        kill_done.set()
        kill_thread.join(timeout=90)
        figures["load seconds"] = round(time.monotonic() - started - figures["setup seconds"], 1)

        engine, factory = db_state(url)
        # Quiet point: once every timer has fired nothing moves until a client acts, so each instance's
        # task rows must match its workflow exactly.
        wait_for_timers(factory, deadline)
        failures += [f"projection after load: {p}" for p in check_projection(factory)]
        # Finish: complete whatever is open (first steps whose completion was lost to the kill, second steps
        # once their timer fired) until every instance of the stress process is done or time runs out.
        finisher = clients[0]
        while time.monotonic() < deadline:
            pending = open_tasks(factory)
            from sqlalchemy import func, select

            from engine.models import ProcessInstance

            with factory() as session:
                running = session.scalar(
                    select(func.count()).where(
                        ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.status == "running"
                    )
                )
            if not running:
                break
            for tasks in pending.values():
                for task_id, element in tasks:
                    note_field = "note" if element == "Task_First" else "note2"
                    note = f"finish-{task_id}"
                    status, _ = finisher.call(
                        "complete", "POST", f"/tasks/{task_id}/complete", {"data": {note_field: note}}
                    )
                    if status == 200 and element == "Task_First":
                        with outcome.lock:
                            outcome.completed_200.append((task_id, note))
            time.sleep(0.5)
        figures["total seconds"] = round(time.monotonic() - started, 1)

        failures += verify(factory, outcome, kill_window)
        failures += [f"projection: {p}" for p in check_projection(factory)]
        figures["requests"] = outcome.requests
        figures["connection errors (killed server)"] = len(outcome.connection_errors)
        figures["statuses"] = dict(sorted(outcome.statuses.items()))
        if time.monotonic() > deadline:
            failures.append(f"time limit of {args.time_limit:g}s reached")
    except Exception as exc:  # noqa: BLE001 - any setup failure is a failed run, reported in the summary
        failures.append(f"run aborted: {exc.__class__.__name__}: {exc}")
    finally:
        topology.stop_all()
        if engine is not None:
            engine.dispose()
        if db_name is not None:
            try:
                drop_database(args.admin_url, db_name)
            except Exception as exc:  # noqa: BLE001
                failures.append(f"could not drop database {db_name}: {exc}")
        logs = {p.name: p.read_text(errors="replace") for p in workdir.glob("*.log")}
        tracebacks = sum(text.count("Traceback") for text in logs.values())
        figures["tracebacks in server/worker logs"] = tracebacks
        if args.keep:
            figures["logs"] = str(workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print("stress summary")
    for key, value in figures.items():
        print(f"  {key}: {value}")
    if failures:
        print(f"FAILED ({len(failures)} problem(s)):")
        for problem in failures[:50]:
            print(f"  - {problem}")
        return 1
    print("OK")
    return 0


def verify(factory: Any, outcome: Outcome, kill_window: list[float]) -> list[str]:
    from sqlalchemy import select

    from engine.models import AuditEvent, HumanTask, ProcessInstance

    problems: list[str] = []
    window = (kill_window[0], kill_window[1]) if len(kill_window) == 2 else None
    if window is None:
        problems.append("the kill did not happen")
    for at, kind, status, text in outcome.server_errors:
        if window is None or not window[0] <= at <= window[1]:
            problems.append(f"{kind} answered {status} outside the kill window: {text}")
    winners = Counter(task_id for task_id, _ in outcome.completed_200)
    for task_id, count in winners.items():
        if count > 1:
            problems.append(f"task {task_id} answered 200 to {count} completions")
    with factory() as session:
        completed = {
            e.data.get("task_id"): e for e in session.scalars(select(AuditEvent).where(AuditEvent.type == "completed"))
        }
        audit_counts = Counter(
            e.data.get("task_id") for e in session.scalars(select(AuditEvent).where(AuditEvent.type == "completed"))
        )
        for task_id, note in outcome.completed_200:
            row = session.get(HumanTask, task_id)
            if row is None or row.status != "completed" or (row.submitted or {}).get("note") != note:
                problems.append(f"task {task_id}: answered 200 with {note!r} but stored {row and row.submitted}")
            if audit_counts[task_id] != 1:
                problems.append(f"task {task_id}: {audit_counts[task_id]} completion events")
            elif completed[task_id].data.get("data", {}).get("note") != note:
                problems.append(f"task {task_id}: audit holds {completed[task_id].data.get('data')}, answered {note!r}")
        for task_id, count in audit_counts.items():
            if count != 1:
                problems.append(f"task {task_id}: completed {count} times in the audit")
        instances = session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == PROCESS_KEY)).all()
        fired = Counter(
            e.instance_id for e in session.scalars(select(AuditEvent).where(AuditEvent.type == "timer_fired"))
        )
        stored = {instance.id for instance in instances}
        for instance_id in outcome.started_201:
            if instance_id not in stored:
                problems.append(f"instance {instance_id} answered 201 but is not stored")
        if len(set(outcome.started_201)) != len(outcome.started_201):
            problems.append("two starts answered 201 with the same instance id")
        for instance in instances:
            if instance.status != "completed":
                problems.append(f"instance {instance.id} is {instance.status}, not completed")
            if fired[instance.id] != 1:
                problems.append(f"instance {instance.id}: its timer fired {fired[instance.id]} times")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", action="store_true", help="one server and one worker on an SQLite file (WAL)")
    parser.add_argument("--quick", action="store_true", help="a short run for CI")
    parser.add_argument("--instances", type=int, default=None)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--racers", type=int, default=5, help="clients racing on each raced task")
    parser.add_argument("--raced", type=int, default=None, help="how many instances have their task raced")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds for the whole run")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="PostgreSQL database to create the run's database from")
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs")
    args = parser.parse_args()
    if args.instances is None:
        args.instances = 30 if args.quick else 220
    if args.raced is None:
        args.raced = min(args.instances, 10 if args.quick else 40)
    if args.time_limit is None:
        args.time_limit = 180.0 if args.quick else 900.0
    args.instances = max(4, min(args.instances, 2000))
    args.clients = max(1, min(args.clients, 32))
    args.racers = max(1, min(args.racers, 16))
    return run(args)


if __name__ == "__main__":
    sys.exit(main())

"""Measure Teamflow's step costs as ratios against plain in-memory SpiffWorkflow, in one run.

Run: ``.venv/bin/python tests/benchmark.py [--rounds N] [--pg URL]``. Nothing here asserts a time; the
figures are printed for the release notes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

# Run as a script from tests/, whose engine/ test folder would shadow the engine package.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.camunda.parser import CamundaParser  # noqa: E402
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from engine import definitions, instances, make_engine, make_session_factory, people, task_queue  # noqa: E402
from engine.bpmn.scripting import SCRIPT_ENGINE  # noqa: E402
from engine.schema import upgrade  # noqa: E402

LOOP = Path(__file__).resolve().parent / "engine" / "data" / "loop.bpmn"


def timed(action: Callable[[], object], rounds: int) -> float:
    """Median seconds of one call."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def in_memory_step(rounds: int) -> float:
    """Deserialize, complete the ready task, run engine steps, serialize: SpiffWorkflow alone."""
    parser = CamundaParser()
    parser.add_bpmn_file(str(LOOP))
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    workflow = BpmnWorkflow(parser.get_spec("loop"), parser.get_subprocess_specs("loop"), script_engine=SCRIPT_ENGINE)
    workflow.do_engine_steps()
    state = {"json": serializer.serialize_json(workflow)}

    def step(keep: bool = True) -> None:
        wf = serializer.deserialize_json(state["json"])
        wf.script_engine = SCRIPT_ENGINE
        [task] = wf.get_tasks(state=TaskState.READY, manual=True)
        task.data["done"] = False
        task.run()
        wf.do_engine_steps()
        text = serializer.serialize_json(wf)
        if keep:
            state["json"] = text

    # Ten rework rounds deep, then every measured step starts from that same state, so the baseline
    # does not slow down as the task tree grows (the engine prunes its trees; this baseline does not).
    for _ in range(10):
        step()
    return timed(lambda: step(keep=False), rounds)


def persisted_step(url: str, rounds: int) -> tuple[float, float]:
    """Complete a task through the services, one transaction per step; and read a queue of 200 tasks."""
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        if people.find_user(session, "bench") is None:
            people.create_user(session, "bench", "secret", ["sales"])
        definitions.deploy_paths(session, [LOOP], "bench")
        instance_id = instances.start_instance(session, "loop", "bench", {}, "bench").id
        for n in range(199):
            instances.start_instance(session, "loop", "bench", {}, f"queue {n}")

    def step() -> None:
        with factory.begin() as session:
            [task] = task_queue.list_tasks(session, instance_id=instance_id, status="open")
            instances.complete_task(session, task.id, "bench", {"done": False})

    def queue() -> None:
        with factory.begin() as session:
            task_queue.group_tasks(session, "bench")

    for _ in range(10):
        step()
    result = timed(step, rounds), timed(queue, rounds)
    engine.dispose()
    return result


@contextmanager
def fresh_pg_database(admin_url: str) -> Iterator[str]:
    """Create an empty database next to ``admin_url``'s, and drop it afterwards."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = "teamflow_bench"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    memory = in_memory_step(args.rounds)
    print(f"in-memory SpiffWorkflow step (deserialize, run, serialize): {memory * 1000:.2f} ms")
    with tempfile.TemporaryDirectory() as folder:
        sqlite_step, sqlite_queue = persisted_step(f"sqlite:///{folder}/bench.db", args.rounds)
    print(f"persisted step, SQLite:     {sqlite_step * 1000:.2f} ms  = {sqlite_step / memory:.1f}x in-memory")
    print(f"queue of 200 tasks, SQLite: {sqlite_queue * 1000:.2f} ms  = {sqlite_queue / memory:.1f}x one step")
    try:
        with fresh_pg_database(args.pg) as url:
            pg_step, pg_queue = persisted_step(url, args.rounds)
    except Exception as exc:  # noqa: BLE001 - the figure is optional
        print(f"PostgreSQL skipped: {exc.__class__.__name__}: {str(exc)[:80]}")
        return
    print(f"persisted step, PostgreSQL: {pg_step * 1000:.2f} ms  = {pg_step / memory:.1f}x in-memory")
    print(f"queue of 200 tasks, PG:     {pg_queue * 1000:.2f} ms  = {pg_queue / memory:.1f}x one step")


if __name__ == "__main__":
    main()

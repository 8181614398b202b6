"""Lost races over HTTP, on SQLite and PostgreSQL: one 200, every other answer a 409, no traceback logged."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import auth
from flask import Flask
from flask.testing import FlaskClient

from engine import definitions, instances, people, task_queue
from web import create_app

DATA = Path(__file__).resolve().parents[1] / "engine" / "data"
SELLERS = [f"seller{n}" for n in range(20)]


@pytest.fixture
def race_app(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """An app on the test database (both kinds) with twenty sales people and the simple process."""
    monkeypatch.setenv("TEAMFLOW_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "race-test", "WTF_CSRF_ENABLED": False})
    definitions.clear_cache()
    with app.extensions["engine"]["session_factory"].begin() as session:
        for name in SELLERS:
            people.create_user(session, name, "demo", ["sales"], ["staff"], name)
        people.create_user(session, "boss", "demo", ["team-lead"], ["staff", "manager"], "boss")
        definitions.deploy_paths(session, [DATA / "simple.bpmn"], "system")
    yield app
    app.extensions["engine"]["db_engine"].dispose()


def first_task(app: Flask) -> int:
    with app.extensions["engine"]["session_factory"].begin() as session:
        started = instances.start_instance(session, "simple", "seller0", {"divisor_check": 0}, "race")
    return started.tasks[0].id


def at_once(app: Flask, calls: list[Callable[[FlaskClient], Any]]) -> list[Any]:
    """Send each request from a client and thread of its own, all released together; return the responses."""
    barrier = threading.Barrier(len(calls))
    responses: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[FlaskClient], Any]) -> None:
        client = app.test_client()
        barrier.wait()
        responses[index] = call(client)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


def test_twenty_completions_of_one_task_give_one_200_and_nineteen_409s(
    race_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    task_id = first_task(race_app)
    caplog.set_level(logging.INFO)

    def complete(name: str, amount: int) -> Callable[[FlaskClient], Any]:
        url = f"/api/v1/tasks/{task_id}/complete"
        return lambda client: client.post(url, json={"data": {"amount": amount}}, headers=auth(name))

    responses = at_once(race_app, [complete(name, n + 1) for n, name in enumerate(SELLERS)])
    statuses = [r.status_code for r in responses]
    assert sorted(statuses) == [200] + [409] * 19, [r.get_data(as_text=True)[:300] for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert response.get_json()["error"] == "conflict" and response.get_json()["message"]
    winner = statuses.index(200)
    with race_app.extensions["engine"]["session_factory"]() as session:
        [done] = task_queue.list_tasks(session, status="completed")
        assert (done.id, done.completed_by) == (task_id, SELLERS[winner])
        assert instances.get_instance(session, done.instance_id).data["amount"] == winner + 1
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_the_task_page_of_a_lost_race_keeps_what_was_typed(race_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    task_id = first_task(race_app)

    def submit(name: str, note: str) -> Callable[[FlaskClient], Any]:
        def call(client: FlaskClient) -> Any:
            client.post("/login", data={"username": name, "password": "demo"})
            return client.post(
                f"/tasks/{task_id}", data={"amount": "7", "note": note}, headers={"Accept-Language": "en"}
            )

        return call

    responses = at_once(race_app, [submit(name, f"n{n}") for n, name in enumerate(SELLERS[:6])])
    statuses = [r.status_code for r in responses]
    assert sorted(statuses) == [302] + [409] * 5
    for n, response in enumerate(responses):
        if response.status_code == 409:
            html = response.get_data(as_text=True)
            assert "completed this task in the meantime" in html
            assert f"<dd>n{n}</dd>" in html and "<dd>7</dd>" in html
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_claims_and_a_managers_suspension_race_completions(race_app: Flask) -> None:
    task_id = first_task(race_app)
    with race_app.extensions["engine"]["session_factory"]() as session:
        instance_id = instances.get_task(session, task_id).summary.instance_id
    calls: list[Callable[[FlaskClient], Any]] = [
        lambda c, n=name: c.post(f"/api/v1/tasks/{task_id}/claim", headers=auth(n)) for name in SELLERS[:5]
    ]
    calls += [
        lambda c: c.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"amount": 600}}, headers=auth("seller9")),
        lambda c: c.post(f"/api/v1/instances/{instance_id}/suspend", headers=auth("boss")),
    ]
    responses = at_once(race_app, calls)
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 409}, [r.get_data(as_text=True)[:300] for r in responses]
    assert statuses[:5].count(200) <= 1 and statuses[-1] == 200

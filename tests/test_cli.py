"""The teamflow command: schema, deploy, users, demo, start, tasks, complete, worker and serve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from web.cli import main

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "engine" / "data"


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEAMFLOW_DATABASE_URL", db_url)
    monkeypatch.setenv("TEAMFLOW_INSTANCE_PATH", str(tmp_path / "instance"))
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def test_db_upgrade_and_deploy_print_versions(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("db", "upgrade").exit_code == 0
    first = cli("deploy", str(DATA / "simple.bpmn"), str(DATA / "loop.bpmn"))
    assert first.exit_code == 0
    assert "simple\tversion 1\tnew version" in first.output and "loop\tversion 1\tnew version" in first.output
    again = cli("deploy", str(DATA / "simple.bpmn"))
    assert "simple\tversion 1\tunchanged" in again.output


def test_deploy_with_a_fallback_group_warns_about_each_task(cli) -> None:  # type: ignore[no-untyped-def]
    cli("demo")
    refused = cli("deploy", str(DATA / "unknown_group.bpmn"))
    assert refused.exit_code == 1 and "Task_Accounting" in refused.output
    done = cli("deploy", str(DATA / "unknown_group.bpmn"), "--fallback-group", "team-lead")
    assert done.exit_code == 0, done.output
    assert "unknown_group\tversion 1\tnew version" in done.output
    assert done.output.count("warning: ") == 2 and "'team-lead'" in done.output
    unknown = cli("deploy", str(DATA / "unknown_group.bpmn"), "--fallback-group", "nobody")
    assert unknown.exit_code == 1 and "fallback group 'nobody' is not a known group" in unknown.output


def test_demo_is_idempotent_and_the_main_path_works(cli) -> None:  # type: ignore[no-untyped-def]
    first = cli("demo")
    assert first.exit_code == 0, first.output
    assert "lead" in first.output and "complaint\tversion 1\tnew version" in first.output
    second = cli("demo")
    assert "none (they exist)" in second.output
    assert "complaint\tversion 1\tunchanged" in second.output

    started = cli("deploy", str(DATA / "simple.bpmn"))
    assert started.exit_code == 0
    out = cli("start", "simple", "--data", '{"divisor_check": 0}', "--title", "CLI", "--user", "sales")
    assert out.exit_code == 0 and "running" in out.output
    task_id = out.output.split("task ")[1].split("\t")[0]
    listed = cli("tasks", "--user", "sales")
    assert f"{task_id}\tsimple" in listed.output
    denied = cli("complete", task_id, "--user", "service", "--data", '{"amount": 5}')
    assert denied.exit_code == 1 and denied.output.count("\n") == 1 and "error:" in denied.output
    invalid = cli("complete", task_id, "--user", "sales", "--data", '{"amount": "lots"}')
    assert invalid.exit_code == 1 and "amount: must be a whole number" in invalid.output
    done = cli("complete", task_id, "--user", "sales", "--data", '{"amount": 5}')
    assert done.exit_code == 0 and "completed" in done.output
    late = cli("complete", task_id, "--user", "sales", "--data", '{"amount": 6}')
    assert late.exit_code == 1 and late.output == f"error: task {task_id} is no longer open (it is completed)\n"


def test_user_add_and_errors_exit_non_zero_with_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    cli("db", "upgrade")
    ok = cli("user", "add", "amy", "--password", "secret1", "--group", "sales", "--group", "hr", "--role", "staff")
    assert ok.exit_code == 0 and "hr, sales" in ok.output
    for args, words in [
        (("user", "add", "amy", "--password", "secret1"), "exists"),
        (("user", "add", "bob", "--password", "secret1", "--group", "nope"), "unknown group"),
        (("user", "add", "bob", "--password", "secret1", "--role", "king"), "unknown role"),
        (("start", "nope"), "not found"),
        (("start", "nope", "--data", "{bad"), "not valid JSON"),
        (("start", "nope", "--data", "[1]"), "JSON object"),
        (("deploy", str(ROOT / "missing.bpmn")), "does not exist"),
        (("complete", "999", "--user", "amy"), "not found"),
        (("start", "nope", "--data", '{"x": NaN}'), "NaN is not a number JSON allows"),
    ]:
        result = cli(*args)
        assert result.exit_code == 1, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], (args, result.output)


def test_token_create_prints_a_token_the_api_accepts(cli) -> None:  # type: ignore[no-untyped-def]
    from web import create_app

    cli("demo")
    created = cli("token", "create", "lead", "--name", "nightly report", "--expires", "30")
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("tf_") and "expires" in created.output
    app = create_app()
    try:
        client = app.test_client()
        listed = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"})
        assert listed.status_code == 200, listed.get_data(as_text=True)
        assert client.get("/api/v1/tasks", headers={"Authorization": "Bearer tf_other"}).status_code == 401
    finally:
        app.extensions["engine"]["db_engine"].dispose()
    for args, message in [
        (("nobody", "--name", "x"), "not found"),
        (("lead", "--name", ""), "name:"),
        (("lead", "--name", "x", "--expires", "0"), "expires_days:"),
    ]:
        failed = cli("token", "create", *args)
        assert failed.exit_code == 1 and message in failed.output and "tf_" not in failed.output


def test_deploy_reports_definition_problems(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.bpmn"
    bad.write_text((DATA / "simple.bpmn").read_text().replace('candidateGroups="sales"', 'candidateGroups="x"'))
    result = cli("deploy", str(bad))
    assert result.exit_code == 1
    assert "bad.bpmn:" in result.output and "Task_Enter" in result.output and "not a known group" in result.output


def test_worker_once_fires_due_timers(cli) -> None:  # type: ignore[no-untyped-def]
    cli("demo")
    cli("deploy", str(DATA / "timers.bpmn"))
    cli("start", "timers", "--data", json.dumps({"deadline": "PT0.5S"}), "--user", "service")
    time.sleep(1)
    fired = cli("worker", "--once")
    assert "fired 1 timer(s)" in fired.output
    assert "升级处理" in cli("tasks", "--user", "lead").output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_and_fires_timers(tmp_path: Path, sqlite_template: Path) -> None:
    env = {
        **os.environ,
        "TEAMFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "TEAMFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
        "FLASK_TIMER_POLL_SECONDS": "0.2",
    }
    teamflow = [sys.executable, "-m", "web.cli"]
    subprocess.run([*teamflow, "demo"], env=env, check=True, capture_output=True)
    subprocess.run([*teamflow, "deploy", str(DATA / "timers.bpmn")], env=env, check=True, capture_output=True)
    subprocess.run(
        [*teamflow, "start", "timers", "--data", '{"deadline": "PT1S"}', "--user", "service"],
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    server = subprocess.Popen(
        [*teamflow, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.time() + 30
        page = ""
        while time.time() < deadline:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.3)
        assert "Teamflow" in page
        listed = ""
        while time.time() < deadline:
            listed = subprocess.run(
                [*teamflow, "tasks", "--user", "lead"], env=env, capture_output=True, text=True
            ).stdout
            if "升级处理" in listed:
                break
            time.sleep(0.5)
        assert "升级处理" in listed
    finally:
        server.terminate()
        server.wait(timeout=10)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_serve_with_two_workers_answers_and_fires_each_timer_once(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TEAMFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "TEAMFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
        "FLASK_TIMER_POLL_SECONDS": "0.5",
    }
    teamflow = [sys.executable, "-m", "web.cli"]
    subprocess.run([*teamflow, "demo"], env=env, check=True, capture_output=True)
    subprocess.run([*teamflow, "deploy", str(DATA / "timers.bpmn")], env=env, check=True, capture_output=True)
    created = subprocess.run(
        [*teamflow, "token", "create", "lead", "--name", "test"], env=env, check=True, capture_output=True, text=True
    )
    token = created.stdout.strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [*teamflow, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{base}/login", timeout=2).read()
                break
            except OSError:
                time.sleep(0.3)
        workers = []
        while time.time() < deadline and len(workers) < 2:
            workers = _children(server.pid)
            time.sleep(0.2)
        assert len(workers) == 2
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for n in range(3):
            body = json.dumps({"title": f"t{n}", "data": {"deadline": "PT1S"}}).encode()
            request = urllib.request.Request(f"{base}/api/v1/processes/timers/instances", body, headers)
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 201
        listed: list[dict[str, object]] = []
        while time.time() < deadline:
            request = urllib.request.Request(f"{base}/api/v1/tasks?scope=groups", headers=headers)
            with urllib.request.urlopen(request, timeout=10) as response:
                listed = json.load(response)
            if len(listed) >= 3:
                break
            time.sleep(0.3)
        time.sleep(1.5)  # time enough for a second firing, were there one
        with urllib.request.urlopen(urllib.request.Request(f"{base}/api/v1/tasks?scope=groups", headers=headers)) as r:
            listed = json.load(r)
        assert sorted(str(t["name"]) for t in listed) == ["升级处理"] * 3
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_an_unreachable_database_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMFLOW_INSTANCE_PATH", str(tmp_path))
    for url in ("postgresql+psycopg://nobody@127.0.0.1:1/x", "notaurl"):
        monkeypatch.setenv("TEAMFLOW_DATABASE_URL", url)
        result = CliRunner().invoke(main, ["tasks"])
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: database:"), result.output


def test_start_takes_a_business_key_unique_while_open(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("demo").exit_code == 0
    cli("deploy", str(DATA / "simple.bpmn"))
    first = cli("start", "simple", "--data", '{"divisor_check": 0}', "--business-key", "SO-5", "--user", "sales")
    assert first.exit_code == 0 and "[SO-5]" in first.output
    again = cli("start", "simple", "--business-key", "SO-5", "--user", "sales")
    assert again.exit_code == 1 and "SO-5" in again.output and again.output.count("\n") == 1

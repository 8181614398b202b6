"""The ``teamflow`` command: schema, deployments, users, demo data, instances, tasks, timers, server."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask

from engine import EngineError, InvalidInputError, definitions, instances, people, task_queue, timers, tokens, trials
from engine.schema import upgrade
from web.db import DATABASE_ERRORS, unit_of_work
from web.environment import ConfigError
from web.notify import send_pending

DEMO_PASSWORD = "demo"
DEMO_USERS = [
    # name, display name, groups, roles
    ("lead", "团队负责人 王磊", ["team-lead"], ["staff", "manager"]),
    ("promo", "市场推广 李娜", ["promotion"], ["staff"]),
    ("sales", "销售 张伟", ["sales"], ["staff"]),
    ("service", "客服 刘洋", ["service"], ["staff"]),
    ("hr", "人事 陈静", ["hr"], ["staff"]),
    ("risk", "风控 赵敏", ["risk"], ["staff"]),
    ("dept", "交付部门 孙强", ["departments"], ["staff"]),
    ("manager", "经理 周杰", ["team-lead"], ["staff", "manager"]),
    ("owner", "流程负责人 吴芳", [], ["owner"]),
    ("admin", "管理员", [], ["admin"]),
    ("worker", "外部系统", [], ["worker"]),
]


def _app() -> Flask:
    """Build the app for this command; its database connections close when the command ends."""
    from web import create_app

    app = create_app()
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(app.extensions["engine"]["db_engine"].dispose)
    return app


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _json_arg(text: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        _fail(f"{option} is not valid JSON: {exc.msg} at column {exc.colno}")
    except ValueError as exc:
        _fail(f"{option}: {exc}")
    if not isinstance(value, dict):
        _fail(f"{option} must be a JSON object")
    return value


def _run(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except InvalidInputError as exc:
        details = "; ".join(f"{p.field}: {p.message}" for p in exc.problems)
        _fail(details if details else exc.message)
    except EngineError as exc:
        _fail(exc.message.replace("\n", " "))


class TeamflowGroup(click.Group):
    """Turn failures to reach or read the database into the same one-line errors as everything else."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DATABASE_ERRORS as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            _fail(f"database: {first}")
        except ConfigError as exc:
            _fail(f"configuration: {exc}")


@click.group(cls=TeamflowGroup)
def main() -> None:
    """Teamflow: BPMN workflows for teams."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database to the newest schema."""
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    click.echo(f"database at newest schema: {_safe_url(app.config['DATABASE_URL'])}")


def _safe_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--user", "actor", default="system", help="Who deploys (recorded in the audit log).")
@click.option("--fallback-group", default=None, help="Group for user tasks that name no known group.")
def deploy(paths: tuple[Path, ...], actor: str, fallback_group: str | None) -> None:
    """Deploy BPMN/DMN files or folders; print each process's version."""
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    with unit_of_work(app) as session:
        results = _run(lambda: definitions.deploy_paths(session, list(paths), actor, fallback_group))
    for warning in dict.fromkeys(w for r in results for w in r.warnings):
        click.echo(f"warning: {warning}", err=True)
    for result in results:
        state = "new version" if result.created else "unchanged"
        click.echo(f"{result.key}\tversion {result.version}\t{state}")


@main.group()
def user() -> None:
    """Manage users."""


@user.command("add")
@click.argument("name")
@click.option("--password", required=True)
@click.option("--group", "groups", multiple=True, help="Group id; repeat for several.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    default=["staff"],
    show_default=True,
    help="staff, manager, owner or admin; repeat for several.",
)
@click.option("--display-name", default=None)
@click.option("--email", default=None)
def user_add(
    name: str,
    password: str,
    groups: tuple[str, ...],
    roles: tuple[str, ...],
    display_name: str | None,
    email: str | None,
) -> None:
    """Add a user with a hashed password."""
    app = _app()
    with unit_of_work(app) as session:
        view = _run(lambda: people.create_user(session, name, password, groups, roles, display_name, email))
    click.echo(f"user {view.name} added (groups: {', '.join(view.groups) or '-'}; roles: {', '.join(view.roles)})")


@main.group()
def token() -> None:
    """Manage personal API tokens."""


@token.command("create")
@click.argument("user_name", metavar="USER")
@click.option("--name", required=True, help="What the token is for, e.g. the script using it.")
@click.option("--expires", "days", type=int, default=None, help="Expire after this many days (default: never).")
def token_create(user_name: str, name: str, days: int | None) -> None:
    """Create an API token for a user and print it (shown this once; only its digest is stored)."""
    app = _app()
    with unit_of_work(app) as session:
        view, secret = _run(lambda: tokens.create_token(session, user_name, name, days))
    expiry = f"expires {view.expires_at:%Y-%m-%d %H:%M} UTC" if view.expires_at else "does not expire"
    click.echo(f"token {view.id} for {user_name} ({view.name}; {expiry}); copy it now, it is not shown again:")
    click.echo(secret)


@main.command()
def demo() -> None:
    """Create demo users for every group and role and deploy processes/ (safe to run again)."""
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    processes = app.extensions["engine"]["settings"].processes_dir
    with unit_of_work(app) as session:
        created = []
        for name, display, groups, roles in DEMO_USERS:
            if people.find_user(session, name) is None:
                people.create_user(session, name, DEMO_PASSWORD, groups, roles, display)
                created.append(name)
        results = _run(lambda: definitions.deploy_paths(session, [processes], "system"))
        scenarios = _run(
            lambda: trials.import_scenarios(session, sorted((processes / "scenarios").glob("*.json")), "system")
        )
    click.echo(f"demo users created: {', '.join(created) or 'none (they exist)'}; password: {DEMO_PASSWORD}")
    for result in results:
        click.echo(f"{result.key}\tversion {result.version}\t{'new version' if result.created else 'unchanged'}")
    click.echo(f"scenarios imported: {scenarios}")


@main.command("import-scenarios")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_scenarios(paths: tuple[Path, ...]) -> None:
    """Import scenario files (JSON: {"process": key, "scenarios": [...]}) for validate and deploy to run."""
    app = _app()
    with unit_of_work(app) as session:
        count = _run(lambda: trials.import_scenarios(session, list(paths), "system"))
    click.echo(f"scenarios imported: {count}")


@main.command()
@click.argument("key")
@click.option("--data", "data_text", default="{}", help="Initial data as a JSON object.")
@click.option("--title", default=None)
@click.option("--business-key", default=None, help="Your identifier of what the instance is about (unique while open).")
@click.option("--user", "actor", default="system")
def start(key: str, data_text: str, title: str | None, business_key: str | None, actor: str) -> None:
    """Start an instance of a process."""
    data = _json_arg(data_text, "--data")
    app = _app()
    with unit_of_work(app) as session:
        detail = _run(lambda: instances.start_instance(session, key, actor, data, title, business_key))
    keyed = f" [{detail.business_key}]" if detail.business_key else ""
    click.echo(f"instance {detail.id}{keyed} ({detail.process_key} v{detail.version}) {detail.status}")
    for task in detail.tasks:
        click.echo(f"  task {task.id}\t{task.name}\t{task.group or '-'}")


@main.command()
@click.option("--user", "user_name", default=None, help="Show this user's queues; all open tasks otherwise.")
def tasks(user_name: str | None) -> None:
    """List open tasks."""
    app = _app()
    with unit_of_work(app) as session:
        if user_name:
            rows = _run(lambda: task_queue.my_tasks(session, user_name) + task_queue.group_tasks(session, user_name))
        else:
            rows = task_queue.list_tasks(session, status="open")
    for t in rows:
        due = t.due_at.strftime("%Y-%m-%d %H:%M") if t.due_at else "-"
        click.echo(f"{t.id}\t{t.process_key}\t{t.instance_id}\t{t.name}\t{t.group or '-'}\t{t.assignee or '-'}\t{due}")
    if not rows:
        click.echo("no open tasks")


@main.command()
@click.argument("task_id", type=int)
@click.option("--user", "actor", required=True)
@click.option("--data", "data_text", default="{}", help="Form data as a JSON object.")
def complete(task_id: int, actor: str, data_text: str) -> None:
    """Complete a task with form data."""
    data = _json_arg(data_text, "--data")
    app = _app()
    with unit_of_work(app) as session:
        summary = _run(lambda: instances.complete_task(session, task_id, actor, data))
        detail = instances.get_instance(session, summary.instance_id)
    click.echo(f"task {task_id} completed; instance {detail.id} is {detail.status}")
    for task in detail.tasks:
        click.echo(f"  task {task.id}\t{task.name}\t{task.group or '-'}")


@main.command()
@click.option("--once", is_flag=True, help="Fire what is due now, then stop.")
def worker(once: bool) -> None:
    """Fire due timers and send task notifications in a loop."""
    app = _app()
    factory = app.extensions["engine"]["session_factory"]
    if once:
        click.echo(f"fired {timers.fire_due_timers(factory)} timer(s)")
        send_pending(app)
        return
    poll = app.extensions["engine"]["settings"].timer_poll_seconds
    click.echo(f"timer worker running (woken by new timers, at least every {poll:g}s); Ctrl+C stops it")
    try:
        background_loop(app, threading.Event())
    except KeyboardInterrupt:
        pass


def background_loop(app: Flask, stop: threading.Event) -> None:
    """Fire due timers and announce new tasks until ``stop`` is set, sleeping until the next timer is due."""
    factory = app.extensions["engine"]["session_factory"]
    poll = app.extensions["engine"]["settings"].timer_poll_seconds
    timers.run_loop(factory, stop, poll, lambda: send_pending(app))


def start_timer_thread(app: Flask) -> threading.Event:
    """Run the background loop in a thread of the web server; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=background_loop, args=(app, stop), name="teamflow-timers", daemon=True).start()
    return stop


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-timers", is_flag=True, help="Do not fire timers in this process (run `teamflow worker`).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Serve with this many processes through gunicorn (one of them fires timers); default: one process.",
)
def serve(host: str, port: int, no_timers: bool, workers: int | None) -> None:
    """Serve the web app (timers included)."""
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    where = f"http://{host}:{port}/ (database: {_safe_url(app.config['DATABASE_URL'])})"
    if workers is not None:
        from web.server import serve as gunicorn_serve

        app.extensions["engine"]["db_engine"].dispose()  # each worker opens its own connections
        click.echo(f"Teamflow on {where} with {workers} worker processes")
        gunicorn_serve(host, port, workers, not no_timers, app.instance_path)
        return
    from waitress import serve as waitress_serve

    if not no_timers:
        start_timer_thread(app)
    click.echo(f"Teamflow on {where}")
    waitress_serve(app, host=host, port=port, threads=8)


if __name__ == "__main__":
    main()

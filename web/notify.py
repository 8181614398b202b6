"""Mail the people who can work a new task: its assignee, else its group's members (SMTP, off by default)."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import Flask, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from engine import notifications, people
from engine.views import TaskSummary, UserView
from web.db import get_session, unit_of_work

log = logging.getLogger(__name__)


def recipients(task: TaskSummary, users: Iterable[UserView]) -> list[UserView]:
    """Who hears of a task: its assignee when it has one, else every member of its group; with e-mail only."""
    users = [u for u in users if u.email]
    if task.assignee:
        return [u for u in users if u.name == task.assignee]
    return [u for u in users if task.group and task.group in u.groups]


def _message(app: Flask, task: TaskSummary, user: UserView) -> EmailMessage:
    with force_locale(app.config.get("BABEL_DEFAULT_LOCALE") or "zh"):
        link = url_for("tasks.task", task_id=task.id, _external=True)
        message = EmailMessage()
        # The item a task is about (an applicant) tells apart tasks of one step in one case.
        name = f"{task.name} · {task.subject}" if task.subject else task.name
        message["Subject"] = _("New task: %(task)s (%(title)s)", task=name, title=task.instance_title)
        message["From"] = app.config["MAIL_SENDER"]
        message["To"] = formataddr((user.display_name, user.email or ""))
        message["Message-ID"] = make_msgid(domain="teamflow")
        message.set_content(
            _(
                "Hello %(name)s,\n\na new task waits for you or your group in Teamflow:\n\n"
                "%(process)s: %(title)s\n%(task)s\n\nOpen it here: %(link)s\n",
                name=user.display_name,
                process=task.process_name,
                title=task.instance_title,
                task=name,
                link=link,
            )
        )
    return message


def send_pending(app: Flask) -> int:
    """Announce every task nobody was told about yet (from pages, the API or timers); return mails sent.

    The engine hands each new task out once, so web processes and timer workers can all call this.
    With mail off the tasks are still marked, so that switching mail on later does not flood anyone.
    """
    with unit_of_work(app) as session:
        tasks = notifications.claim_new_tasks(session)
        users = people.list_users(session) if tasks and app.config.get("MAIL_SERVER") else []
    if not tasks or not users:
        return 0
    if has_request_context():
        return notify_new_tasks(app, tasks, users)
    with app.test_request_context(base_url=app.config.get("BASE_URL") or "http://localhost:5000/"):
        return notify_new_tasks(app, tasks, users)


def notify_new_tasks(app: Flask, tasks: Iterable[TaskSummary], users: Iterable[UserView] | None = None) -> int:
    """Mail the people of each new task; return how many mails went out.

    Mail is off while ``MAIL_SERVER`` is None. A failing server is logged and never fails the request,
    whose work is already committed. Call inside a request (links are built with ``url_for``).
    """
    server = app.config.get("MAIL_SERVER")
    tasks = list(tasks)
    if not server or not tasks:
        return 0
    if users is None:
        users = people.list_users(get_session())
    users = list(users)
    messages = [_message(app, task, user) for task in tasks for user in recipients(task, users)]
    if not messages:
        return 0
    try:
        with smtplib.SMTP(server, int(app.config.get("MAIL_PORT") or 25), timeout=10) as smtp:
            if app.config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if app.config.get("MAIL_USERNAME"):
                smtp.login(app.config["MAIL_USERNAME"], app.config.get("MAIL_PASSWORD") or "")
            for message in messages:
                smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send task notifications through %s", server)
        return 0
    return len(messages)

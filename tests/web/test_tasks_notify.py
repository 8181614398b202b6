"""E-mail about new tasks goes through the configured SMTP server, here a small one the test runs."""

from __future__ import annotations

import email
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from email.message import Message
from email.policy import default

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import people

Login = Callable[[str], FlaskClient]


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greet, accept every sender and recipient, keep each message."""

    def handle(self) -> None:
        server: MailSink = self.server  # type: ignore[assignment]
        self._say("220 sink ready")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._say("250 sink")
            elif verb == "MAIL":
                recipients = []
                self._say("250 ok")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self._say("250 ok")
            elif verb == "DATA":
                self._say("354 go on")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data[1:] if data.startswith(b"..") else data)
                server.messages.append((recipients, email.message_from_bytes(b"".join(lines), policy=default)))
                self._say("250 kept")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 ok")

    def _say(self, text: str) -> None:
        self.wfile.write(text.encode("ascii") + b"\r\n")


class MailSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.messages: list[tuple[list[str], Message]] = []


@pytest.fixture
def sink(app: Flask) -> Iterator[MailSink]:
    server = MailSink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.server_address[1], MAIL_SENDER="tf@example.org")
    with app.extensions["engine"]["session_factory"].begin() as session:
        people.create_user(session, "wang", "demo", ["service"], ["staff"], "客服 王芳", email="wang@example.org")
        people.create_user(session, "li", "demo", ["service"], ["staff"], "客服 李雷")  # no address
        people.create_user(session, "zhao", "demo", ["sales"], ["staff"], "销售 赵六", email="zhao@example.org")
    yield server
    server.shutdown()
    server.server_close()


def test_members_of_the_group_with_an_address_get_mail(sink: MailSink, login_as: Login) -> None:
    client = login_as("service")
    response = client.post("/start/complaint", data={"title": "物流投诉"})
    task_path = response.headers["Location"]
    assert [to for to, _msg in sink.messages] == [["wang@example.org"]]
    message = sink.messages[0][1]
    assert message["From"] == "tf@example.org"
    assert "登记投诉" in message["Subject"] and "物流投诉" in message["Subject"]
    body = message.get_body().get_content()
    assert "客服 王芳" in body and f"http://localhost{task_path}" in body

    client.post(
        task_path,
        data={
            "customer_name": "甲公司",
            "customer_contact": "1",
            "channel": "phone",
            "category": "billing",
            "tier": "standard",
            "description": "账单金额不对",
        },
    )
    assert len(sink.messages) == 2 and "首次响应客户" in sink.messages[1][1]["Subject"]


def test_no_mail_when_no_server_is_set(app: Flask, sink: MailSink, login_as: Login) -> None:
    app.config["MAIL_SERVER"] = None
    login_as("service").post("/start/complaint", data={"title": "无邮件"})
    assert sink.messages == []


def test_an_unreachable_server_does_not_fail_the_request(
    app: Flask, sink: MailSink, login_as: Login, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        app.config["MAIL_PORT"] = probe.getsockname()[1]  # nobody listens there
    response = login_as("service").post("/start/complaint", data={"title": "服务器不可达"})
    assert response.status_code == 302
    assert "could not send task notifications" in caplog.text


def test_tasks_from_timers_and_the_api_are_mailed_once(app: Flask, sink: MailSink) -> None:
    """New tasks reach the outbox whoever creates them; the background loop mails each exactly once."""
    from datetime import timedelta

    from engine import instances, timers, utcnow
    from web.notify import send_pending

    factory = app.extensions["engine"]["session_factory"]
    with factory.begin() as session:
        started = instances.start_instance(session, "complaint", "service", {}, "定时投诉")
        [record] = started.tasks
        instances.complete_task(
            session,
            record.id,
            "service",
            {
                "customer_name": "乙公司",
                "customer_contact": "2",
                "channel": "email",
                "category": "billing",
                "tier": "vip",
                "description": "同一笔订单被重复扣费",
            },
        )
    assert send_pending(app) == 1  # 首次响应客户 for wang; 登记投诉 was done before anyone was told
    assert send_pending(app) == 0  # each task is announced once
    assert timers.fire_due_timers(factory, utcnow() + timedelta(hours=3)) == 1
    with factory.begin() as session:
        from engine import people

        people.create_user(session, "boss", "demo", ["team-lead"], ["staff"], "负责人", email="boss@example.org")
    assert send_pending(app) == 1
    assert sink.messages[-1][0] == ["boss@example.org"] and "响应超时督办" in sink.messages[-1][1]["Subject"]
    assert "http://localhost:5000/tasks/" in sink.messages[-1][1].get_body().get_content()


def test_a_mail_names_the_item_the_task_is_about(app: Flask) -> None:
    from datetime import UTC, datetime

    from engine.views import TaskSummary, UserView
    from web.notify import _message

    task = TaskSummary(
        1,
        1,
        "招聘 销售专员",
        "recruitment",
        "招聘与选拔",
        "Task_ScreenResume",
        "简历筛选",
        "hr",
        None,
        None,
        50,
        "open",
        datetime.now(UTC),
        subject="赵磊",
    )
    with app.test_request_context():
        message = _message(app, task, UserView(1, "hr", "人事 陈静", ("hr",), ("staff",), "hr@example.org"))
    assert "简历筛选 · 赵磊" in message["Subject"]

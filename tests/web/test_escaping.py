"""Markup typed by users (titles, form values, comments) and put in URLs is shown as text, never run."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from engine import instances
from web.db import get_session

SCRIPT = '<script>alert("t")</script>'
IMAGE = "<img src=x onerror=alert(1)>"
RAW = ("<script>alert(", "<img src=x")


def assert_escaped(html: str, where: str) -> None:
    for raw in RAW:
        assert raw not in html, f"{where} shows {raw!r} as markup"


def test_markup_in_titles_values_and_comments_is_escaped(app: object, login_as: Callable[[str], FlaskClient]) -> None:
    client = login_as("service")
    started = client.post("/start/complaint", data={"title": f"投诉 {SCRIPT}"})
    assert started.status_code == 302
    match = re.search(r"/tasks/(\d+)$", started.headers["Location"])
    assert match
    record = int(match.group(1))
    data = {
        "customer_name": IMAGE,
        "customer_contact": "13800000000",
        "channel": "phone",
        "category": "delivery",
        "tier": "standard",
        "order_reference": SCRIPT[:30],
        "description": f"{SCRIPT} {IMAGE}",
    }
    assert client.post(f"/tasks/{record}", data=data).status_code == 302
    assert client.post(f"/tasks/{record}/comment", data={"text": f"备注 {SCRIPT}"}).status_code == 302

    queue = client.get("/").get_data(as_text=True)
    assert "&lt;script&gt;" in queue
    assert_escaped(queue, "the queue")
    following = int(re.findall(r'id="task-(\d+)"', queue)[0])
    for task_id in (record, following):
        page = client.get(f"/tasks/{task_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "&lt;script&gt;" in page
        assert_escaped(page, f"the page of task {task_id}")
    done = client.get("/completed").get_data(as_text=True)
    assert_escaped(done, "the completed list")
    # The values were stored as typed: escaping happens on display only.
    with app.app_context():  # type: ignore[attr-defined]
        stored = instances.get_task(get_session(), record).submitted or {}
    assert stored["customer_name"] == IMAGE


def test_markup_in_a_url_is_not_reflected_as_markup(login_as: Callable[[str], FlaskClient]) -> None:
    client = login_as("service")
    for path in (f"/no-such-page/{SCRIPT}", f"/?process={SCRIPT}", f"/tasks/{IMAGE}"):
        response = client.get(path)
        assert response.status_code in (200, 404)
        assert_escaped(response.get_data(as_text=True), path)
    api = client.get(f"/api/v1/processes/{SCRIPT}")
    assert api.status_code == 404 and api.mimetype == "application/json"

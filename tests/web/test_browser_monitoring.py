"""The managers' pages in Debian's chromium: an overdue complaint found and reassigned, a failed instance
corrected and retried, the diagram's markers and the heatmap's badges.

Screenshots in both languages and at phone width go to pytest-playwright's ``output_path``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

pytest.importorskip("playwright.sync_api")

from browser import new_page  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect  # noqa: E402

from engine import definitions, instances  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "static" / "dist"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (DIST / "charts.js").is_file(), reason="web/static/dist is not built"),
]
RECORD = {
    "customer_name": "华东贸易公司",
    "customer_contact": "13800000000",
    "channel": "phone",
    "category": "billing",
    "tier": "vip",
    "description": "账单金额与合同不符，客户要求更正。",
}


@pytest.fixture
def app(csrf_app: Flask) -> Flask:
    return csrf_app


def _engine(app: Flask, work: Any) -> Any:
    with app.extensions["engine"]["session_factory"].begin() as session:
        return work(session)


def _overdue_complaint(app: Flask, title: str) -> int:
    """A recorded complaint whose first response was due three hours ago; return the response task's id."""

    def work(session: Any) -> int:
        started = instances.start_instance(session, "complaint", "service", title=title)
        instances.complete_task(session, started.tasks[0].id, "service", RECORD)
        response = instances.get_instance(session, started.id).tasks[0]
        past = datetime.now(UTC) - timedelta(hours=3)
        instances.change_due_date(session, response.id, "manager", past, "模拟响应超时")
        return int(response.id)

    return int(_engine(app, work))


def _login(page: Page, base: str, user: str, lands_on: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", "demo")
    page.click("main form button[type=submit]")
    expect(page.locator(lands_on)).to_be_visible()


def _accept(dialog: Dialog) -> None:
    dialog.accept()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_manager_finds_an_overdue_complaint_and_reassigns_it(
    app: Flask, browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str, lang: str
) -> None:
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    title = f"账单投诉 {lang}"
    task_id = _overdue_complaint(app, title)
    page = new_page(contexts, browser, lang)
    page.on("dialog", _accept)
    _login(page, live_server, "lead", "#processes")  # managers land on the dashboard
    overdue = page.locator(f"#overdue tr.overdue-row[data-task-id='{task_id}']")
    expect(overdue).to_contain_text(title)
    expect(page.locator("#process-complaint .count-overdue")).to_have_text("1")
    expect(page.locator(".tf-chart[data-ready='1']").first).to_be_visible()
    page.screenshot(path=str(out / f"dashboard-{lang}.png"), full_page=True)

    overdue.locator("a.instance-link").click()
    block = page.locator(f"#task-{task_id}")
    expect(block.locator(".badge-danger")).to_be_visible()
    expect(page.locator("#diagram[data-flows='1']")).to_be_attached()
    page.screenshot(path=str(out / f"instance-{lang}.png"), full_page=True)
    form = block.locator("form.assign-form")
    form.locator("select[name=user]").select_option("service")
    form.locator("input[name=reason]").fill("客户来电催办，交给客服刘洋")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(block.locator(".assignee")).to_have_text("客服 刘洋")
    expect(page.locator("#audit li.audit-assigned .reason-note")).to_contain_text("客户来电催办")

    staff = new_page(contexts, browser, lang)
    _login(staff, live_server, "service", "#queues")
    expect(staff.locator("#queue-mine tr.task-row", has_text=title)).to_have_count(1)
    assert staff.goto(f"{live_server}/monitor/").status == 403


def test_manager_corrects_a_failed_instance_and_retries_it(
    app: Flask, browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str
) -> None:
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    # This version's first script needs an order reference: a complaint recorded without one fails there.
    strict = (ROOT / "processes" / "complaint.bpmn").read_text()
    strict = strict.replace(
        "unsatisfied_count = 0\n", "unsatisfied_count = 0 * (100 // len(order_reference or ''))\n", 1
    )
    assert "100 //" in strict

    def fail(session: Any) -> int:
        definitions.deploy(session, [("complaint.bpmn", strict.encode())], "system")
        started = instances.start_instance(session, "complaint", "service", title="账单投诉 缺订单号")
        instances.complete_task(session, started.tasks[0].id, "service", RECORD)
        return int(started.id)

    instance_id = _engine(app, fail)
    page = new_page(contexts, browser, "zh")
    page.on("dialog", _accept)
    _login(page, live_server, "manager", "#processes")
    page.click("a[href='/monitor/instances?error=1']")
    page.locator(f"tr.instance-row[data-instance-id='{instance_id}'] a.instance-link").click()
    expect(page.locator("#instance-error")).to_contain_text("ZeroDivisionError")
    diagram = page.locator("#diagram[data-flows='1']")
    expect(diagram).to_be_attached()
    # Markers come from the audit trail and the task table: done, failed, and the flows taken.
    expect(page.locator(".djs-element.tf-completed[data-element-id='Task_RecordComplaint']")).to_have_count(1)
    expect(page.locator(".djs-element.tf-error[data-element-id='Script_InitHandling']")).to_have_count(1)
    expect(page.locator(".djs-connection.tf-completed[data-element-id='Flow_ToRecord']")).to_have_count(1)
    expect(page.locator(".djs-connection.tf-completed[data-element-id='Flow_ToInit']")).to_have_count(1)
    expect(page.locator(".djs-connection.tf-completed[data-element-id='Flow_ToSeverity']")).to_have_count(0)
    page.screenshot(path=str(out / "failed-zh.png"), full_page=True)

    form = page.locator("#edit-data")
    form.locator("input[name=name]").fill("order_reference")
    form.locator("select[name=type]").select_option("text")
    form.locator("input[name=value]").fill("SO-2024-0815")
    form.locator("input[name=reason]").fill("客户补充了订单号")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("#data dd[data-name='order_reference']")).to_have_text("SO-2024-0815")
    page.locator("#action-retry input[name=reason]").fill("数据已更正")
    page.click("#action-retry button[type=submit]")
    expect(page.locator("#instance-status .status-running")).to_be_visible()
    expect(page.locator("#instance-error")).to_have_count(0)
    expect(page.locator("#diagram[data-flows='1']")).to_be_attached()
    expect(page.locator(".djs-element.tf-active[data-element-id='Task_FirstResponse']")).to_have_count(1)
    expect(page.locator(".djs-element.tf-completed[data-element-id='Script_InitHandling']")).to_have_count(1)
    expect(page.locator(".djs-connection.tf-completed[data-element-id='Flow_ToSeverity']")).to_have_count(1)
    expect(page.locator("#audit li.audit-data_changed .reason-note")).to_contain_text("客户补充了订单号")
    page.screenshot(path=str(out / "retried-zh.png"), full_page=True)


def test_heatmap_shows_waiting_badges_and_task_times(
    app: Flask, browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str
) -> None:
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    for n in range(2):
        _overdue_complaint(app, f"投诉 {n}")
    _engine(app, lambda s: instances.start_instance(s, "complaint", "service", title="刚登记"))
    page = new_page(contexts, browser, "en")
    _login(page, live_server, "lead", "#processes")
    page.click("#process-complaint a[href$='/heatmap']")
    expect(page.locator("#diagram[data-heat='1']")).to_be_attached()
    expect(page.locator(".djs-overlays[data-container-id='Task_FirstResponse'] .tf-badge")).to_have_text("2")
    expect(page.locator(".djs-overlays[data-container-id='Task_RecordComplaint'] .tf-badge")).to_have_text("1")
    # Two recordings were completed: their time in the task shows as a coloured badge.
    expect(page.locator(".djs-overlays[data-container-id='Task_RecordComplaint'] .tf-time")).to_have_count(1)
    expect(page.locator(".djs-element[data-element-id='Task_RecordComplaint'][class*='heat-']")).to_have_count(1)
    page.screenshot(path=str(out / "heatmap-en.png"), full_page=True)

    phone = new_page(contexts, browser, "zh", phone=True)
    _login(phone, live_server, "lead", "#processes")
    phone.screenshot(path=str(out / "dashboard-phone-zh.png"), full_page=True)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, f"the dashboard is {width}px wide on a 375px phone"

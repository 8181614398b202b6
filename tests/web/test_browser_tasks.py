"""Staff work their queues in Debian's chromium: record a complaint, claim, complete, languages, visibility.

Screenshots of the queue and of a task page, in both languages and on a phone, go to pytest-playwright's
``output_path`` (``test-results/<test>/``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

pytest.importorskip("playwright.sync_api")

from browser import PHONE, login, new_page  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, Page, expect  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "static" / "dist"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (DIST / "viewer.js").is_file() or not (DIST / "htmx.js").is_file(),
        reason="web/static/dist is not built: run `npm ci && npm run build` in web/",
    ),
]


@pytest.fixture
def app(csrf_app: Flask) -> Flask:
    """Serve the browser tests with CSRF protection on, as in production (``live_server`` uses ``app``)."""
    return csrf_app


def _record_complaint(page: Page, base: str, title: str) -> None:
    """Start a complaint from the start page and fill in its recording form."""
    page.goto(f"{base}/start")
    card = page.locator("#start-complaint")
    card.locator("input[name=title]").fill(title)
    card.locator("button[type=submit]").click()
    expect(page.locator("#task-form")).to_be_visible()
    page.fill("#f-customer_name", "华东贸易公司")
    page.fill("#f-customer_contact", "13800000000")
    page.select_option("#f-category", "delivery")
    page.fill("#f-description", "货物延迟两周仍未送达，客户要求说明原因。")
    page.click("#complete-button")
    expect(page.locator(".flash-success")).to_be_visible()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_service_records_claims_and_completes_first_response(
    browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str, lang: str
) -> None:
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    page = new_page(contexts, browser, lang)
    login(page, live_server, "service")
    title = f"延迟交付投诉 {lang}"
    _record_complaint(page, live_server, title)

    groups = page.locator("#queue-groups")
    row = groups.locator("tr.task-row", has_text=title)
    expect(row).to_have_count(1)
    expect(page.locator("#count-mine")).to_have_text("0")
    page.screenshot(path=str(out / f"queue-{lang}.png"), full_page=True)

    row.locator(".claim-button").click()  # htmx moves the row to my tasks
    mine = page.locator("#queue-mine tr.task-row", has_text=title)
    expect(mine.locator(".badge-success")).to_be_visible()
    expect(page.locator("#count-mine")).to_have_text("1")
    expect(page.locator("#task-badge")).to_have_text("1")

    mine.locator("a.task-link").click()
    expect(page.locator("h1")).to_have_text("首次响应客户")
    expect(page.locator("#diagram[data-ready='1']")).to_be_attached()
    expect(page.locator("#diagram .djs-element.tf-active[data-element-id='Task_FirstResponse']")).to_have_count(1)
    expect(page.locator("#history .history-completed")).to_have_count(1)
    page.screenshot(path=str(out / f"task-{lang}.png"), full_page=True)

    page.fill("#f-response_note", "已电话联系客户，说明正在核查物流。")
    page.click("#complete-button")
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("tr.task-row", has_text=title).filter(has_text="首次响应客户")).to_have_count(0)
    expect(page.locator("#queue-groups tr.task-row", has_text=title)).to_have_count(1)  # the investigation

    page.goto(f"{live_server}/completed")
    expect(page.locator("tbody tr")).to_have_count(2)

    phone = new_page(contexts, browser, lang, phone=True)
    login(phone, live_server, "service")
    phone.screenshot(path=str(out / f"queue-phone-{lang}.png"), full_page=True)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the queue scrolls sideways on a phone ({width}px)"


def test_missing_required_field_shows_the_error_beside_it(
    browser: Browser, contexts: list[BrowserContext], live_server: str
) -> None:
    page = new_page(contexts, browser, "zh")
    login(page, live_server, "service")
    page.goto(f"{live_server}/start")
    page.locator("#start-complaint button[type=submit]").click()
    page.fill("#f-customer_contact", "13800000000")
    page.select_option("#f-category", "billing")
    page.fill("#f-description", "账单金额与合同不符")
    page.click("#complete-button")
    error = page.locator("#field-customer_name .field-error")
    expect(error).to_have_text("此项必填。")
    expect(page.locator("#f-customer_name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-description")).to_have_value("账单金额与合同不符")
    expect(page.locator("#field-customer_contact .field-error")).to_have_count(0)


def test_language_switch_changes_the_page(browser: Browser, contexts: list[BrowserContext], live_server: str) -> None:
    page = new_page(contexts, browser, "zh")
    login(page, live_server, "service")
    expect(page.locator("h1")).to_have_text("任务队列")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.click("#lang-switch")
    expect(page.locator("h1")).to_have_text("Task queue")
    expect(page.locator("#heading-mine")).to_contain_text("My tasks")
    page.click("#lang-switch")
    expect(page.locator("h1")).to_have_text("任务队列")


def test_user_of_another_group_does_not_see_the_task(
    browser: Browser, contexts: list[BrowserContext], live_server: str
) -> None:
    service = new_page(contexts, browser, "zh")
    login(service, live_server, "service")
    _record_complaint(service, live_server, "仅客服可见")
    row = service.locator("#queue-groups tr.task-row", has_text="仅客服可见")
    expect(row).to_have_count(1)
    task_url = row.locator("a.task-link").get_attribute("href")

    sales = new_page(contexts, browser, "en")
    login(sales, live_server, "sales")
    expect(sales.locator("#heading-groups")).to_be_visible()
    expect(sales.locator("tr.task-row", has_text="仅客服可见")).to_have_count(0)
    response = sales.goto(f"{live_server}{task_url}")
    assert response is not None and response.status == 403
    expect(sales.locator("h1")).to_have_text("You may not see or do this.")


def test_queue_refreshes_without_a_reload(browser: Browser, contexts: list[BrowserContext], live_server: str) -> None:
    watcher = new_page(contexts, browser, "zh")
    login(watcher, live_server, "service")
    watcher.evaluate("window.stillHere = true")
    expect(watcher.locator("#count-groups")).to_have_text("0")

    other = new_page(contexts, browser, "zh")
    login(other, live_server, "service")
    _record_complaint(other, live_server, "刷新测试")

    watcher.evaluate("htmx.trigger(document.body, 'tasks-changed')")  # what the 30 s poll does
    expect(watcher.locator("#queue-groups tr.task-row", has_text="刷新测试")).to_have_count(1)
    expect(watcher.locator("#count-groups")).to_have_text("1")
    assert watcher.evaluate("window.stillHere") is True

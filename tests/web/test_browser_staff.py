"""Staff and admins in Debian's chromium: queue pages and rows that move, releasing, my cases and withdrawing,
role homes and the one-row phone header, and the admin pages (create a user, who then works the queue;
disable them, who then cannot log in).

Screenshots in both languages, at desktop and phone width, go to ``test-results/<test>/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

pytest.importorskip("playwright.sync_api")

from browser import PHONE, login, new_page  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, Page, expect  # noqa: E402

from engine import instances  # noqa: E402

pytestmark = [pytest.mark.browser]
TEXT = {
    "zh": {
        "release": "取消认领",
        "empty_mine": "没有您认领或分配给您的任务。",
        "page": "第 2 页，共 2 页",
        "withdrawn": "已撤回",
        "ended": "已提前结束",
        "waiting": "等待客户服务组的同事认领",
        "wrong": "用户名或密码错误。",
    },
    "en": {
        "release": "Release",
        "empty_mine": "Nothing claimed by or assigned to you.",
        "page": "Page 2 of 2",
        "withdrawn": "You withdrew",
        "ended": "ended early",
        "waiting": "waiting for someone in 客户服务组 to claim it",
        "wrong": "Wrong user name or password.",
    },
}
OPEN = 52  # more than one page of 50


@pytest.fixture
def app(csrf_app: Flask) -> Flask:
    """Fifty-two complaints started by the service user, each waiting at its first task."""
    with csrf_app.extensions["engine"]["session_factory"].begin() as session:
        for n in range(OPEN):
            instances.start_instance(session, "complaint", "service", {}, f"批量投诉 {n + 1:02d}")
        instances.start_instance(session, "sales", "sales", {}, "华东贸易 年度合同")
    return csrf_app


def _one_row_header(page: Page) -> None:
    box = page.locator("header.topbar").bounding_box()
    assert box is not None and box["height"] < 64, f"the header takes {box} on a phone"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width}px)"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_queue_pages_rows_move_release_and_my_cases(
    browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str, lang: str
) -> None:
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    text = TEXT[lang]
    page = new_page(contexts, browser, lang)
    login(page, live_server, "service")
    groups, mine = page.locator("#queue-groups"), page.locator("#queue-mine")
    expect(page.locator("#count-groups")).to_have_text(str(OPEN))
    expect(groups.locator("tr.task-row")).to_have_count(50)
    expect(mine.locator(".empty")).to_have_text(text["empty_mine"])
    groups.locator("a.pager-next").click()
    expect(groups.locator(".pager-where")).to_have_text(text["page"])
    expect(groups.locator("tr.task-row")).to_have_count(OPEN - 50)
    page.screenshot(path=str(out / f"queue-page-2-{lang}.png"), full_page=True)
    groups.locator("a.pager-prev").click()

    row = groups.locator("tr.task-row").first
    title = row.locator("td").nth(1).inner_text()
    row.locator(".claim-button").click()  # both queues come back: the row moves to "my tasks"
    moved = mine.locator("tr.task-row", has_text=title)
    expect(moved).to_have_count(1)
    expect(groups.locator("tr.task-row", has_text=title)).to_have_count(0)
    expect(page.locator("#count-mine")).to_have_text("1")
    expect(page.locator("#count-groups")).to_have_text(str(OPEN - 1))
    expect(mine.locator(".empty")).to_have_count(0)
    expect(moved.locator(".release-button")).to_have_text(text["release"])
    page.screenshot(path=str(out / f"queue-claimed-{lang}.png"), full_page=True)
    moved.locator(".release-button").click()
    expect(groups.locator("tr.task-row", has_text=title)).to_have_count(1)
    expect(page.locator("#count-mine")).to_have_text("0")
    expect(mine.locator(".empty")).to_have_text(text["empty_mine"])

    # Release from the task page too.
    groups.locator("tr.task-row", has_text=title).locator(".claim-button").click()
    mine.locator("tr.task-row", has_text=title).locator("a.task-link").click()
    page.locator(".release-here .release-button").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("#count-mine")).to_have_text("0")

    # My cases: where each stands, and withdrawing one started by mistake.
    page.locator("#nav-cases").click()
    case = page.locator("tr.case-row", has_text="批量投诉 52")
    expect(case.locator(".case-holder")).to_have_text(text["waiting"])
    page.screenshot(path=str(out / f"cases-{lang}.png"), full_page=True)
    case.locator("details.withdraw summary").click()
    case.locator("textarea[name=reason]").fill("重复登记，客户只投诉了一次")
    case.locator(".withdraw-button").click()
    expect(page.locator(".flash-success")).to_contain_text(text["withdrawn"])
    case = page.locator("tr.case-row", has_text="批量投诉 52")
    expect(case.locator(".case-status")).to_have_text(text["ended"])
    expect(case.locator(".withdraw-button")).to_have_count(0)
    page.screenshot(path=str(out / f"cases-withdrawn-{lang}.png"), full_page=True)

    phone = new_page(contexts, browser, lang, phone=True)
    login(phone, live_server, "service")
    _one_row_header(phone)
    phone.screenshot(path=str(out / f"queue-phone-{lang}.png"), full_page=True)
    phone.goto(f"{live_server}/cases")
    _one_row_header(phone)
    phone.screenshot(path=str(out / f"cases-phone-{lang}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_admin_creates_a_user_who_works_the_queue_then_disables_them(
    browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str, lang: str
) -> None:
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    admin = new_page(contexts, browser, lang)
    login(admin, live_server, "admin", home=".users-table")
    expect(admin.locator("#nav-admin")).to_have_attribute("aria-current", "page")
    admin.screenshot(path=str(out / f"admin-users-{lang}.png"), full_page=True)
    admin.click("#new-user")
    admin.fill("#f-name", f"zhou{lang}")
    admin.fill("#f-display_name", "销售 周八")
    admin.fill("#f-password", "x")  # too short: refused, the rest kept
    admin.check("input[name=groups][value=sales]")
    admin.click("#create-user")
    expect(admin.locator("#field-f-password .field-error")).to_be_visible()
    expect(admin.locator("#f-display_name")).to_have_value("销售 周八")
    admin.screenshot(path=str(out / f"admin-new-user-error-{lang}.png"), full_page=True)
    admin.fill("#f-password", "zhou-2026")
    admin.click("#create-user")
    expect(admin.locator(".flash-success")).to_be_visible()
    expect(admin.locator("input[name=groups][value=sales]")).to_be_checked()
    admin.screenshot(path=str(out / f"admin-user-{lang}.png"), full_page=True)

    user = new_page(contexts, browser, lang)
    user.goto(f"{live_server}/login")
    user.fill("#username", f"zhou{lang}")
    user.fill("#password", "zhou-2026")
    user.click("main form button[type=submit]")
    expect(user.locator("#queue-groups tr.task-row", has_text="华东贸易 年度合同")).to_have_count(1)
    expect(user.locator("#nav-admin")).to_have_count(0)

    admin.click("#toggle-active")
    expect(admin.locator("#user-status")).to_have_class("badge badge-warning")
    user.reload()
    expect(user.locator("#username")).to_be_visible()  # the open session ended
    user.fill("#username", f"zhou{lang}")
    user.fill("#password", "zhou-2026")
    user.click("main form button[type=submit]")
    expect(user.locator(".error, .flash-warning, [role=alert]").first).to_contain_text(TEXT[lang]["wrong"])

    admin.goto(f"{live_server}/admin/groups")
    admin.fill("#g-id", f"finance-{lang}")
    admin.fill("#g-name", "财务组")
    admin.click("#create-group")
    expect(admin.locator(f"#group-finance-{lang} input[name=name]")).to_have_value("财务组")
    admin.screenshot(path=str(out / f"admin-groups-{lang}.png"), full_page=True)
    phone = new_page(contexts, browser, lang, phone=True)
    login(phone, live_server, "admin", home=".users-table")
    _one_row_header(phone)
    phone.screenshot(path=str(out / f"admin-users-phone-{lang}.png"), full_page=True)

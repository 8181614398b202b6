"""The task page staff trust, in Debian's chromium: each applicant's own data, outcomes, rules, rounds.

Screenshots in both languages go to pytest-playwright's ``output_path`` (``test-results/<test>/``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

pytest.importorskip("playwright.sync_api")

from browser import PHONE, login, new_page  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, expect  # noqa: E402

from engine import instances, task_queue  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "static" / "dist"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (DIST / "viewer.js").is_file(), reason="web/static/dist is not built"),
]


@pytest.fixture
def app(csrf_app: Flask) -> Flask:
    return csrf_app


def _engine(app: Flask, work: Any) -> Any:
    """Run engine calls in one committed unit of work (the steps before the page under test)."""
    with app.extensions["engine"]["session_factory"].begin() as session:
        return work(session)


def _open(session: Any, instance_id: int, element_id: str) -> list[Any]:
    tasks = task_queue.list_tasks(session, instance_id=instance_id, status="open")
    return sorted((t for t in tasks if t.element_id == element_id), key=lambda t: t.id)


def _do(app: Flask, instance_id: int, element_id: str, user: str, data: dict[str, Any], nth: int = 0) -> None:
    def work(session: Any) -> None:
        instances.complete_task(session, _open(session, instance_id, element_id)[nth].id, user, data)

    _engine(app, work)


def _recruitment_with_applicants(app: Flask, names: str) -> int:
    instance = _engine(app, lambda s: instances.start_instance(s, "recruitment", "lead", title="招聘 销售专员"))
    plan = {"position": "销售专员", "level": "junior", "headcount": 1, "requirements": "两年以上销售经验"}
    _do(app, instance.id, "Task_DraftPlan", "lead", plan)
    _do(app, instance.id, "Task_PostJob", "hr", {"posting_date": "2030-01-06", "posting_links": "招聘网站"})
    _do(app, instance.id, "Task_CollectApplicants", "hr", {"applicant_names": names})
    return int(instance.id)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_applicants_task_page_shows_only_that_applicant(
    app: Flask, browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str, lang: str
) -> None:
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    instance_id = _recruitment_with_applicants(app, "李明\n赵磊\n王芳")
    _do(app, instance_id, "Task_ScreenResume", "hr", {"resume_result": "pass", "resume_notes": "李明：经验丰富"})

    page = new_page(contexts, browser, lang)
    login(page, live_server, "hr")
    rows = page.locator("#queue-groups tr.task-row", has_text="简历筛选")
    expect(rows).to_have_count(2)
    expect(rows.locator(".task-subject")).to_have_text(["赵磊", "王芳"])
    expect(page.locator("#queue-groups tr.task-row", has_text="电话面试").locator(".task-subject")).to_have_text("李明")
    page.screenshot(path=str(out / f"queue-applicants-{lang}.png"), full_page=True)

    rows.filter(has_text="赵磊").locator("a.task-link").click()
    expect(page.locator("h1")).to_have_text("简历筛选 · 赵磊")
    assert "赵磊" in page.title()
    side = page.locator(".task-side")
    expect(side.locator("#key-data")).not_to_contain_text("李明")
    expect(side.locator("#key-data")).not_to_contain_text("王芳")
    expect(side.locator("#key-data")).not_to_contain_text("通过")
    expect(side.locator(".history")).not_to_contain_text("经验丰富")
    expect(page.locator("#f-resume_result")).to_have_value("")
    expect(page.locator("#f-resume_notes")).to_have_value("")
    page.screenshot(path=str(out / f"task-applicant-{lang}.png"), full_page=True)

    page.goto(f"{live_server}/")
    page.locator("#queue-groups tr.task-row", has_text="电话面试").locator("a.task-link").click()
    expect(page.locator("h1")).to_have_text("电话面试 · 李明")
    expect(side.locator("#key-data")).to_contain_text("经验丰富")
    expect(side.locator("#key-data")).not_to_contain_text("赵磊")
    expect(side.locator(".history .history-task_created")).to_have_count(5)  # 3 before the applicants, 2 of his own


RESEARCH = {
    "research_topic": "华东地区中小企业市场",
    "market_info": "数字化需求增长",
    "competitors": "两家对手降价",
    "customer_needs": "本地化服务",
    "market_trends": "短视频获客",
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_strategy_refused_without_a_channel_and_sent_back_with_its_reason(
    app: Flask, browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str, lang: str
) -> None:
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    instance = _engine(app, lambda s: instances.start_instance(s, "promotion", "promo", title="新品上市推广"))
    _do(app, instance.id, "Task_MarketResearch", "promo", RESEARCH)

    promo = new_page(contexts, browser, lang)
    login(promo, live_server, "promo")
    promo.locator("#queue-groups tr.task-row", has_text="制定推广策略").locator("a.task-link").click()
    expect(promo.locator("#field-use_advertising .rule-hint")).to_contain_text("渠道：广告投放")
    for field, value in {
        "goal_description": "新品上市提升知名度",
        "target_reach": "100000",
        "target_leads": "500",
        "target_conversions": "50",
        "content": "新品演示视频",
        "budget": "80000",
    }.items():
        promo.fill(f"#f-{field}", value)
    promo.click("#complete-button")  # no channel ticked: refused at once, nothing typed is lost
    expect(promo.locator("#field-use_advertising .field-error")).to_be_visible()
    expect(promo.locator("#f-content")).to_have_value("新品演示视频")
    promo.screenshot(path=str(out / f"strategy-no-channel-{lang}.png"), full_page=True)
    promo.check("#f-use_advertising")
    promo.click("#complete-button")
    expect(promo.locator(".flash-success")).to_be_visible()

    lead = new_page(contexts, browser, lang)
    login(lead, live_server, "lead", home="main")
    lead.goto(f"{live_server}/")
    lead.locator("#queue-groups tr.task-row", has_text="审批推广策略").locator("a.task-link").click()
    lead.select_option("#f-strategy_decision", "return")
    lead.click("#complete-button")  # a send-back needs its reason
    expect(lead.locator("#field-review_comments .field-error")).to_be_visible()
    lead.fill("#f-review_comments", "预算偏高，请压缩")
    lead.click("#complete-button")
    expect(lead.locator(".flash-warning")).to_contain_text("制定推广策略")
    expect(lead.locator(".flash-warning")).to_contain_text("预算偏高，请压缩")
    lead.screenshot(path=str(out / f"sent-back-message-{lang}.png"), full_page=True)

    promo.goto(f"{live_server}/")
    promo.locator("#queue-groups tr.task-row", has_text="制定推广策略").locator("a.task-link").click()
    expect(promo.locator(".task-returned")).to_contain_text("退回修改")
    expect(promo.locator(".task-returned")).to_contain_text("预算偏高，请压缩")
    expect(promo.locator("#f-content")).to_have_value("")  # a new round starts empty ...
    expect(promo.locator("#last-round")).to_contain_text("新品演示视频")  # ... beside the last one
    expect(promo.locator("#f-use_advertising")).not_to_be_checked()
    promo.screenshot(path=str(out / f"returned-task-{lang}.png"), full_page=True)


COMPLAINT = {
    "customer_name": "华东贸易公司",
    "customer_contact": "13800000000",
    "channel": "phone",
    "category": "delivery",
    "description": "货物延迟两周",
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_claiming_and_commenting_keep_what_was_typed_and_a_manager_confirms_a_takeover(
    app: Flask, browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str, lang: str
) -> None:
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    first = _engine(app, lambda s: instances.start_instance(s, "complaint", "service", title="延迟交付投诉"))
    _do(app, first.id, "Task_RecordComplaint", "service", COMPLAINT)
    second = _engine(app, lambda s: instances.start_instance(s, "complaint", "service", title="账单投诉"))
    _do(app, second.id, "Task_RecordComplaint", "service", {**COMPLAINT, "category": "billing"})

    page = new_page(contexts, browser, lang)
    login(page, live_server, "service")
    page.locator("#queue-groups tr.task-row", has_text="延迟交付投诉").locator("a.task-link").click()
    page.fill("#f-response_note", "已电话联系客户")
    page.click("#claim-here-button")
    expect(page.locator("#claim-status .claimed-by-you")).to_be_visible()
    expect(page.locator("#f-response_note")).to_have_value("已电话联系客户")
    page.fill("#comment-text", "客户要求明天回电")
    page.locator(".comment-form button[type=submit]").click()
    expect(page.locator("#history .history-comment")).to_contain_text("客户要求明天回电")
    expect(page.locator("#comment-text")).to_have_value("")
    expect(page.locator("#f-response_note")).to_have_value("已电话联系客户")
    page.screenshot(path=str(out / f"kept-input-{lang}.png"), full_page=True)
    page.click("#complete-button")
    expect(page.locator(".flash-success")).to_be_visible()

    # The second complaint is held by service; the team lead (a manager) completes it only on purpose.
    def claim(session: Any) -> None:
        instances.claim_task(session, _open(session, second.id, "Task_FirstResponse")[0].id, "service")

    _engine(app, claim)
    task_id = _engine(app, lambda s: _open(s, second.id, "Task_FirstResponse")[0].id)
    lead = new_page(contexts, browser, lang)
    login(lead, live_server, "lead", home="main")
    lead.goto(f"{live_server}/tasks/{task_id}")
    lead.fill("#f-response_note", "负责人已回电")
    lead.click("#complete-button")
    expect(lead.locator("#field-confirm_takeover .field-error")).to_be_visible()
    expect(lead.locator("#f-response_note")).to_have_value("负责人已回电")
    lead.screenshot(path=str(out / f"takeover-confirm-{lang}.png"), full_page=True)
    lead.check("#f-confirm_takeover")
    lead.click("#complete-button")
    expect(lead.locator(".flash-success")).to_be_visible()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_speak_business_words(
    app: Flask, browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str, lang: str
) -> None:
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    complaint = _engine(app, lambda s: instances.start_instance(s, "complaint", "service", title="质量投诉"))
    _do(app, complaint.id, "Task_RecordComplaint", "service", {**COMPLAINT, "category": "billing", "tier": "key"})
    deal = _engine(app, lambda s: instances.start_instance(s, "sales", "sales"))
    prospect = {
        "company_name": "华南精密机械有限公司",
        "industry": "manufacturing",
        "contact_name": "陈立",
        "contact_phone": "13800000000",
        "source": "trade_show",
        "estimated_deal_size": 600000,
        "customer_class": "key",
    }
    _do(app, deal.id, "Task_RegisterProspect", "sales", prospect)

    page = new_page(contexts, browser, lang)
    login(page, live_server, "service")
    page.locator("#queue-groups tr.task-row", has_text="质量投诉").locator("a.task-link").click()
    key_data = page.locator("#key-data")
    expect(key_data).to_contain_text("严重程度")
    expect(key_data).to_contain_text("较高")  # the decision's value, by its label
    expect(key_data).to_contain_text("4小时" if lang == "zh" else "4 hours")
    expect(key_data.locator("dd", has_text=re.compile("^中$"))).to_have_count(1)  # priority 70, by its label
    expect(key_data).not_to_contain_text("70")
    main = page.locator("main")
    for code_word in ("PT4H", "response_deadline", "severity", "(", "complaint_severity"):
        expect(main.locator(".task-doc")).not_to_contain_text(code_word)
    expect(key_data).not_to_contain_text("PT4H")
    page.screenshot(path=str(out / f"business-words-{lang}.png"), full_page=True)

    page.goto(f"{live_server}/start")
    card = page.locator("#start-complaint")
    expect(card.locator(".start-more")).to_be_attached()
    card.locator(".start-more summary").click()
    expect(card.locator(".start-full")).to_be_visible()
    for code_word in ("unsatisfied_count", "complaint_severity", "PT2H", "_"):
        expect(card).not_to_contain_text(code_word)
    page.screenshot(path=str(out / f"start-{lang}.png"), full_page=True)

    response = page.goto(f"{live_server}/tasks/999999")
    assert response is not None and response.status == 404
    expect(page.locator(".error-page")).not_to_contain_text("999999")
    expect(page.locator(".error-page")).not_to_contain_text("not found")

    sales = new_page(contexts, browser, lang)
    login(sales, live_server, "risk")
    sales.locator("#queue-groups tr.task-row", has_text="华南精密机械有限公司").locator("a.task-link").click()
    expect(sales.locator("#key-data")).to_contain_text("600,000")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_diagram_controls_and_the_task_page_on_a_phone(
    app: Flask, browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str, lang: str
) -> None:
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    deal = _engine(app, lambda s: instances.start_instance(s, "sales", "sales", title="华南精密机械"))
    task_id = _engine(app, lambda s: _open(s, deal.id, "Task_RegisterProspect")[0].id)
    zoom = "window.TeamflowViewer.get(document.getElementById('diagram')).get('canvas').zoom()"

    page = new_page(contexts, browser, lang)
    login(page, live_server, "sales")
    page.goto(f"{live_server}/tasks/{task_id}")
    expect(page.locator("#diagram[data-ready='1']")).to_be_attached()
    assert page.evaluate(zoom) >= 0.75  # a wide diagram opens readable around the task, not shrunk to fit
    page.locator("#diagram").scroll_into_view_if_needed()
    before, at = page.evaluate("window.scrollY"), page.evaluate(zoom)
    box = page.locator("#diagram").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -200 if before > 0 else 200)  # not focused: the page scrolls, the diagram keeps its zoom
    page.wait_for_function(f"window.scrollY != {before}")
    assert page.evaluate(zoom) == at
    view = "window.TeamflowViewer.get(document.getElementById('diagram')).get('canvas').viewbox().y"
    page.click("#diagram")  # focused, the wheel moves the diagram (with Ctrl it zooms), not the page
    scrolled, y = page.evaluate("window.scrollY"), page.evaluate(view)
    page.mouse.wheel(0, 200)
    page.wait_for_function(f"{view} != {y}")
    assert page.evaluate("window.scrollY") == scrolled
    page.click(".tf-zoom-zoom-fit")
    fitted = page.evaluate(zoom)
    assert fitted < at
    page.click(".tf-zoom-zoom-in")
    assert page.evaluate(zoom) > fitted
    expect(page.locator("#diagram .bjs-powered-by")).to_be_visible()
    page.screenshot(path=str(out / f"diagram-{lang}.png"), full_page=True)

    phone = new_page(contexts, browser, lang, phone=True)
    login(phone, live_server, "sales")
    phone.goto(f"{live_server}/tasks/{task_id}")
    expect(phone.locator("#diagram[data-ready='1']")).to_be_attached()
    key, form = phone.locator("#key-data").bounding_box(), phone.locator("#task-form").bounding_box()
    assert key is not None and form is not None and key["y"] < form["y"]  # key data above the form
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the task page scrolls sideways on a phone ({width}px)"
    diagram, svg = phone.locator("#diagram").bounding_box(), phone.locator("#diagram svg").first.bounding_box()
    assert diagram is not None and svg is not None and svg["width"] <= diagram["width"] + 1
    phone.screenshot(path=str(out / f"task-phone-{lang}.png"), full_page=True)

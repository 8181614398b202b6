"""Process owners in Debian's chromium: edit in the properties panel, validate, try, compare, deploy, DMN tabs.

Screenshots of the processes home, the editor, a dry run and the compare page, in both languages and on a
phone, go to pytest-playwright's ``output_path`` (``test-results/<test>/``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

pytest.importorskip("playwright.sync_api")

from browser import login, new_page  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, Page, expect  # noqa: E402

from engine import definitions, editing, instances, trials  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "static" / "dist"
# ../shared/conformance beside the checkout (or beside the folder of worktrees).
CORPUS = next(
    (p for p in (ROOT.parent / "shared" / "conformance", ROOT.parents[1] / "shared" / "conformance") if p.is_dir()),
    ROOT.parent / "shared" / "conformance",
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (DIST / "modeler.js").is_file(), reason="web/static/dist is not built: run `npm run build`"),
]


@pytest.fixture
def app(csrf_app: Flask) -> Flask:
    """Serve the browser tests with CSRF protection on, as in production."""
    return csrf_app


# Leaving the page fires beforeunload; the editor cancels it (the browser then asks) while changes are unsaved.
LEAVE_ASKS = """() => { const e = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(e);
  return e.defaultPrevented; }"""


def _unit(app: Flask) -> Any:
    return app.extensions["engine"]["session_factory"].begin()


def _owner(contexts: list[BrowserContext], browser: Browser, base: str, lang: str, phone: bool = False) -> Page:
    page = new_page(contexts, browser, lang, phone)
    page.goto(f"{base}/login")
    page.fill("#username", "owner")
    page.fill("#password", "demo")
    page.click("main form button[type=submit]")
    expect(page.locator("#processes")).to_be_visible()
    return page


def _open_editor(page: Page, base: str, key: str) -> None:
    page.goto(f"{base}/processes/{key}/edit")
    expect(page.locator("#canvas[data-ready='1']")).to_be_attached()


def _select(page: Page, element_id: str) -> None:
    page.evaluate(
        """(id) => { const m = window.teamflowEditor.modeler; const el = m.get('elementRegistry').get(id);
        m.get('selection').select(el); m.get('canvas').scrollToElement(el); }""",
        element_id,
    )


def _group(page: Page, group_id: str) -> Any:
    group = page.locator(f"#panel [data-group-id='{group_id}']")
    header = group.locator(".bio-properties-panel-group-header")
    if "open" not in (header.get_attribute("class") or ""):
        header.locator(".bio-properties-panel-group-header-title").click()
    return group


def _shot(page: Page, out: Path, name: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)


def test_owner_renames_a_task_adds_a_field_deploys_and_compares(
    app: Flask, browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str
) -> None:
    out = Path(output_path)
    with _unit(app) as session:
        before = instances.start_instance(session, "complaint", "service", {}, "改版前的投诉")
    page = _owner(contexts, browser, live_server, "zh")
    expect(page.locator("#process-complaint .running")).to_contain_text("v1: 1")
    _shot(page, out, "home-zh")
    _open_editor(page, live_server, "complaint")
    expect(page.locator("#canvas .bts-toggle-mode")).to_have_text("流程模拟")  # token simulation on the canvas
    expect(page.locator("#canvas .bjsl-button")).to_have_text(re.compile("个错误|没有问题"))
    # The whole diagram fits beside the palette: no element hides behind the tools.
    palette = page.locator("#canvas .djs-palette").bounding_box()
    leftmost = page.evaluate(
        "Math.min(...[...document.querySelectorAll('#canvas .djs-element:not(.djs-root)')]"
        ".map(e => e.getBoundingClientRect().left))"
    )
    assert palette and leftmost > palette["x"] + palette["width"]
    _select(page, "Task_RecordComplaint")
    expect(page.locator("#panel .bio-properties-panel-header-type")).to_have_text("用户任务")
    # Candidate groups are offered from the groups that exist, with their Chinese names.
    _group(page, "group-CamundaPlatform__UserAssignment")
    expect(page.locator("#panel input[id*='candidateGroups']")).to_have_attribute("list", "known-groups")
    expect(page.locator("#known-groups option[value='service']")).to_have_attribute("label", "客户服务组")
    _group(page, "group-general")
    page.fill("#bio-properties-panel-name", "登记客户投诉")
    fields = _group(page, "group-CamundaPlatform__FormData")
    fields.locator(".bio-properties-panel-group-header .bio-properties-panel-add-entry").click()
    new_field = page.locator("#panel .bio-properties-panel-list-item").last
    new_id = new_field.locator("input[id$='-formFieldID']")
    new_id.fill("order_no")
    new_field.locator("input[id$='-formFieldLabel']").fill("订单号")
    new_field.locator("[data-entry-id$='-formFieldConstraints'] .bio-properties-panel-add-entry").click()
    new_field.locator("[data-entry-id$='-formFieldConstraints'] input").first.fill("required")
    expect(page.locator("#editor-status")).to_have_text("有未保存的改动")
    assert page.evaluate(LEAVE_ASKS)  # leaving now would ask first
    page.click("#btn-save")
    expect(page.locator("#editor-status")).to_have_text("草稿已保存。")
    assert not page.evaluate(LEAVE_ASKS)
    page.click("#btn-validate")
    expect(page.locator("#problems-summary")).to_have_text("没有发现问题：草稿可以直接部署。")
    _shot(page, out, "editor-zh")
    page.click("#btn-deploy")
    page.click("#btn-deploy-go")
    expect(page.locator("#deploy-error")).to_have_text("请填写说明：改了什么，为什么改。")
    page.fill("#deploy-note", "登记任务改名，增加订单号")
    page.click("#btn-deploy-go")
    expect(page.locator("body[data-deployed='2']")).to_be_attached()
    expect(page.locator("#editor-status")).to_have_text("已部署为第 2 版。")

    # Staff start the new version and see the new name and field; the older instance keeps its version.
    staff = new_page(contexts, browser, "zh")
    login(staff, live_server, "service")
    staff.goto(f"{live_server}/start")
    staff.locator("#start-complaint button[type=submit]").click()
    expect(staff.locator("#task-form")).to_be_visible()
    expect(staff.locator("main h1")).to_contain_text("登记客户投诉")
    expect(staff.locator("#f-order_no")).to_have_attribute("required", "")
    with _unit(app) as session:
        old = instances.get_instance(session, before.id)
        assert old.version == 1 and old.tasks[0].name == "登记投诉"

    # History shows the note; the diff lists and colours the renamed task and the new field on both sides.
    page.goto(f"{live_server}/processes/complaint/history")
    expect(page.locator("#version-2")).to_contain_text("登记任务改名，增加订单号")
    page.locator("#version-2 a", has_text="与第 1 版的差别").click()
    change = page.locator("#changes li[data-element-id='Task_RecordComplaint']")
    expect(change).to_contain_text("登记投诉")
    expect(change).to_contain_text("登记客户投诉")
    expect(change).to_contain_text("formField[order_no]")
    for side in ("left", "right"):
        expect(page.locator(f"#diagram-{side}[data-marked='1']")).to_be_attached()
        marked = page.locator(f"#diagram-{side} .djs-element.tf-changed[data-element-id='Task_RecordComplaint']")
        expect(marked).to_have_count(1)
    _shot(page, out, "compare-zh")

    english = _owner(contexts, browser, live_server, "en")
    english.goto(f"{live_server}/processes/complaint/compare?left=1&right=2")
    expect(english.locator("#diagram-right[data-marked='1']")).to_be_attached()
    expect(english.locator("h1")).to_contain_text("Changes in complaint")
    _shot(english, out, "compare-en")
    _shot_editor_en(english, live_server, out)
    phone = _owner(contexts, browser, live_server, "zh", phone=True)
    _shot(phone, out, "home-phone-zh")
    phone.goto(f"{live_server}/processes/complaint/compare?left=1&right=2")
    expect(phone.locator("#diagram-right[data-marked='1']")).to_be_attached()
    _shot(phone, out, "compare-phone-zh")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    # The editor of recruitment has the longest decision-table tab.
    for name, path in (("history", "/processes/complaint/history"), ("editor", "/processes/recruitment/edit")):
        phone.goto(f"{live_server}{path}")
        if name == "editor":
            expect(phone.locator("#canvas[data-ready='1']")).to_be_attached()
        _shot(phone, out, f"{name}-phone-zh")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375 + 1, name


def _shot_editor_en(page: Page, base: str, out: Path) -> None:
    expect(page.locator("#processes")).to_have_count(0)
    page.goto(f"{base}/processes/")
    _shot(page, out, "home-en")
    _open_editor(page, base, "complaint")
    _select(page, "Task_RecordComplaint")
    expect(page.locator("#panel")).to_contain_text("User assignment")
    _shot(page, out, "editor-en")


def test_broken_condition_and_groupless_task_are_problems_marked_on_the_canvas(
    app: Flask, browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str
) -> None:
    with _unit(app) as session:
        files = definitions.get_files(session, "sales")
        xml = files["sales.bpmn"]
        xml = re.sub(r'(<bpmn:userTask id="Task_SalesVisit"[^>]*?camunda:candidateGroups=)"[^"]*"', r'\1"nobody"', xml)
        condition = re.search(r"(<bpmn:conditionExpression[^>]*>)([^<]+)(<)", xml)
        assert condition
        xml = xml.replace(condition.group(0), condition.group(1) + "credit_rating ==" + condition.group(3), 1)
        flow = re.search(r'<bpmn:sequenceFlow id="([^"]+)"[^>]*>\s*' + re.escape(condition.group(1)), xml)
        assert flow
        editing.save_draft(session, "sales", "owner", {**files, "sales.bpmn": xml})
    page = _owner(contexts, browser, live_server, "en")
    _open_editor(page, live_server, "sales")
    # bpmnlint on the canvas, with the engine's own rules: the groupless task.
    expect(page.locator(".djs-overlays[data-container-id='Task_SalesVisit'] .bjsl-icon-error")).to_have_count(1)
    page.click("#btn-validate")
    problems = page.locator("#problems li")
    expect(problems.first).to_be_visible()
    expect(page.locator("#problems li[data-element-id='Task_SalesVisit']")).to_contain_text("known group")
    expect(page.locator(f"#problems li[data-element-id='{flow.group(1)}']")).to_contain_text("not a valid expression")
    for element_id in ("Task_SalesVisit", flow.group(1)):
        expect(page.locator(f"#canvas .tf-problem[data-element-id='{element_id}']").first).to_be_attached()
    page.locator("#problems li[data-element-id='Task_SalesVisit'] button").click()
    expect(page.locator("#panel .bio-properties-panel-header-label")).to_contain_text("销售拜访")
    page.screenshot(path=str(Path(output_path) / "problems-en.png"), full_page=True)


def test_dry_run_of_a_d_rated_customer_ends_lost(
    app: Flask, browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str
) -> None:
    with _unit(app) as session:
        trials.import_scenarios(session, [ROOT / "processes" / "scenarios" / "sales.json"], "owner")
    out = Path(output_path)
    for lang, ended in (("zh", "已到达结束：丢单（信用）"), ("en", "Reached the end: 丢单（信用）")):
        page = _owner(contexts, browser, live_server, lang)
        _open_editor(page, live_server, "sales")
        # The seed process passes every lint rule; the lint button speaks the page language.
        expect(page.locator(".bjsl-button")).to_contain_text("没有问题" if lang == "zh" else "No Issues")
        page.click("#btn-try")
        page.select_option("#scenario-select", label="D级客户未获特批，丢单")
        page.click("#btn-run")
        expect(page.locator("#trial-end")).to_have_text(ended)
        expect(page.locator("#canvas .tf-completed[data-element-id='EndEvent_LostCredit']")).to_have_count(1)
        expect(page.locator("#canvas .tf-completed[data-element-id='Task_SalesVisit']")).to_have_count(0)
        expect(page.locator("#trial-data")).to_contain_text('"credit_rating": "D"')
        _shot(page, out, f"dry-run-{lang}")
    # Task by task: the first form is asked for, and a missing required field is the error on that task.
    page.select_option("#scenario-select", value="")
    page.click("#btn-run")
    expect(page.locator("#trial-fields #trial-company_name")).to_be_visible()
    page.click("#btn-continue")
    expect(page.locator("#trial-error")).to_contain_text("company_name")
    expect(page.locator("#canvas .tf-error[data-element-id='Task_RegisterProspect']")).to_have_count(1)
    expect(page.locator(".tf-trial-error")).to_contain_text("company_name")
    # A finished run is kept as a new scenario, which then runs on validate.
    page.select_option("#scenario-select", label="D级客户未获特批，丢单")
    page.click("#btn-run")
    page.fill("#scenario-name", "copy of the lost path")
    page.click("#btn-save-scenario")
    expect(page.locator("#editor-status")).to_have_text("Scenario saved.")
    with _unit(app) as session:
        kept = next(s for s in trials.list_scenarios(session, "sales") if s.name == "copy of the lost path")
        assert kept.expected_end == "EndEvent_LostCredit" and len(kept.steps) == 3
    with _unit(app) as session:
        assert instances.list_instances(session, None, None, 1, 5, "admin")[1] == 0


def test_a_dmn_rule_changed_in_dmn_js_decides_the_next_instance(
    app: Flask, browser: Browser, contexts: list[BrowserContext], live_server: str
) -> None:
    page = _owner(contexts, browser, live_server, "zh")
    _open_editor(page, live_server, "complaint")
    page.click("#editor-tabs .tab[data-file='complaint_severity.dmn']")
    cell = page.locator("#dmn-tab td[data-row-id='Rule_complaint_severity_3'][data-col-id='Output_Severity']")
    expect(cell).to_have_text('"high"')
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type('"critical"')
    page.locator("#dmn-tab td[data-row-id='Rule_complaint_severity_1']").first.click()
    expect(page.locator("#editor-status")).to_have_text("有未保存的改动")
    page.click("#btn-deploy")
    page.fill("#deploy-note", "VIP 投诉一律按紧急处理")
    page.click("#btn-deploy-go")
    expect(page.locator("body[data-deployed='2']")).to_be_attached()
    with _unit(app) as session:
        text = definitions.get_files(session, "complaint", 2)["complaint_severity.dmn"]
        assert '"critical"' in text.split('id="Rule_complaint_severity_3"')[1].split("</rule>")[0]
        instance = instances.start_instance(session, "complaint", "service", {}, "VIP 客户投诉")
        task = instance.tasks[0]
    record = {
        "customer_name": "某 VIP 客户",
        "customer_contact": "13800000000",
        "channel": "phone",
        "category": "delivery",
        "tier": "vip",
        "description": "送货延迟两周仍未送达",
    }
    with _unit(app) as session:
        instances.complete_task(session, task.id, "service", record)
    with _unit(app) as session:
        assert instances.get_instance(session, instance.id).data["severity"] == "critical"


def test_every_conformance_file_opens_in_the_editor(
    browser: Browser, contexts: list[BrowserContext], live_server: str
) -> None:
    if not CORPUS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the conformance corpus is missing at {CORPUS}, and CI is set")
        pytest.skip(f"no conformance corpus at {CORPUS}")
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".bpmn", ".dmn"))
    assert len(files) >= 80
    page = _owner(contexts, browser, live_server, "en")
    _open_editor(page, live_server, "complaint")
    failures = {}
    for path in files:
        error = page.evaluate(
            """async ([kind, xml]) => {
              try {
                if (kind === 'bpmn') {
                  await window.teamflowEditor.modeler.importXML(xml);
                } else {
                  const el = document.createElement('div');
                  document.body.appendChild(el);
                  const dmn = window.TeamflowDmn.create(el, { xml });
                  await dmn.teamflowImport;
                  dmn.destroy();
                  el.remove();
                }
                return null;
              } catch (e) { return String(e.message || e); }
            }""",
            [path.suffix[1:], path.read_text(encoding="utf-8")],
        )
        if error:
            failures[str(path.relative_to(CORPUS))] = error
    assert failures == {}

"""Render BPMN diagrams in the bundled browser viewer: layout checks and PNG export.

Nothing is served: each test opens ``about:blank`` and injects the built
``web/static/dist`` bundles. The helpers at the top (``open_viewer``,
``render_bpmn``, ``overlapping_nodes``, ``watermark_problem``,
``screenshot_diagram``) can be reused by other browser tests. Debian's
chromium is launched through ``browser_type_launch_args`` in ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Browser, Page  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "static" / "dist"
PROCESSES = ROOT / "processes"
DIAGRAMS = ROOT / "docs" / "diagrams"
CONFORMANCE = ROOT.parent / "shared" / "conformance"
CHROMIUM = Path("/usr/bin/chromium")

CANVAS_ID = "tf-canvas"
# Room around the diagram in exported PNGs; also keeps the watermark clear.
PNG_PADDING = 40
PNG_MAX_SIDE = 4000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (DIST / "viewer.js").is_file(),
        reason="web/static/dist/viewer.js is not built: run `npm ci && npm run build` in web/",
    ),
    pytest.mark.skipif(
        not CHROMIUM.is_file(),
        reason="/usr/bin/chromium is missing: apt-get install -y chromium fonts-noto-cjk",
    ),
]


# --- helpers ---------------------------------------------------------------


def open_viewer(page: Page, width: int = 1200, height: int = 800) -> None:
    """Load the viewer bundle into a blank page with an empty canvas element."""
    page.goto("about:blank")
    page.set_viewport_size({"width": width + 2 * PNG_PADDING, "height": height + 2 * PNG_PADDING})
    page.set_content(
        "<!doctype html><html><head><meta charset='utf-8'></head>"
        "<body style='margin:0;background:#fff'>"
        f"<div id='{CANVAS_ID}' style='position:relative;width:{width}px;height:{height}px'></div>"
        "</body></html>"
    )
    page.add_style_tag(path=str(DIST / "viewer.css"))
    page.add_script_tag(path=str(DIST / "viewer.js"))
    page.wait_for_function("() => !!window.TeamflowViewer")


def render_bpmn(page: Page, xml: str, marks: dict[str, Any] | None = None) -> dict[str, Any]:
    """Render ``xml`` in the page's canvas; return ``{"warnings": [...], "missing": [...]}``.

    :param marks: ``{"completed": [ids], "active": [ids], "error": [ids], "counts": {id: n}}``
    :raises playwright.sync_api.Error: when the viewer cannot import the XML
    """
    result: dict[str, Any] = page.evaluate(
        """async ([id, xml, marks]) => {
            const container = document.getElementById(id);
            const { warnings, missing } = await window.TeamflowViewer.render(container, xml, marks);
            return {
                warnings: warnings.map((w) => String((w && w.message) || w)),
                missing,
            };
        }""",
        [CANVAS_ID, xml, marks or {}],
    )
    page.wait_for_selector(f"#{CANVAS_ID}[data-ready='1']")
    return result


def overlapping_nodes(page: Page) -> list[tuple[str, str]]:
    """Return pairs of flow-node ids whose shapes overlap on the same diagram plane.

    Lanes, participants and labels are not flow nodes; a sub-process is not
    compared with what it contains, nor a boundary event with its host.
    """
    pairs: list[list[str]] = page.evaluate(
        """(id) => {
            const viewer = window.TeamflowViewer.get(document.getElementById(id));
            const registry = viewer.get('elementRegistry');
            const rootOf = (e) => { while (e.parent) { e = e.parent; } return e; };
            const contains = (outer, inner) => {
                for (let p = inner.parent; p; p = p.parent) {
                    if (p === outer) { return true; }
                }
                return false;
            };
            const nodes = registry.filter((e) => (
                e.parent && !e.waypoints && e.type !== 'label' &&
                e.businessObject && e.businessObject.$instanceOf('bpmn:FlowNode')
            ));
            const related = (a, b) => (
                contains(a, b) || contains(b, a) || a.host === b || b.host === a
            );
            const overlap = (a, b) => (
                a.x < b.x + b.width && b.x < a.x + a.width &&
                a.y < b.y + b.height && b.y < a.y + a.height
            );
            const pairs = [];
            for (let i = 0; i < nodes.length; i++) {
                for (let j = i + 1; j < nodes.length; j++) {
                    const a = nodes[i];
                    const b = nodes[j];
                    if (rootOf(a) === rootOf(b) && !related(a, b) && overlap(a, b)) {
                        pairs.push([a.id, b.id]);
                    }
                }
            }
            return pairs;
        }""",
        CANVAS_ID,
    )
    return [(a, b) for a, b in pairs]


def watermark_problem(page: Page, container_id: str = CANVAS_ID) -> str | None:
    """Return why the bpmn.io watermark is not fully visible, or None when it is."""
    problem: str | None = page.evaluate(
        """(id) => {
            const container = document.getElementById(id);
            const mark = container.querySelector('.bjs-powered-by');
            if (!mark) { return 'no .bjs-powered-by element'; }
            const style = getComputedStyle(mark);
            if (style.display === 'none' || style.visibility !== 'visible' || Number(style.opacity) < 1) {
                return 'hidden by CSS';
            }
            const r = mark.getBoundingClientRect();
            const c = container.getBoundingClientRect();
            if (r.width < 1 || r.height < 1) { return 'zero size'; }
            if (r.left < c.left || r.top < c.top || r.right > c.right || r.bottom > c.bottom) {
                return 'outside the canvas';
            }
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            if (!hit || !mark.contains(hit)) {
                return 'covered by ' + (hit ? hit.tagName + '.' + hit.className : 'nothing');
            }
            return null;
        }""",
        container_id,
    )
    return problem


def screenshot_diagram(page: Page, path: Path) -> None:
    """Resize the canvas to the whole diagram at 100 % (capped) and save a PNG of it."""
    size: dict[str, float] = page.evaluate(
        """(id) => {
            const viewer = window.TeamflowViewer.get(document.getElementById(id));
            const inner = viewer.get('canvas').viewbox().inner;
            return { width: inner.width, height: inner.height };
        }""",
        CANVAS_ID,
    )
    scale = min(1.0, PNG_MAX_SIDE / max(size["width"], size["height"], 1))
    width = int(size["width"] * scale) + 2 * PNG_PADDING
    height = int(size["height"] * scale) + 2 * PNG_PADDING
    page.set_viewport_size({"width": width, "height": height})
    page.evaluate(
        """([id, width, height]) => {
            const container = document.getElementById(id);
            container.style.width = width + 'px';
            container.style.height = height + 'px';
            const canvas = window.TeamflowViewer.get(container).get('canvas');
            canvas.resized();
            canvas.zoom('fit-viewport', 'auto');
        }""",
        [CANVAS_ID, width, height],
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    page.locator(f"#{CANVAS_ID}").screenshot(path=str(path), animations="disabled")


@pytest.fixture(scope="module")
def viewer_page(browser: Browser) -> Iterator[Page]:
    """One page with the viewer loaded, shared by the tests of this module."""
    context = browser.new_context(device_scale_factor=1, locale="zh-CN")
    page = context.new_page()
    open_viewer(page)
    yield page
    context.close()


# --- our processes -----------------------------------------------------------


def _process_files() -> list[Path]:
    return sorted(PROCESSES.glob("*.bpmn"))


@pytest.mark.skipif(not _process_files(), reason="processes/*.bpmn does not exist yet")
@pytest.mark.parametrize("path", _process_files(), ids=lambda p: p.stem)
def test_process_diagram_renders_cleanly(viewer_page: Page, path: Path) -> None:
    open_viewer(viewer_page)
    result = render_bpmn(viewer_page, path.read_text(encoding="utf-8"))

    assert result["warnings"] == []
    assert overlapping_nodes(viewer_page) == []
    assert watermark_problem(viewer_page) is None
    screenshot_diagram(viewer_page, DIAGRAMS / f"{path.stem}.png")
    assert watermark_problem(viewer_page) is None


# --- markers ------------------------------------------------------------------

MARKED_XML = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
    id="Definitions_Marks" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="Process_Marks" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start" targetRef="Task_A" />
    <bpmn:userTask id="Task_A" name="填写计划" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_A" targetRef="Task_B" />
    <bpmn:userTask id="Task_B" name="审批" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_Marks">
    <bpmndi:BPMNPlane id="Plane_Marks" bpmnElement="Process_Marks">
      <bpmndi:BPMNShape id="Start_di" bpmnElement="Start">
        <dc:Bounds x="100" y="100" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_A_di" bpmnElement="Task_A">
        <dc:Bounds x="190" y="78" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_B_di" bpmnElement="Task_B">
        <dc:Bounds x="350" y="78" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1">
        <di:waypoint x="136" y="118" />
        <di:waypoint x="190" y="118" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2">
        <di:waypoint x="290" y="118" />
        <di:waypoint x="350" y="118" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def test_markers_and_badges(viewer_page: Page) -> None:
    open_viewer(viewer_page)
    result = render_bpmn(
        viewer_page,
        MARKED_XML,
        {
            "completed": ["Start", "Flow_1", "Task_A"],
            "active": ["Task_B"],
            "error": ["No_Such_Element"],
            "counts": {"Task_B": 3, "Task_A": "<b>x</b>"},
        },
    )

    assert result["warnings"] == []
    assert result["missing"] == ["No_Such_Element"]
    page = viewer_page
    assert page.locator(".djs-element.tf-completed[data-element-id='Task_A']").count() == 1
    assert page.locator(".djs-connection.tf-completed[data-element-id='Flow_1']").count() == 1
    assert page.locator(".djs-element.tf-active[data-element-id='Task_B']").count() == 1
    # Only numbers become badges; anything else is dropped, never parsed as markup.
    assert page.locator(".tf-badge").all_text_contents() == ["3"]
    assert page.locator(".djs-overlays b").count() == 0
    fill = page.evaluate(
        """() => getComputedStyle(document.querySelector(
            ".djs-element.tf-active[data-element-id='Task_B'] .djs-visual > :first-child"
        )).stroke"""
    )
    assert fill == "rgb(21, 101, 192)"
    assert watermark_problem(page) is None


# --- editors ------------------------------------------------------------------

CAMUNDA_XML = MARKED_XML.replace(
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI"',
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI"\n    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"',
).replace(
    '<bpmn:userTask id="Task_B" name="审批" />',
    '<bpmn:userTask id="Task_B" name="审批" camunda:candidateGroups="team-lead">'
    "<bpmn:extensionElements><camunda:formData>"
    '<camunda:formField id="approved" label="同意" type="boolean" />'
    "</camunda:formData></bpmn:extensionElements></bpmn:userTask>",
)


def open_editor(page: Page, bundle: str, body: str) -> None:
    """Load one of the editor bundles (``modeler`` or ``dmn``) into a blank page."""
    page.goto("about:blank")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.set_content(
        f"<!doctype html><html><head><meta charset='utf-8'></head><body style='margin:0'>{body}</body></html>"
    )
    page.add_style_tag(path=str(DIST / f"{bundle}.css"))
    page.add_script_tag(path=str(DIST / f"{bundle}.js"))


def test_modeler_round_trips_camunda_attributes(viewer_page: Page) -> None:
    page = viewer_page
    open_editor(
        page,
        "modeler",
        "<div class='tf-modeler'><div id='canvas' class='tf-modeler-canvas'></div>"
        "<div id='panel' class='tf-modeler-panel'></div></div>",
    )
    result = page.evaluate(
        """async (xml) => {
            const modeler = window.TeamflowModeler.create(
                document.getElementById('canvas'), document.getElementById('panel'),
                { xml, lint: true, locale: 'zh-CN' });
            window.tfModeler = modeler;
            const { warnings } = await modeler.teamflowImport;
            const issues = await modeler.get('linting').lint();
            const { xml: saved } = await modeler.saveXML({ format: true });
            return {
                warnings: warnings.length,
                saved,
                lintActive: modeler.get('linting').isActive(),
                lintRules: Object.keys(issues),
                translated: modeler.get('translate')('Append end event'),
            };
        }""",
        CAMUNDA_XML,
    )

    assert result["warnings"] == 0
    assert 'camunda:candidateGroups="team-lead"' in result["saved"]
    assert '<camunda:formField id="approved" label="同意" type="boolean" />' in result["saved"]
    assert result["lintActive"] is True
    assert "end-event-required" in result["lintRules"]
    assert result["translated"] == "添加结束事件"
    # The panel subscribes to selection changes after its first render: select until it follows.
    page.wait_for_function(
        """() => {
            const modeler = window.tfModeler;
            modeler.get('selection').select(modeler.get('elementRegistry').get('Task_B'));
            const header = document.querySelector('#panel .bio-properties-panel-header-labels');
            return header && header.textContent.includes('审批');
        }""",
        polling=100,
    )
    titles = page.locator("#panel .bio-properties-panel-group-header-title").all_text_contents()
    # The panel follows the page language: its Camunda groups are shown in Chinese.
    assert {"任务分配", "表单字段"} <= set(titles)
    assert watermark_problem(page, "canvas") is None


def _dmn_files() -> list[Path]:
    return sorted(PROCESSES.glob("*.dmn"))


@pytest.mark.skipif(not _dmn_files(), reason="processes/*.dmn does not exist yet")
@pytest.mark.parametrize("path", _dmn_files(), ids=lambda p: p.stem)
def test_decision_table_opens_in_dmn_editor(viewer_page: Page, path: Path) -> None:
    page = viewer_page
    open_editor(page, "dmn", "<div id='dmn' class='tf-dmn'></div>")
    warnings = page.evaluate(
        """async (xml) => {
            const modeler = window.TeamflowDmn.create(document.getElementById('dmn'), { xml });
            const { warnings } = await modeler.teamflowImport;
            return warnings.map((w) => String((w && w.message) || w));
        }""",
        path.read_text(encoding="utf-8"),
    )

    assert warnings == []
    shown = page.locator("#dmn[data-ready='1'] .dmn-decision-table-container, #dmn .dmn-drd-container")
    assert shown.count() >= 1


# --- third-party conformance corpus -------------------------------------------


def _conformance_files() -> list[Path]:
    return sorted(CONFORMANCE.rglob("*.bpmn")) if CONFORMANCE.is_dir() else []


@pytest.mark.skipif(not _conformance_files(), reason=f"no conformance corpus at {CONFORMANCE}")
@pytest.mark.parametrize(
    "path",
    _conformance_files(),
    ids=lambda p: p.relative_to(CONFORMANCE).as_posix(),
)
def test_conformance_diagram_opens(viewer_page: Page, path: Path) -> None:
    open_viewer(viewer_page)
    render_bpmn(viewer_page, path.read_text(encoding="utf-8"))

    assert viewer_page.locator(f"#{CANVAS_ID} .djs-container").count() == 1

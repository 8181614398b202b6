"""The semantic diff: layout moves are no change; names, form fields, conditions and cells are."""

from __future__ import annotations

from pathlib import Path

from engine.bpmn import compare

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
SALES = (PROCESSES / "sales.bpmn").read_text(encoding="utf-8")
TABLE = (PROCESSES / "sales_credit_rating.dmn").read_text(encoding="utf-8")


def test_same_files_and_moved_shapes_are_no_change() -> None:
    assert compare.compare({"sales.bpmn": SALES}, {"sales.bpmn": SALES}) == []
    moved = SALES.replace('<dc:Bounds x="', '<dc:Bounds x="1', 3)
    assert moved != SALES
    assert compare.compare({"sales.bpmn": SALES}, {"sales.bpmn": moved}) == []


def test_renamed_task_new_form_field_and_removed_element_are_listed() -> None:
    after = SALES.replace('name="销售拜访"', 'name="上门拜访"', 1)
    after = after.replace(
        "<camunda:formData>",
        '<camunda:formData><camunda:formField id="visit_no" label="拜访编号" type="string" />',
        1,
    )
    changes = {(c.element_id, c.kind): c for c in compare.compare({"a.bpmn": SALES}, {"b.bpmn": after})}
    visit = changes[("Task_SalesVisit", "changed")]
    assert ("name", "销售拜访", "上门拜访") in visit.changes
    first_form = next(c for c in changes.values() if any("formField[visit_no]" in p for p, _, _ in c.changes))
    assert ("formField[visit_no] · label", None, "拜访编号") in first_form.changes
    removed = compare.compare({"a.bpmn": SALES}, {"a.bpmn": SALES.replace('id="EndEvent_Won"', 'id="EndEvent_Won2"')})
    kinds = {(c.element_id, c.kind) for c in removed}
    assert ("EndEvent_Won", "removed") in kinds and ("EndEvent_Won2", "added") in kinds


def test_a_changed_decision_cell_is_listed_with_its_file() -> None:
    after = TABLE.replace('"D"', '"C"', 1)
    changes = compare.compare({"t.dmn": TABLE}, {"t.dmn": after})
    assert len(changes) >= 1 and all(c.file == "t.dmn" and c.kind == "changed" for c in changes)
    assert any(after_value == '"C"' for c in changes for _, _, after_value in c.changes)

"""Parsing and checking definitions: hardened XML, Teamflow's rules, errors with file, element and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.bpmn.parser import parse_deployment
from engine.errors import DefinitionError

DATA = Path(__file__).resolve().parents[1] / "data"
GROUPS = {"sales": "销售组", "team-lead": "团队负责人", "service": "客户服务组"}


def simple() -> str:
    return (DATA / "simple.bpmn").read_text()


def problems_of(files: list[tuple[str, bytes]]) -> list:
    with pytest.raises(DefinitionError) as info:
        parse_deployment(files, GROUPS)
    return info.value.problems


def test_reads_camunda_assignment_form_and_lane_fallback() -> None:
    [process] = parse_deployment([("simple.bpmn", simple().encode())], GROUPS)
    assert process.key == "simple"
    assert process.name == "简单流程"
    assert process.documentation == "A small process for engine tests."
    enter = process.task_meta["Task_Enter"]
    assert enter["groups"] == ["sales"]
    assert enter["due_date"] == "P2D"
    assert enter["priority"] == "70"
    assert [f["id"] for f in enter["form"]] == ["amount", "note", "urgent", "kind", "when"]
    amount = enter["form"][0]
    assert amount["label"] == "金额" and amount["type"] == "long"
    assert amount["constraints"] == {"required": None, "min": "1", "max": "1000"}
    assert enter["form"][3]["options"] == [{"id": "a", "name": "甲"}, {"id": "b", "name": "乙"}]
    # No candidate groups: the lane 团队负责人 maps to the team-lead group.
    assert process.task_meta["Task_Review"]["groups"] == ["team-lead"]


def test_external_entities_are_refused_and_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = (
        simple()
        .replace(
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>',
        )
        .replace("total = amount * 2 + divisor_check", "total = '&x;'")
    )
    [problem] = problems_of([("xxe.bpmn", xxe.encode())])
    assert problem.file == "xxe.bpmn"
    assert "DOCTYPE" in problem.message
    assert "TOP-SECRET" not in problem.message


def test_entity_bomb_is_refused() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol2;</bpmn:definitions>'
    )
    [problem] = problems_of([("bomb.bpmn", bomb.encode())])
    assert "DOCTYPE" in problem.message


def test_malformed_xml_names_the_line() -> None:
    broken = simple().replace('<bpmn:endEvent id="EndEvent_1" name="结束" />', '<bpmn:endEvent id="EndEvent_1">')
    [problem] = problems_of([("broken.bpmn", broken.encode())])
    assert problem.file == "broken.bpmn"
    assert problem.line is not None and problem.line > 1
    assert "well-formed" in problem.message


@pytest.mark.parametrize(
    ("old", "new", "element", "words"),
    [
        ('camunda:candidateGroups="sales"', 'camunda:candidateGroups="nobody"', "Task_Enter", "not a known group"),
        ("total &gt; 100", "${total.getClass() &gt; 100}", "Flow_big", "getClass() is not supported at position 9"),
        ("total &gt; 100", "${total &gt;}", "Flow_big", "ends too early at position 10"),
        ("total &gt; 100", "total &gt;", "Flow_big", "not a valid expression"),
        ("total = amount * 2 + divisor_check", "import os", "Script_Double", "imports are not allowed"),
        ("total = amount * 2 + divisor_check", "x = ().__class__.__base__", "Script_Double", "invalid attribute"),
        ('camunda:dueDate="P2D"', 'camunda:dueDate="soon"', "Task_Enter", "dueDate"),
        ('camunda:priority="70"', 'camunda:priority="high"', "Task_Enter", "priority"),
        ('type="long"', 'type="money"', "Task_Enter", "unsupported type"),
        ('id="StartEvent_1"', 'id="Start"', "Start", "reserved"),
        ('camunda:candidateGroups="sales"', 'camunda:candidateUsers="sales1"', "Task_Enter", "candidateUsers"),
    ],
)
def test_problems_name_file_element_and_line(old: str, new: str, element: str, words: str) -> None:
    text = simple().replace(old, new)
    problems = problems_of([("simple.bpmn", text.encode())])
    matching = [p for p in problems if p.element_id == element and words in p.message]
    assert matching, problems
    assert matching[0].file == "simple.bpmn"
    assert matching[0].line and matching[0].line > 1


def test_timer_literals_must_be_iso_values() -> None:
    text = (DATA / "timers.bpmn").read_text()
    unquoted = text.replace('"P1D"</bpmn:timeDuration>', "P1 day</bpmn:timeDuration>")
    [problem] = problems_of([("timers.bpmn", unquoted.encode())])
    assert problem.element_id == "Timer_Wait" and "neither ISO 8601" in problem.message
    invalid = text.replace('"P1D"</bpmn:timeDuration>', '"one day"</bpmn:timeDuration>')
    [problem] = problems_of([("timers.bpmn", invalid.encode())])
    assert problem.element_id == "Timer_Wait" and "ISO-8601" in problem.message


def test_business_rule_task_needs_a_decision_ref() -> None:
    text = simple().replace(
        '<bpmn:scriptTask id="Script_Double" name="计算" scriptFormat="python">\n'
        "      <bpmn:script>total = amount * 2 + divisor_check</bpmn:script>\n    </bpmn:scriptTask>",
        '<bpmn:businessRuleTask id="Script_Double" name="计算" />',
    )
    problems = problems_of([("simple.bpmn", text.encode())])
    assert any(p.element_id == "Script_Double" and "decisionRef" in p.message for p in problems)


def test_dmn_with_feel_ranges_or_two_decisions_is_refused() -> None:
    dmn = (Path(__file__).resolve().parents[3] / "processes" / "complaint_severity.dmn").read_text()
    import re

    feel = re.sub(r"<text>\"billing\"</text>", "<text>[1..5]</text>", dmn, count=1)
    if feel == dmn:  # the table may not use that literal; break the first non-empty input entry instead
        feel = re.sub(r"(<inputEntry[^>]*>\s*<text>)([^<-][^<]*)(</text>)", r"\1[1..5]\3", dmn, count=1)
    problems = problems_of([("simple.bpmn", simple().encode()), ("severity.dmn", feel.encode())])
    assert any(p.file == "severity.dmn" and "FEEL" in p.message for p in problems)


def test_unknown_files_and_non_bpmn_roots_are_refused() -> None:
    problems = problems_of([("notes.txt", b"hello")])
    assert problems[0].file == "notes.txt"
    problems = problems_of([("x.bpmn", b"<html/>")])
    assert "not BPMN" in problems[0].message


def test_no_executable_process_is_refused() -> None:
    text = simple().replace('isExecutable="true"', 'isExecutable="false"')
    [problem] = problems_of([("simple.bpmn", text.encode())])
    assert "executable" in problem.message


def _with_rule(field: str, name: str, value: str) -> str:
    opening = f'<camunda:formField id="{field}"'
    text = simple()
    start = text.index(opening)
    end = text.index(">", start)
    tag = text[start:end].rstrip("/").rstrip()
    rule = f'<camunda:properties><camunda:property id="{name}" value="{value}" /></camunda:properties>'
    closing = "</camunda:formField>" if text[end - 1] == "/" else ""
    return text[:start] + tag + ">" + rule + closing + text[end + 1 :]


@pytest.mark.parametrize(
    ("field", "name", "value", "words"),
    [
        ("note", "required_if", "nothing", "not another field"),
        ("note", "required_if", "kind=c", "not options of 'kind'"),
        ("note", "required_if", "urgent=maybe", "true or false"),
        ("note", "not_before", "today", "only on a date field"),
        ("when", "not_before", "yesterday", "takes 'today'"),
    ],
)
def test_form_field_rules_are_checked_at_deploy(field: str, name: str, value: str, words: str) -> None:
    problems = problems_of([("simple.bpmn", _with_rule(field, name, value).encode())])
    assert [p for p in problems if p.element_id == "Task_Enter" and words in p.message and p.line], problems


def test_form_field_rules_are_read() -> None:
    [process] = parse_deployment([("simple.bpmn", _with_rule("note", "required_if", "kind=b").encode())], GROUPS)
    note = process.task_meta["Task_Enter"]["form"][1]
    assert note["properties"] == {"required_if": "kind=b"}


def _choice(flows: str, extra: str = "") -> bytes:
    """A process: a script sets n, an exclusive gateway chooses between ends A and B."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="choice" name="Choice" isExecutable="true">
    <bpmn:startEvent id="S"/>
    <bpmn:sequenceFlow id="f0" sourceRef="S" targetRef="Set"/>
    <bpmn:scriptTask id="Set" scriptFormat="python">{extra}<bpmn:script>n = 5</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f1" sourceRef="Set" targetRef="G"/>
    <bpmn:exclusiveGateway id="G"/>
    {flows}
    <bpmn:endEvent id="A"/>
    <bpmn:endEvent id="B"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def _end_of(process) -> str:  # type: ignore[no-untyped-def]
    from engine.bpmn import runner

    workflow = runner.create_workflow(process.spec, process.subprocess_specs, {})
    runner.run_steps(workflow)
    assert runner.is_completed(workflow)
    return runner.end_event(workflow)[0]


@pytest.mark.parametrize(
    ("condition", "end"),
    [("=n &gt; 3", "A"), ("= not(n &gt; 3)", "B"), ('=n = 5 and "x" != "y"', "A"), ("=n = 4 or n &lt; 0", "B")],
)
def test_feel_conditions_are_translated_at_deploy(condition: str, end: str) -> None:
    flows = f"""<bpmn:sequenceFlow id="fa" sourceRef="G" targetRef="A">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="fb" sourceRef="G" targetRef="B">
      <bpmn:conditionExpression>{"= not(" + condition[1:] + ")"}</bpmn:conditionExpression></bpmn:sequenceFlow>"""
    [process] = parse_deployment([("c.bpmn", _choice(flows))], GROUPS)
    assert _end_of(process) == end


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ('= some r in risks satisfies r = "red"', "FEEL 'some' is not supported at position 3"),
        ("=count(risks) &gt; 1", "FEEL function count() is not supported at position 2"),
        ("=n in [1..3]", "FEEL 'in' is not supported"),
        ("=n ~ 3", "'~' is not supported"),
    ],
)
def test_feel_outside_the_subset_is_refused_with_its_position(condition: str, words: str) -> None:
    flows = f"""<bpmn:sequenceFlow id="fa" sourceRef="G" targetRef="A">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="fb" sourceRef="G" targetRef="B"/>"""
    problems = problems_of([("c.bpmn", _choice(flows))])
    assert [p.element_id for p in problems] == ["fa"] and words in problems[0].message, problems


def test_a_flow_without_condition_is_taken_when_reached_as_in_camunda() -> None:
    flows = """<bpmn:sequenceFlow id="fa" sourceRef="G" targetRef="A">
      <bpmn:conditionExpression>n &gt; 10</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="fb" sourceRef="G" targetRef="B"/>"""
    # An ioSpecification whose output nobody sets documents the model, as in Camunda.
    io = """<bpmn:ioSpecification><bpmn:dataOutput id="out" name="Result"/><bpmn:inputSet/>
      <bpmn:outputSet><bpmn:dataOutputRefs>out</bpmn:dataOutputRefs></bpmn:outputSet></bpmn:ioSpecification>"""
    [process] = parse_deployment([("c.bpmn", _choice(flows, io))], GROUPS)
    assert _end_of(process) == "B"
    [warning] = process.warnings
    assert warning.element_id == "fb" and "no condition" in warning.message

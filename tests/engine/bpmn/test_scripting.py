"""Scripts and conditions run under RestrictedPython: escapes fail with a clear error and run nothing."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from lxml import etree
from SpiffWorkflow.camunda.parser import CamundaParser

from engine.bpmn import runner
from engine.bpmn.scripting import RestrictedEnvironment, ScriptCompileError

DATA = Path(__file__).resolve().parents[1] / "data"


def workflow_running(script: str):  # type: ignore[no-untyped-def]
    """Parse with SpiffWorkflow alone (no deploy-time checks) so that the runtime guard is what is tested."""
    text = (DATA / "script.bpmn").read_text().replace("SCRIPT", escape(script))
    parser = CamundaParser()
    parser.add_bpmn_xml(etree.fromstring(text.encode()), filename="script.bpmn")
    return runner.create_workflow(parser.get_spec("script"), parser.get_subprocess_specs("script"), {"n": 1})


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("marker = 1\nimport os\nos.system('touch /tmp/pwned')", "imports are not allowed"),
        ("marker = 1\ndata = open('/etc/passwd').read()", "open"),
        ("marker = 1\nx = ().__class__.__base__.__subclasses__()", "invalid attribute name"),
        ("marker = 1\nx = getattr((), '__class__')", "getattr"),
        ("marker = 1\nx = __import__('os')", "__import__"),
        ("marker = 1\nx = datetime.sys.modules['os'].popen('id').read()", "TypeError"),
        ("marker = 1\nx = date.today.__self__", "invalid attribute name"),
    ],
)
def test_escapes_fail_the_step_with_a_clear_error_and_run_nothing(script: str, words: str) -> None:
    workflow = workflow_running(script)
    with pytest.raises(runner.WorkflowFailure) as info:
        runner.run_steps(workflow)
    assert info.value.element_id == "Script_Run"
    assert words in info.value.message
    assert "marker" not in runner.current_data(workflow)
    assert not runner.ready_tasks(workflow)


def test_allowed_script_runs_and_keeps_its_variables() -> None:
    workflow = workflow_running("total = sum([n, 2, 3])\nnames = sorted(['b', 'a'])\nlabel = 'x' * n")
    runner.run_steps(workflow)
    data = runner.current_data(workflow)
    assert data["total"] == 6 and data["names"] == ["a", "b"] and data["label"] == "x"
    assert [t.element_id for t in runner.ready_tasks(workflow)] == ["Task_After"]


def test_expressions_cannot_reach_dunders() -> None:
    env = RestrictedEnvironment()
    assert env.evaluate("a + 1", {"a": 1}) == 2
    with pytest.raises(ScriptCompileError):
        env.evaluate("a.__class__", {"a": 1})


def test_locals_lists_the_variables_a_script_sees_and_nothing_of_the_sandbox() -> None:
    env = RestrictedEnvironment()
    context = {"hey": False}
    env.execute("seen = sorted(locals())\nif 'hey' in locals():\n  hey = True\nelse:\n  other = True", context)
    assert context == {"hey": True, "seen": ["hey"]}
    context = {}
    env.execute("if 'hey' in locals():\n  hey = True\nelse:\n  something_else = True", context)
    assert context == {"something_else": True}
    assert "_getattr_" not in env.evaluate("locals()", {"a": 1})

"""Camunda input/output parameters: read at deploy, applied when a task starts and when it completes.

``camunda:inputParameter`` values are set on the task's data when it becomes ready (a user task's form and
a script see them); ``camunda:outputParameter`` values are evaluated against the task's data when it
completes and passed on. A value is text (``${...}`` is JUEL, anything else a string), a ``camunda:list``
or a ``camunda:map`` of such values; scripts in other languages are refused at deploy.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnTaskSpec

from engine.bpmn import juel

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
EXTENSION = "teamflow:io"


class IoParameterError(ValueError):
    """An input or output parameter that Teamflow cannot evaluate."""


def _value(node: Any) -> str:
    """Return the Python expression for a parameter's (or list item's) value."""
    children = [c for c in node if isinstance(c.tag, str)]
    if not children:
        text = (node.text or "").strip()
        return juel.translate(text) if juel.is_juel(text) else repr(text or None)
    child = children[0]
    kind = child.tag.rsplit("}", 1)[-1]
    if kind == "list":
        return "[" + ", ".join(_value(item) for item in child if isinstance(item.tag, str)) + "]"
    if kind == "map":
        entries = [e for e in child if isinstance(e.tag, str)]
        return "{" + ", ".join(f"{e.get('key')!r}: {_value(e)}" for e in entries) + "}"
    if kind == "script":
        fmt = child.get("scriptFormat") or "?"
        raise IoParameterError(f"a {fmt} script as parameter value cannot run in Teamflow")
    raise IoParameterError(f"camunda:{kind} is not a parameter value Teamflow reads")


def read(element: Any) -> dict[str, list[list[str]]] | None:
    """Read an element's camunda:inputOutput as {"inputs": [[name, python]], "outputs": [...]}, or None.

    :raises IoParameterError: a value is a script or of an unknown kind, or a name is not a variable name.
    :raises juel.JuelError: a JUEL value is outside the supported subset.
    """
    io = element.find(f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_NS}}}inputOutput")
    if io is None:
        return None
    mapping: dict[str, list[list[str]]] = {"inputs": [], "outputs": []}
    for tag, key in (("inputParameter", "inputs"), ("outputParameter", "outputs")):
        for parameter in io.iterfind(f"{{{CAMUNDA_NS}}}{tag}"):
            name = (parameter.get("name") or "").strip()
            if not name.isidentifier() or name.startswith("_"):
                raise IoParameterError(f"camunda:{tag} name {name!r} must be a variable name")
            mapping[key].append([name, _value(parameter)])
    return mapping


def attach(task_spec: Any, mapping: dict[str, list[list[str]]]) -> None:
    """Keep the parameters on the task spec; its extensions are stored with the spec."""
    extensions = dict(getattr(task_spec, "extensions", None) or {})
    extensions[EXTENSION] = mapping
    task_spec.extensions = extensions


def _apply(my_task: Any, key: str) -> None:
    mapping = (getattr(my_task.task_spec, "extensions", None) or {}).get(EXTENSION)
    if not mapping:
        return
    engine = my_task.workflow.script_engine
    for name, expression in mapping[key]:
        my_task.data[name] = engine.evaluate(my_task, expression)


_update_hook = BpmnTaskSpec._update_hook
_on_complete_hook = BpmnTaskSpec._on_complete_hook


def _update_with_inputs(self: Any, my_task: Any) -> Any:
    ready = _update_hook(self, my_task)
    if ready:
        _apply(my_task, "inputs")
    return ready


def _complete_with_outputs(self: Any, my_task: Any) -> None:
    _apply(my_task, "outputs")
    _on_complete_hook(self, my_task)


# Every BPMN task spec class inherits these hooks, so this is where Camunda's mapping takes effect.
BpmnTaskSpec._update_hook = _update_with_inputs
BpmnTaskSpec._on_complete_hook = _complete_with_outputs

"""Dry runs of a draft in memory, and the named scenarios that run on every validate and deploy."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn import dryrun
from engine.bpmn.parser import ParsedProcess
from engine.db import utcnow
from engine.errors import FieldProblem, InvalidInputError, NotFoundError
from engine.models import ProcessScenario
from engine.repositories import editing as repo
from engine.services import definitions, forms, people
from engine.views import ScenarioResult, ScenarioView, TrialStepView, TrialView

MAX_SCENARIO_STEPS = dryrun.MAX_STEPS


def _prepare(meta: Mapping[str, Any]) -> Any:
    def prepare(element_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        form = (meta.get(element_id) or {}).get("form") or []
        try:
            return forms.validate(form, data)
        except InvalidInputError as exc:
            raise dryrun.StepRefused(exc.message) from None

    return prepare


def _form(meta: Mapping[str, Any], element_id: str) -> list[dict[str, Any]]:
    fields = forms.field_views((meta.get(element_id) or {}).get("form") or [])
    return [{**asdict(f), "options": [asdict(o) for o in f.options]} for f in fields]


def trial(process: ParsedProcess, steps: Sequence[Mapping[str, Any]]) -> TrialView:
    """Run a parsed process in memory with the given steps, with the real script engine and decision tables."""
    meta = process.task_meta
    names = {k: str(v.get("name") or k) for k, v in meta.items()}
    outcome = dryrun.run(process.spec, process.subprocess_specs, steps, _prepare(meta), names)
    return TrialView(
        steps=tuple(TrialStepView(s.element_id, s.name, s.kind, s.data) for s in outcome.steps),
        completed=tuple(outcome.completed),
        active=tuple(outcome.active),
        waiting=tuple(
            {"element_id": element_id, "name": name, "form": _form(meta, element_id)}
            for element_id, name in outcome.waiting
        ),
        ended=tuple(outcome.ended),
        finished=outcome.finished,
        data=outcome.data,
        error_element=outcome.error_element,
        error=outcome.error,
    )


def check_steps(steps: Any) -> list[dict[str, Any]]:
    """Check the shape of scenario or dry-run steps.

    :raises InvalidInputError: not a list of {"task", "data"} or {"timer"} objects.
    """
    if not isinstance(steps, list) or len(steps) > MAX_SCENARIO_STEPS:
        raise InvalidInputError(
            "steps must be a list", [FieldProblem("steps", f"a list of at most {MAX_SCENARIO_STEPS}")]
        )
    checked = []
    for index, step in enumerate(steps, start=1):
        ok = isinstance(step, dict) and (
            (
                isinstance(step.get("task"), str)
                and isinstance(step.get("data", {}), dict)
                and set(step) <= {"task", "data"}
            )
            or (isinstance(step.get("timer"), str) and set(step) == {"timer"})
        )
        if not ok:
            raise InvalidInputError(
                f"step {index} must be {{task, data}} or {{timer}}", [FieldProblem(f"steps[{index}]", "malformed")]
            )
        checked.append(dict(step))
    return checked


def parsed_process(session: Session, key: str, files: Sequence[tuple[str, bytes]]) -> ParsedProcess:
    """Parse files as deploy does and return the process ``key`` among them.

    :raises DefinitionError: the files fail to parse or check.
    :raises NotFoundError: they hold no such process.
    """
    for process in definitions.check(session, files):
        if process.key == key:
            return process
    raise NotFoundError(f"the files hold no process {key!r}")


def _scenario_view(row: ProcessScenario) -> ScenarioView:
    return ScenarioView(row.key, row.name, tuple(row.steps), row.expected_end, dict(row.expected_data))


def list_scenarios(session: Session, key: str) -> list[ScenarioView]:
    """Return a process's scenarios by name."""
    return [_scenario_view(r) for r in repo.scenarios(session, key)]


def save_scenario(
    session: Session,
    key: str,
    actor: str,
    name: Any,
    steps: Any,
    expected_end: Any = None,
    expected_data: Any = None,
) -> ScenarioView:
    """Create or replace a named scenario of a process.

    :raises PermissionDeniedError: the actor is not an owner or admin.
    :raises InvalidInputError: a field is malformed.
    """
    people.require_role(people.actor(session, actor), "owner")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise InvalidInputError("name is required", [FieldProblem("name", "1 to 200 characters")])
    checked = check_steps(steps)
    if expected_end is not None and (not isinstance(expected_end, str) or len(expected_end) > 200):
        raise InvalidInputError("expected_end must be an element id", [FieldProblem("expected_end", "a string")])
    if expected_data is not None and not isinstance(expected_data, dict):
        raise InvalidInputError("expected_data must be an object", [FieldProblem("expected_data", "an object")])
    if reason := forms.unstorable(checked) or forms.unstorable(expected_data):
        raise InvalidInputError(f"scenario {reason}", [FieldProblem("steps", reason)])
    row = repo.get_scenario(session, key, name.strip())
    if row is None:
        row = ProcessScenario(
            key=key,
            name=name.strip(),
            steps=checked,
            expected_end=expected_end or None,
            expected_data=dict(expected_data or {}),
            updated_by=actor,
        )
        repo.add(session, row)
    else:
        row.steps, row.expected_end, row.expected_data = checked, expected_end or None, dict(expected_data or {})
        row.updated_by, row.updated_at = actor, utcnow()
        session.flush()
    return _scenario_view(row)


def delete_scenario(session: Session, key: str, name: str, actor: str) -> None:
    """Delete a scenario.

    :raises PermissionDeniedError: the actor is not an owner or admin.
    :raises NotFoundError: no such scenario.
    """
    people.require_role(people.actor(session, actor), "owner")
    row = repo.get_scenario(session, key, name)
    if row is None:
        raise NotFoundError(f"process {key!r} has no scenario {name!r}")
    repo.delete(session, row)


def import_scenarios(session: Session, paths: Sequence[Path], actor: str) -> int:
    """Import scenario files (``{"process": key, "scenarios": [...]}``); return how many were saved.

    :raises InvalidInputError: a file is not such JSON.
    """
    count = 0
    for path in paths:
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
            key, items = content["process"], content["scenarios"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInputError(
                f"{path.name}: not a scenario file ({exc})", [FieldProblem("file", path.name)]
            ) from None
        for item in items:
            save_scenario(
                session,
                key,
                actor,
                item.get("name"),
                item.get("steps"),
                item.get("expected_end"),
                item.get("expected_data"),
            )
            count += 1
    return count


def check_scenario(process: ParsedProcess, scenario: ScenarioView) -> ScenarioResult:
    """Run one scenario against a parsed process and say whether it reached what it expects."""
    outcome = trial(process, scenario.steps)

    def result(passed: bool, message: str, element_id: str | None = None) -> ScenarioResult:
        return ScenarioResult(scenario.name, passed, message, element_id, outcome)

    if outcome.error:
        return result(False, outcome.error, outcome.error_element)
    if scenario.expected_end and scenario.expected_end not in outcome.ended:
        where = ", ".join(outcome.ended) or ", ".join(w["element_id"] for w in outcome.waiting) or "nowhere"
        return result(False, f"expected to end at {scenario.expected_end}, got {where}", scenario.expected_end)
    for name, expected in scenario.expected_data.items():
        if outcome.data.get(name) != expected:
            return result(False, f"expected {name} = {expected!r}, got {outcome.data.get(name)!r}")
    return result(True, "passed")


def run_scenarios(session: Session, key: str, process: ParsedProcess) -> list[ScenarioResult]:
    """Run every scenario of the process against a parsed draft or version."""
    return [check_scenario(process, s) for s in list_scenarios(session, key)]

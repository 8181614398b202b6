"""A fallback group picked at deploy receives the user tasks that name no known group."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from engine import DefinitionError, definitions, instances

DATA = Path(__file__).resolve().parents[1] / "data"
FILE = DATA / "unknown_group.bpmn"


def test_without_a_fallback_group_the_tasks_are_refused(session: Session, users: dict[str, str]) -> None:
    with pytest.raises(DefinitionError) as info:
        definitions.deploy_paths(session, [FILE], "owner1")
    assert {p.element_id for p in info.value.problems} == {"Task_Accounting", "Task_Nobody"}
    assert definitions.list_processes(session) == []


def test_fallback_group_takes_the_tasks_and_the_version_records_it(session: Session, users: dict[str, str]) -> None:
    [result] = definitions.deploy_paths(session, [FILE], "owner1", fallback_group="team-lead")
    assert result.created
    assert [(w.element_id, w.line is not None) for w in result.warnings] == [
        ("Task_Accounting", True),
        ("Task_Nobody", True),
    ]
    assert "accounting" in result.warnings[0].message and "'team-lead'" in result.warnings[0].message
    [version] = definitions.list_versions(session, "unknown_group")
    assert version.fallback_group == "team-lead"
    inst = instances.start_instance(session, "unknown_group", "owner1", {})
    [task] = instances.get_instance(session, inst.id).tasks
    assert (task.name, task.group) == ("Check invoice", "team-lead")
    instances.complete_task(session, task.id, "lead1", {})
    [task] = instances.get_instance(session, inst.id).tasks
    assert (task.name, task.group) == ("Archive", "team-lead")
    instances.complete_task(session, task.id, "lead1", {})
    [task] = instances.get_instance(session, inst.id).tasks
    assert (task.name, task.group) == ("Tell the customer", "sales")  # a known group is kept


def test_the_same_files_with_another_choice_are_a_new_version(session: Session, users: dict[str, str]) -> None:
    definitions.deploy_paths(session, [FILE], "owner1", fallback_group="team-lead")
    [again] = definitions.deploy_paths(session, [FILE], "owner1", fallback_group="team-lead")
    assert (again.version, again.created) == (1, False)
    [other] = definitions.deploy_paths(session, [FILE], "owner1", fallback_group="service")
    assert (other.version, other.created) == (2, True)
    assert [v.fallback_group for v in definitions.list_versions(session, "unknown_group")] == ["team-lead", "service"]


def test_a_file_with_known_groups_records_no_fallback(session: Session, users: dict[str, str]) -> None:
    [result] = definitions.deploy_paths(session, [DATA / "simple.bpmn"], "owner1", fallback_group="team-lead")
    assert result.warnings == ()
    assert definitions.list_versions(session, "simple")[0].fallback_group is None


def test_an_unknown_fallback_group_is_refused(session: Session, users: dict[str, str]) -> None:
    with pytest.raises(DefinitionError) as info:
        definitions.deploy_paths(session, [FILE], "owner1", fallback_group="accounting")
    [problem] = info.value.problems
    assert "fallback group 'accounting' is not a known group" in problem.message
    assert definitions.list_processes(session) == []

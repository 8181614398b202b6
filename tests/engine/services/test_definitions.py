"""Deploying definitions: versions, unchanged content, errors, the spec cache and spec-less storage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from engine import DefinitionError, NotFoundError, audit, definitions, instances, task_queue
from engine.bpmn import parser as bpmn_parser

DATA = Path(__file__).resolve().parents[1] / "data"


def deploy_text(session: Session, name: str, text: str):  # type: ignore[no-untyped-def]
    return definitions.deploy(session, [(name, text.encode())], "owner1")


def test_deploy_numbers_versions_and_skips_unchanged_content(session: Session, users: dict[str, str]) -> None:
    text = (DATA / "simple.bpmn").read_text()
    [first] = deploy_text(session, "simple.bpmn", text)
    assert (first.key, first.version, first.created) == ("simple", 1, True)
    [again] = deploy_text(session, "simple.bpmn", text)
    assert (again.version, again.created) == (1, False)
    [second] = deploy_text(session, "simple.bpmn", text.replace("填写", "填写金额"))
    assert (second.version, second.created) == (2, True)
    session.commit()
    assert [v.version for v in definitions.list_versions(session, "simple")] == [1, 2]
    deployed = audit.recent_events(session, type_="deployed")
    assert [(e.actor, e.data["version"]) for e in deployed] == [("owner1", 2), ("owner1", 1)]
    [latest] = [p for p in definitions.list_processes(session) if p.key == "simple"]
    assert latest.version == 2 and latest.name == "简单流程"
    assert "填写金额" in definitions.get_xml(session, "simple")
    assert "填写金额" not in definitions.get_xml(session, "simple", 1)


def test_running_instances_keep_their_version(session: Session, users: dict[str, str]) -> None:
    text = (DATA / "simple.bpmn").read_text()
    deploy_text(session, "simple.bpmn", text)
    old = instances.start_instance(session, "simple", "sales1", {"divisor_check": 0}, "old")
    deploy_text(session, "simple.bpmn", text.replace('name="填写"', 'name="新的填写"'))
    new = instances.start_instance(session, "simple", "sales1", {"divisor_check": 0}, "new")
    session.commit()
    assert (old.version, new.version) == (1, 2)
    assert instances.get_instance(session, old.id).tasks[0].name == "填写"
    assert instances.get_instance(session, new.id).tasks[0].name == "新的填写"
    task = instances.get_instance(session, old.id).tasks[0]
    instances.complete_task(session, task.id, "sales1", {"amount": 5})
    session.commit()
    assert instances.get_instance(session, old.id).status == "completed"


def test_a_bad_file_stores_nothing(session: Session, users: dict[str, str]) -> None:
    good = (DATA / "simple.bpmn").read_bytes()
    bad = (DATA / "loop.bpmn").read_text().replace('candidateGroups="sales"', 'candidateGroups="ghosts"').encode()
    with pytest.raises(DefinitionError) as info:
        definitions.deploy(session, [("simple.bpmn", good), ("loop.bpmn", bad)], "owner1")
    [problem] = info.value.problems
    assert (problem.file, problem.element_id) == ("loop.bpmn", "Task_Work")
    assert problem.line is not None
    session.rollback()
    assert definitions.list_processes(session) == []


def test_specs_are_cached_and_reload_from_the_database_without_parsing(
    session: Session, users: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy_text(session, "simple.bpmn", (DATA / "simple.bpmn").read_text())
    session.commit()

    def no_parsing(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("XML parsed again")

    monkeypatch.setattr(bpmn_parser, "parse_deployment", no_parsing)
    monkeypatch.setattr(bpmn_parser.CamundaParser, "add_bpmn_xml", no_parsing)
    definitions.clear_cache()  # as after a restart: the spec comes from its stored JSON
    inst = instances.start_instance(session, "simple", "sales1", {"divisor_check": 0}, "t")
    first = definitions.spec_for(session, inst_version_id(session, inst.id))
    second = definitions.spec_for(session, inst_version_id(session, inst.id))
    assert first is second


def inst_version_id(session: Session, instance_id: int) -> int:
    from engine.repositories import instances as repo

    row = repo.get(session, instance_id)
    assert row is not None
    return row.process_version_id


def test_stored_workflow_leaves_the_spec_out(session: Session, users: dict[str, str]) -> None:
    deploy_text(session, "simple.bpmn", (DATA / "simple.bpmn").read_text())
    inst = instances.start_instance(session, "simple", "sales1", {"divisor_check": 0}, "t")
    session.commit()
    from engine.repositories import instances as repo

    row = repo.get(session, inst.id)
    assert row is not None
    stored = json.loads(row.workflow)
    assert "spec" not in stored and "subprocess_specs" not in stored
    assert stored["tasks"]
    assert task_queue.list_tasks(session, instance_id=inst.id, status="open")[0].element_id == "Task_Enter"


def test_unknown_process_and_version(session: Session, users: dict[str, str]) -> None:
    with pytest.raises(NotFoundError):
        definitions.get_xml(session, "nope")
    with pytest.raises(NotFoundError):
        definitions.list_versions(session, "nope")
    with pytest.raises(NotFoundError):
        instances.start_instance(session, "nope", "sales1", {}, "x")


def test_deploy_paths_reads_folders(session: Session, users: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "simple.bpmn").write_bytes((DATA / "simple.bpmn").read_bytes())
    (tmp_path / "loop.bpmn").write_bytes((DATA / "loop.bpmn").read_bytes())
    results = definitions.deploy_paths(session, [tmp_path], "owner1")
    assert sorted(r.key for r in results) == ["loop", "simple"]
    with pytest.raises(NotFoundError):
        definitions.deploy_paths(session, [tmp_path / "missing.bpmn"], "owner1")


PROCESSES = Path(__file__).resolve().parents[3] / "processes"


def test_a_bpmn_file_alone_uses_the_decision_tables_deployed_before(session: Session, users: dict[str, str]) -> None:
    bpmn = (PROCESSES / "complaint.bpmn").read_text()
    dmn = (PROCESSES / "complaint_severity.dmn").read_text()
    definitions.deploy(session, [("complaint.bpmn", bpmn.encode()), ("complaint_severity.dmn", dmn.encode())], "o")
    [changed] = definitions.deploy(
        session, [("complaint.bpmn", bpmn.replace("登记投诉", "登记客户投诉").encode())], "o"
    )
    assert (changed.key, changed.version, changed.created) == ("complaint", 2, True)
    assert sorted(definitions.get_files(session, "complaint")) == ["complaint.bpmn", "complaint_severity.dmn"]
    # Renaming a file changes nothing.
    [renamed] = definitions.deploy(
        session, [("投诉.bpmn", bpmn.replace("登记投诉", "登记客户投诉").encode()), ("s.dmn", dmn.encode())], "o"
    )
    assert (renamed.version, renamed.created) == (2, False)


def test_decision_tables_alone_make_new_versions_of_the_processes_using_them(
    session: Session, users: dict[str, str]
) -> None:
    definitions.deploy_paths(session, [PROCESSES], "owner1")
    dmn = (PROCESSES / "complaint_severity.dmn").read_text().replace('"PT2H"', '"PT1H"')
    [result] = definitions.deploy(session, [("complaint_severity.dmn", dmn.encode())], "owner1")
    assert (result.key, result.version, result.created) == ("complaint", 2, True)
    assert '"PT1H"' in definitions.get_files(session, "complaint")["complaint_severity.dmn"]
    assert [p.version for p in definitions.list_processes(session) if p.key == "sales"] == [1]
    with pytest.raises(DefinitionError) as info:
        definitions.deploy(
            session, [("other.dmn", dmn.replace('id="complaint_severity"', 'id="unused"').encode())], "owner1"
        )
    assert "no process uses decision unused" in info.value.problems[0].message

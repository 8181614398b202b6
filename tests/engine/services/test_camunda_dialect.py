"""A diagram written as Camunda 7 users write it runs: JUEL conditions and attributes, ISO and cron timers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine import DefinitionError, definitions, instances, timers, utcnow
from engine.bpmn.juel import TEAM_ZONE
from engine.bpmn.timer_values import cron_next

DATA = Path(__file__).resolve().parents[1] / "data"


def deploy(session: Session) -> None:
    definitions.deploy_paths(session, [DATA / "camunda_dialect.bpmn"], "owner1")


@pytest.mark.parametrize(
    ("data", "task", "group"),
    [
        ({"amount": 8000, "customer": {"trusted": False}, "team": "risk", "approved": True}, "Approve", "risk"),
        ({"amount": 8000, "customer": {"trusted": True}, "team": "risk", "approved": True}, "Record", "sales"),
        ({"amount": 500, "customer": {"trusted": False}, "team": "risk", "approved": True}, "Record", "sales"),
    ],
)
def test_juel_condition_routes_and_juel_attributes_assign(
    session: Session, users: dict[str, str], data: dict[str, object], task: str, group: str
) -> None:
    deploy(session)
    inst = instances.start_instance(session, "dialect", "sales1", data)
    [open_task] = instances.get_instance(session, inst.id).tasks
    assert (open_task.name, open_task.group) == (task, group)
    if task == "Approve":
        assert open_task.priority == 90
        assert open_task.due_at is not None
        assert timedelta(hours=23) < open_task.due_at - inst.started_at <= timedelta(days=1, minutes=1)


def test_bare_iso_duration_is_a_literal_timer(
    session_factory: sessionmaker[Session], session: Session, users: dict[str, str]
) -> None:
    deploy(session)
    data = {"amount": 8000, "customer": {"trusted": False}, "team": "risk", "approved": False}
    inst = instances.start_instance(session, "dialect", "sales1", data)
    session.commit()
    [timer] = instances.get_instance(session, inst.id).timers
    assert timedelta(hours=3, minutes=59) < timer.due_at - inst.started_at <= timedelta(hours=4, seconds=5)
    assert timers.fire_due_timers(session_factory, utcnow() + timedelta(hours=5)) == 1
    session.expire_all()
    assert sorted(t.name for t in instances.get_instance(session, inst.id).tasks) == ["Approve", "Remind"]


def test_cron_start_timer_fires_at_the_next_quartz_time(
    session_factory: sessionmaker[Session], session: Session, users: dict[str, str]
) -> None:
    text = (DATA / "camunda_dialect.bpmn").read_text()
    cron = """<bpmn:startEvent id="StartEvent_1">
      <bpmn:timerEventDefinition id="TimerDef_Start">
        <bpmn:timeCycle>0 0 9 ? * MON-FRI</bpmn:timeCycle>
      </bpmn:timerEventDefinition>
    </bpmn:startEvent>"""
    text = text.replace('<bpmn:startEvent id="StartEvent_1" />', cron)
    definitions.deploy(session, [("cron.bpmn", text.encode())], "owner1")
    session.commit()
    [start] = timers.list_timers(session)
    assert start.due_at.astimezone(TEAM_ZONE).weekday() < 5
    assert (start.due_at.astimezone(TEAM_ZONE).hour, start.due_at.minute, start.due_at.second) == (9, 0, 0)
    first_due = start.due_at
    assert timers.fire_due_timers(session_factory, first_due + timedelta(seconds=1)) >= 1
    session.expire_all()
    [again] = [t for t in timers.list_timers(session) if t.instance_id == 0 and t.element_id == "StartEvent_1"]
    assert again.due_at == cron_next("0 0 9 ? * MON-FRI", max(first_due, utcnow()))


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("${amount &gt; 1000 &amp;&amp; !customer.trusted}", "${amount.getClass()}", "getClass() is not supported at"),
        ("PT4H", "0 0 9 ? * MON-FRI", "neither ISO 8601"),
        ("PT4H", "P4X", "not a valid ISO-8601"),
        ('camunda:candidateGroups="${team}"', 'camunda:candidateGroups="${team +}"', "candidateGroups"),
        ('camunda:priority="${amount > 5000 ? 90 : 50}"', 'camunda:priority="${amount ?}"', "priority"),
    ],
)
def test_bad_dialect_is_refused_and_nothing_is_stored(
    session: Session, users: dict[str, str], old: str, new: str, words: str
) -> None:
    text = (DATA / "camunda_dialect.bpmn").read_text().replace(old, new)
    with pytest.raises(DefinitionError) as info:
        definitions.deploy(session, [("dialect.bpmn", text.encode())], "owner1")
    assert any(words in p.message for p in info.value.problems), info.value.problems
    assert definitions.list_processes(session) == []

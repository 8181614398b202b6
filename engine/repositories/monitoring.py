"""Aggregate instances, tasks and key data for the managers' reports, in SQL on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, distinct, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from engine.models import ElementTally, HumanTask, InstanceFact, ProcessInstance, Timer

Percentiles = dict[Any, tuple[float | None, ...]]


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def percentile_disc(values: Sequence[float], p: float) -> float | None:
    """Return the smallest value with at least ``p`` of the values at or below it (SQL's percentile_disc)."""
    if not values:
        return None
    index = max(0, math.ceil(round(p * len(values), 9)) - 1)
    return float(sorted(values)[min(index, len(values) - 1)])


def seconds_between(session: Session, start: Any, end: Any) -> Any:
    """An SQL expression for the seconds from ``start`` to ``end``."""
    if _postgres(session):
        return func.extract("epoch", end - start)
    # julianday is a float of days: round to milliseconds so whole seconds come out whole.
    return func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)


def percentiles(
    session: Session, value: Any, group: Any, where: Sequence[Any], points: Sequence[float] = (0.5, 0.9)
) -> Percentiles:
    """Return {group: (percentile per point)} of ``value`` over the rows matching ``where``."""
    if _postgres(session):
        columns = [func.percentile_disc(p).within_group(value) for p in points]
        stmt = select(group, *columns).where(*where).group_by(group)
        return {row[0]: tuple(None if v is None else float(v) for v in row[1:]) for row in session.execute(stmt)}
    grouped: dict[Any, list[float]] = defaultdict(list)
    for key, number in session.execute(select(group, value).where(*where, value.is_not(None))):
        grouped[key].append(float(number))
    return {key: tuple(percentile_disc(values, p) for p in points) for key, values in grouped.items()}


def status_counts(session: Session) -> Sequence[tuple[str, str, int]]:
    stmt = select(ProcessInstance.process_key, ProcessInstance.status, func.count()).group_by(
        ProcessInstance.process_key, ProcessInstance.status
    )
    return [(k, s, n) for k, s, n in session.execute(stmt)]


def cycle_percentiles(session: Session, points: Sequence[float] = (0.5, 0.9)) -> Percentiles:
    """Median and 90th percentile cycle time of each process's completed instances (as percentile_disc).

    Each percentile is read as the k-th value in cycle-time order, which the index serves directly;
    sorting every completed instance in one aggregate is far slower on large tables.
    """
    where = (ProcessInstance.status == "completed", ProcessInstance.cycle_seconds.is_not(None))
    counts = select(ProcessInstance.process_key, func.count()).where(*where).group_by(ProcessInstance.process_key)
    wanted = [
        (key, i, max(0, math.ceil(round(p * n, 9)) - 1))
        for key, n in session.execute(counts)
        for i, p in enumerate(points)
    ]
    if not wanted:
        return {}
    picks = [
        select(literal(key).label("key"), literal(i).label("point"), ProcessInstance.cycle_seconds.label("value"))
        .where(*where, ProcessInstance.process_key == key)
        .order_by(ProcessInstance.cycle_seconds)
        .offset(k)
        .limit(1)
        .subquery()
        for key, i, k in wanted
    ]
    # One statement for every percentile of every process.
    stmt = union_all(*(select(pick) for pick in picks))
    found: dict[Any, list[float | None]] = {}
    for key, i, value in session.execute(stmt):
        found.setdefault(key, [None] * len(points))[int(i)] = None if value is None else float(value)
    return {key: tuple(values) for key, values in found.items()}


def open_tasks_by_group(session: Session, now: datetime) -> Sequence[tuple[str, str | None, int, int]]:
    """(process, group, open tasks, overdue among them)."""
    late = func.count(HumanTask.due_at).filter(HumanTask.due_at < now)
    stmt = (
        select(HumanTask.process_key, HumanTask.group_id, func.count(), late)
        .where(HumanTask.status == "open")
        .group_by(HumanTask.process_key, HumanTask.group_id)
    )
    return [(k, g, n, int(o or 0)) for k, g, n, o in session.execute(stmt)]


def overdue_tasks(session: Session, now: datetime, limit: int) -> tuple[Sequence[Any], int]:
    """The open tasks past their due time, longest overdue first, with their instance titles; and how many."""
    where = (HumanTask.status == "open", HumanTask.due_at.is_not(None), HumanTask.due_at < now)
    total = session.scalar(select(func.count()).select_from(HumanTask).where(*where)) or 0
    stmt = (
        select(HumanTask, ProcessInstance.title)
        .join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
        .where(*where)
        .order_by(HumanTask.due_at, HumanTask.id)
        .limit(limit)
    )
    return session.execute(stmt).all(), total


def _day_bucket(session: Session, column: Any, unit: str, tz: str, offset_hours: float) -> Any:
    if _postgres(session):
        return func.to_char(func.date_trunc(unit, func.timezone(tz, column)), "YYYY-MM-DD")
    shift = f"{offset_hours:+g} hours"
    if unit == "week":
        return func.date(column, shift, "weekday 0", "-6 days")
    return func.date(column, shift)


def throughput(
    session: Session, since: datetime, unit: str, tz: str, offset_hours: float, process_key: str | None
) -> tuple[dict[str, int], dict[str, int]]:
    """Instances started and completed per day or week (local ``tz``) since a moment."""
    started_bucket = _day_bucket(session, ProcessInstance.started_at, unit, tz, offset_hours)
    ended_bucket = _day_bucket(session, ProcessInstance.ended_at, unit, tz, offset_hours)
    scope = [ProcessInstance.process_key == process_key] if process_key else []
    started = select(started_bucket, func.count()).where(ProcessInstance.started_at >= since, *scope)
    ended = select(ended_bucket, func.count()).where(
        ProcessInstance.status == "completed", ProcessInstance.ended_at >= since, *scope
    )
    return (
        {str(b): n for b, n in session.execute(started.group_by(started_bucket))},
        {str(b): n for b, n in session.execute(ended.group_by(ended_bucket))},
    )


def fact_counts(session: Session, process_key: str, name: str) -> Sequence[tuple[str | None, int]]:
    stmt = (
        select(InstanceFact.value, func.count())
        .where(InstanceFact.process_key == process_key, InstanceFact.name == name)
        .group_by(InstanceFact.value)
        .order_by(func.count().desc(), InstanceFact.value)
    )
    return [(v, n) for v, n in session.execute(stmt)]


def fact_sums(session: Session, process_key: str, names: Sequence[str]) -> dict[str, tuple[int, float]]:
    """{name: (instances with a value above zero, sum)}."""
    stmt = (
        select(InstanceFact.name, func.count().filter(InstanceFact.number > 0), func.sum(InstanceFact.number))
        .where(InstanceFact.process_key == process_key, InstanceFact.name.in_(names))
        .group_by(InstanceFact.name)
    )
    return {name: (int(n or 0), float(total or 0)) for name, n, total in session.execute(stmt)}


def end_event_counts(session: Session, process_key: str) -> Sequence[tuple[str, str | None, int]]:
    stmt = (
        select(ProcessInstance.end_event_id, func.max(ProcessInstance.end_event_name), func.count())
        .where(ProcessInstance.process_key == process_key, ProcessInstance.end_event_id.is_not(None))
        .group_by(ProcessInstance.end_event_id)
        .order_by(func.count().desc())
    )
    return [(str(e), name, n) for e, name, n in session.execute(stmt)]


def element_stats(session: Session, process_key: str) -> dict[str, dict[str, float]]:
    """Per user-task element, from the running counts: instances reaching it, tasks, completed, passed,
    failed, completed with a due time and in time, and the average seconds from opening to completion."""
    stmt = select(ElementTally).where(ElementTally.process_key == process_key)
    stats = {}
    for row in session.scalars(stmt):
        stats[row.element_id] = {
            "instances": float(row.instances),
            "tasks": float(row.tasks),
            "completed": float(row.completed),
            "passed": float(row.passed),
            "failed": float(row.failed),
            "with_due": float(row.with_due),
            "in_time": float(row.in_time),
            "avg_seconds": row.total_seconds / row.completed if row.completed else 0.0,
        }
    return stats


def fact_percentiles(session: Session, process_key: str, name: str) -> tuple[int, float | None, float | None]:
    """How many instances hold a numeric key data item, and its median and 90th percentile."""
    where = [InstanceFact.process_key == process_key, InstanceFact.name == name, InstanceFact.number.is_not(None)]
    count = session.scalar(select(func.count()).select_from(InstanceFact).where(*where)) or 0
    found = percentiles(session, InstanceFact.number, InstanceFact.name, where)
    median, p90 = found.get(name, (None, None))
    return int(count), median, p90


def waiting_by_element(session: Session, version_id: int) -> dict[str, int]:
    """Instances of a version waiting at each element now: open tasks, timers and failures."""
    counts: dict[str, int] = defaultdict(int)
    of_version = and_(HumanTask.instance_id == ProcessInstance.id, ProcessInstance.process_version_id == version_id)
    tasks = (
        select(HumanTask.element_id, func.count(distinct(HumanTask.instance_id)))
        .join(ProcessInstance, of_version)
        .where(HumanTask.status == "open", ProcessInstance.status.in_(("running", "suspended", "error")))
        .group_by(HumanTask.element_id)
    )
    timers = (
        select(Timer.element_id, func.count(distinct(Timer.instance_id)))
        .join(ProcessInstance, Timer.instance_id == ProcessInstance.id)
        .where(ProcessInstance.process_version_id == version_id)
        .group_by(Timer.element_id)
    )
    errors = (
        select(ProcessInstance.error_element_id, func.count())
        .where(
            ProcessInstance.process_version_id == version_id,
            ProcessInstance.status == "error",
            ProcessInstance.error_element_id.is_not(None),
        )
        .group_by(ProcessInstance.error_element_id)
    )
    for stmt in (tasks, timers, errors):
        for element_id, n in session.execute(stmt):
            counts[str(element_id)] += int(n)
    return dict(counts)


def task_time_by_element(session: Session, version_id: int, since: datetime) -> tuple[Percentiles, dict[str, int]]:
    """Median and 90th percentile seconds in each user task completed since a moment, and how many."""
    where = [
        HumanTask.status == "completed",
        HumanTask.completed_at >= since,
        HumanTask.instance_id.in_(select(ProcessInstance.id).where(ProcessInstance.process_version_id == version_id)),
    ]
    duration = seconds_between(session, HumanTask.created_at, HumanTask.completed_at)
    counts = select(HumanTask.element_id, func.count()).where(*where).group_by(HumanTask.element_id)
    return (
        percentiles(session, duration, HumanTask.element_id, where),
        {e: n for e, n in session.execute(counts)},
    )


def open_tasks_of(session: Session, instance_ids: Sequence[int]) -> Sequence[HumanTask]:
    if not instance_ids:
        return []
    stmt = select(HumanTask).where(HumanTask.instance_id.in_(instance_ids), HumanTask.status == "open")
    return session.scalars(stmt.order_by(HumanTask.id)).all()


SORTS: dict[str, Any] = {
    "started": ProcessInstance.started_at,
    "ended": ProcessInstance.ended_at,
    "title": ProcessInstance.title,
    "status": ProcessInstance.status,
    "process": ProcessInstance.process_key,
    "cycle": ProcessInstance.cycle_seconds,
    "id": ProcessInstance.id,
}


def instance_filters(
    *,
    process_key: str | None = None,
    version: int | None = None,
    status: str | None = None,
    started_from: datetime | None = None,
    started_to: datetime | None = None,
    started_by: str | None = None,
    text: str | None = None,
    step: str | None = None,
    group: str | None = None,
    overdue_at: datetime | None = None,
    reached: str | None = None,
    failed_at: str | None = None,
    end_event: str | None = None,
    fact: tuple[str, str] | None = None,
) -> list[ColumnElement[bool]]:
    """Build the conditions of the instance list; every filter left out matches everything."""
    where: list[ColumnElement[bool]] = []
    if process_key:
        where.append(ProcessInstance.process_key == process_key)
    if version is not None:
        where.append(ProcessInstance.version == version)
    if status:
        where.append(ProcessInstance.status == status)
    if started_from is not None:
        where.append(ProcessInstance.started_at >= started_from)
    if started_to is not None:
        where.append(ProcessInstance.started_at < started_to)
    if started_by:
        where.append(ProcessInstance.started_by == started_by)
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        where.append(
            or_(
                ProcessInstance.title.ilike(pattern, escape="\\"),
                ProcessInstance.business_key.ilike(pattern, escape="\\"),
            )
        )
    open_task = [HumanTask.instance_id == ProcessInstance.id, HumanTask.status == "open"]
    if step:
        where.append(select(HumanTask.id).where(*open_task, HumanTask.element_id == step).exists())
    if group:
        where.append(select(HumanTask.id).where(*open_task, HumanTask.group_id == group).exists())
    if overdue_at is not None:
        late = select(HumanTask.id).where(*open_task, HumanTask.due_at.is_not(None), HumanTask.due_at < overdue_at)
        where.append(late.exists())
    if reached:
        had = select(HumanTask.id).where(HumanTask.instance_id == ProcessInstance.id, HumanTask.element_id == reached)
        where.append(had.exists())
    if failed_at:
        failed = select(HumanTask.id).where(
            HumanTask.instance_id == ProcessInstance.id, HumanTask.element_id == failed_at, HumanTask.outcome == "fail"
        )
        where.append(failed.exists())
    if end_event:
        where.append(ProcessInstance.end_event_id == end_event)
    if fact is not None:
        known = select(InstanceFact.instance_id).where(
            InstanceFact.instance_id == ProcessInstance.id, InstanceFact.name == fact[0], InstanceFact.value == fact[1]
        )
        where.append(known.exists())
    return where


def search_instances(
    session: Session, where: Sequence[ColumnElement[bool]], sort: str, descending: bool, offset: int, limit: int
) -> tuple[Sequence[ProcessInstance], dict[str, int]]:
    """One page of instances matching ``where`` in the given order, and how many match per status."""
    column = SORTS[sort]
    order = [column.desc() if descending else column.asc(), ProcessInstance.id.desc()]
    if sort in ("ended", "cycle"):
        order.insert(0, column.is_(None))  # instances without an end come last either way
    by_status = select(ProcessInstance.status, func.count()).where(*where).group_by(ProcessInstance.status)
    counts = {s: n for s, n in session.execute(by_status)}
    rows = session.scalars(select(ProcessInstance).where(*where).order_by(*order).offset(offset).limit(limit)).all()
    return rows, counts

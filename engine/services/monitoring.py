"""Tell managers where every instance stands: the dashboard, the filtered instance list and the heatmap."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.errors import FieldProblem, InvalidInputError
from engine.repositories import definitions as definitions_repo
from engine.repositories import monitoring as repo
from engine.services import definitions, people, team_figures
from engine.services.instances import MANAGERS
from engine.services.present import instance_detail, summary_from_row
from engine.views import (
    Dashboard,
    GroupLoad,
    HeatElement,
    Heatmap,
    InstancePage,
    OverdueTask,
    ProcessFigures,
    TaskSummary,
    ThroughputPoint,
)

# Period picker of the throughput chart: days looked back and the bucket.
PERIODS: dict[str, tuple[int, str]] = {"30d": (30, "day"), "12w": (84, "week"), "52w": (364, "week")}
STATUSES = ("running", "completed", "error", "suspended", "terminated")
HEATMAP_DAYS = (7, 30, 90, 365)
OVERDUE_LIMIT = 50


def _require_manager(session: Session, actor: str) -> None:
    people.require_role(people.actor(session, actor), *MANAGERS)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _names(session: Session) -> dict[str, str]:
    return {p.key: p.name for p in definitions.list_processes(session)}


def dashboard(
    session: Session, actor: str, period: str = "30d", tz: str = "UTC", now: datetime | None = None
) -> Dashboard:
    """Return the managers' home: per-process figures, team load, overdue tasks, throughput, team figures.

    :raises PermissionDeniedError: the actor is not a manager or admin.
    :raises InvalidInputError: an unknown period.
    """
    _require_manager(session, actor)
    if period not in PERIODS:
        raise InvalidInputError(f"unknown period {period!r}", [FieldProblem("period", f"one of {', '.join(PERIODS)}")])
    now = now or utcnow()
    latest = definitions_repo.list_latest(session)
    names = {v.key: v.name for v in latest}
    counts: dict[str, dict[str, int]] = {}
    for key, status, n in repo.status_counts(session):
        counts.setdefault(key, {s: 0 for s in STATUSES})[status] = n
    cycles = repo.cycle_percentiles(session)
    loads = repo.open_tasks_by_group(session, now)
    open_by_process: dict[str, list[int]] = {}
    for key, _group, n, late in loads:
        totals = open_by_process.setdefault(key, [0, 0])
        totals[0] += n
        totals[1] += late
    processes = tuple(
        ProcessFigures(
            key=key,
            name=names.get(key, key),
            counts=counts.get(key, {s: 0 for s in STATUSES}),
            median_seconds=cycles.get(key, (None, None))[0],
            p90_seconds=cycles.get(key, (None, None))[1],
            open_tasks=open_by_process.get(key, [0, 0])[0],
            overdue_tasks=open_by_process.get(key, [0, 0])[1],
        )
        for key in sorted(set(names) | set(counts))
    )
    groups = tuple(
        GroupLoad(key, names.get(key, key), group, n, late)
        for key, group, n, late in sorted(loads, key=lambda r: (r[0], r[1] or ""))
    )
    rows, overdue_total = repo.overdue_tasks(session, now, OVERDUE_LIMIT)
    overdue = tuple(
        OverdueTask(
            task=summary_from_row(task, title, names.get(task.process_key, task.process_key)),
            overdue_seconds=(now - task.due_at).total_seconds(),
            held_seconds=(now - (task.claimed_at or task.created_at)).total_seconds(),
        )
        for task, title in rows
    )
    return Dashboard(
        processes=processes,
        groups=groups,
        overdue=overdue,
        overdue_total=overdue_total,
        throughput=throughput(session, period, tz, now),
        unit=PERIODS[period][1],
        team=team_figures.all_figures(session, {v.key: v.id for v in latest}, counts.get("promotion", {})),
    )


def throughput(
    session: Session, period: str, tz: str, now: datetime, process_key: str | None = None
) -> tuple[ThroughputPoint, ...]:
    """Instances started and completed per day or week over a period, every bucket listed (zeros too)."""
    days, unit = PERIODS[period]
    zone = _zone(tz)
    local_today = now.astimezone(zone).date()
    first = local_today - timedelta(days=days - 1)
    if unit == "week":
        first -= timedelta(days=first.weekday())
    since = datetime.combine(first, time(), zone)
    offset = (now.astimezone(zone).utcoffset() or timedelta()).total_seconds() / 3600
    started, completed = repo.throughput(session, since, unit, str(zone), offset, process_key)
    step = timedelta(days=7 if unit == "week" else 1)
    points = []
    day = first
    while day <= local_today:
        key = day.isoformat()
        points.append(ThroughputPoint(key, started.get(key, 0), completed.get(key, 0)))
        day += step
    return tuple(points)


def _date(filters: Mapping[str, str], field: str) -> date | None:
    raw = (filters.get(field) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInputError(f"{field}: not a date", [FieldProblem(field, "a date: YYYY-MM-DD")]) from None


def _int(filters: Mapping[str, str], field: str, default: int | None, low: int, high: int) -> int | None:
    raw = (filters.get(field) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidInputError(f"{field}: {raw!r}", [FieldProblem(field, f"a whole number from {low} to {high}")])
    return int(raw)


def _choice(filters: Mapping[str, str], field: str, allowed: tuple[str, ...]) -> str | None:
    raw = (filters.get(field) or "").strip()
    if raw and raw not in allowed:
        raise InvalidInputError(f"{field}: {raw!r}", [FieldProblem(field, f"one of {', '.join(allowed)}")])
    return raw or None


def _text(filters: Mapping[str, str], field: str, limit: int = 200) -> str | None:
    raw = (filters.get(field) or "").strip()
    if len(raw) > limit or "\x00" in raw:
        raise InvalidInputError(f"{field}: too long", [FieldProblem(field, f"at most {limit} characters")])
    return raw or None


def search_instances(
    session: Session, actor: str, filters: Mapping[str, str], tz: str = "UTC", now: datetime | None = None
) -> InstancePage:
    """Return one page of instances matching the list's filters, with the total and counts per status.

    Filters (all optional strings): process, version, status, from, to (local dates, both included),
    started_by, q (title or business key), step (element with an open task), group (an open task's group),
    overdue ("1"), error ("1"), reached (an element that had a task), failed (an element whose task failed
    its stage), end (end event), fact ("name:value"), sort
    (started, ended, title, status, process, cycle, id), dir (asc, desc), page, per_page.

    :raises PermissionDeniedError: the actor is not a manager or admin.
    :raises InvalidInputError: a filter is malformed; the problem names it.
    """
    _require_manager(session, actor)
    now = now or utcnow()
    zone = _zone(tz)
    start, end = _date(filters, "from"), _date(filters, "to")
    if start and end and end < start:
        raise InvalidInputError("to is before from", [FieldProblem("to", "must not be before from")])
    fact = None
    if raw_fact := _text(filters, "fact", 400):
        name, sep, value = raw_fact.partition(":")
        if not sep or not name:
            raise InvalidInputError("fact", [FieldProblem("fact", "name:value")])
        fact = (name, value)
    status = _choice(filters, "status", STATUSES)
    if _choice(filters, "error", ("1", "0")) == "1":
        if status not in (None, "error"):
            raise InvalidInputError("error and status", [FieldProblem("error", f"contradicts status {status}")])
        status = "error"
    where = repo.instance_filters(
        process_key=_text(filters, "process"),
        version=_int(filters, "version", None, 1, 1_000_000),
        status=status,
        started_from=datetime.combine(start, time(), zone) if start else None,
        started_to=datetime.combine(end + timedelta(days=1), time(), zone) if end else None,
        started_by=_text(filters, "started_by"),
        text=_text(filters, "q"),
        step=_text(filters, "step"),
        group=_text(filters, "group"),
        overdue_at=now if _choice(filters, "overdue", ("1", "0")) == "1" else None,
        reached=_text(filters, "reached"),
        failed_at=_text(filters, "failed"),
        end_event=_text(filters, "end"),
        fact=fact,
    )
    sort = _choice(filters, "sort", tuple(repo.SORTS)) or "started"
    descending = (_choice(filters, "dir", ("asc", "desc")) or "desc") == "desc"
    page = _int(filters, "page", 1, 1, 1_000_000) or 1
    per_page = _int(filters, "per_page", 25, 1, 200) or 25
    rows, counts = repo.search_instances(session, where, sort, descending, (page - 1) * per_page, per_page)
    # One query for the open tasks of the whole page, not one per instance.
    open_tasks: dict[int, list[TaskSummary]] = {}
    names = _names(session)
    titles = {row.id: row.title for row in rows}
    for task in repo.open_tasks_of(session, list(titles)):
        summary = summary_from_row(task, titles[task.instance_id], names.get(task.process_key, task.process_key))
        open_tasks.setdefault(task.instance_id, []).append(summary)
    items = []
    for row in rows:
        detail = instance_detail(session, row, with_tasks=False)
        tasks = tuple(open_tasks.get(row.id, ()))
        items.append(replace(detail, tasks=tasks, active_elements=tuple(sorted({t.element_id for t in tasks}))))
    return InstancePage(
        items=tuple(items),
        total=sum(counts.values()),
        counts=counts,
        page=page,
        per_page=per_page,
    )


def heatmap(
    session: Session, actor: str, key: str, version: int | None = None, days: int = 30, now: datetime | None = None
) -> Heatmap:
    """Return, for one version of a process, the instances waiting at each element and the time in each task.

    :raises PermissionDeniedError: the actor is not a manager or admin.
    :raises NotFoundError: no such process or version.
    :raises InvalidInputError: a period other than 7, 30, 90 or 365 days.
    """
    _require_manager(session, actor)
    if days not in HEATMAP_DAYS:
        raise InvalidInputError("days", [FieldProblem("days", "one of 7, 30, 90, 365")])
    row = definitions.version_row(session, key, version)
    now = now or utcnow()
    waiting = repo.waiting_by_element(session, row.id)
    times, completed = repo.task_time_by_element(session, row.id, now - timedelta(days=days))
    elements = tuple(
        HeatElement(
            element_id=element,
            waiting=waiting.get(element, 0),
            completed=completed.get(element, 0),
            median_seconds=times.get(element, (None, None))[0],
            p90_seconds=times.get(element, (None, None))[1],
        )
        for element in sorted(set(waiting) | set(times))
    )
    versions = tuple(v.version for v in definitions_repo.list_versions(session, key))
    return Heatmap(key, row.name, row.version, versions, days, elements)

"""List the cases a person started or took part in, with where each stands now."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.errors import FieldProblem, InvalidInputError
from engine.repositories import instances as repo
from engine.repositories import tasks as tasks_repo
from engine.services import people
from engine.services.present import summary_from_row
from engine.views import CasePage, CaseView

PER_PAGE = 25
COUNT_CAP = 1000


def my_cases(session: Session, user: str, page: int = 1, per_page: int = PER_PAGE) -> CasePage:
    """One page of the instances the user started, holds or did a task of, newest first.

    Each case lists its open steps (with who holds them) and whether its starter may still withdraw it.

    :raises InvalidInputError: a page or page size out of range.
    :raises PermissionDeniedError: unknown user.
    """
    people.actor(session, user)
    if not 1 <= per_page <= 200:
        raise InvalidInputError("per_page: 1 to 200", [FieldProblem("per_page", "1 to 200")])
    last = -(-COUNT_CAP // per_page)
    if not 1 <= page <= last:
        raise InvalidInputError(f"page: 1 to {last}", [FieldProblem("page", f"1 to {last}")])
    rows, total = repo.cases_of(session, user, (page - 1) * per_page, per_page, COUNT_CAP)
    ids = [row.id for row in rows]
    steps: dict[int, list[object]] = {}
    for task in tasks_repo.open_for_instances(session, ids):
        steps.setdefault(task.instance_id, []).append(task)
    done = repo.completed_task_counts(session, ids)
    cases = []
    for row in rows:
        cases.append(
            CaseView(
                id=row.id,
                process_key=row.process_key,
                process_name=row.name,
                title=row.title,
                status=row.status,
                started_at=row.started_at,
                ended_at=row.ended_at,
                started_by=row.started_by,
                steps=tuple(summary_from_row(t, row.title, row.name) for t in steps.get(row.id, [])),  # type: ignore[arg-type]
                may_withdraw=row.started_by == user and row.status == "running" and not done.get(row.id),
            )
        )
    return CasePage(tuple(cases), page, per_page, total, COUNT_CAP)

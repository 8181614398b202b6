"""Define the frozen values the engine hands to its callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.errors import DefinitionProblem


@dataclass(frozen=True)
class DeployResult:
    """The version a deployment produced (or found unchanged) for one process key."""

    key: str
    version: int
    created: bool
    # Human tasks naming no known group that went to the fallback group, as DefinitionProblems.
    warnings: tuple[DefinitionProblem, ...] = ()


@dataclass(frozen=True)
class ProcessVersionView:
    """One deployed, immutable version of a process."""

    key: str
    name: str
    version: int
    deployed_at: datetime
    deployed_by: str | None
    documentation: str
    start_groups: tuple[str, ...] = ()
    deploy_note: str = ""
    fallback_group: str | None = None


@dataclass(frozen=True)
class FormOption:
    """One choice of an enum form field."""

    id: str
    name: str


@dataclass(frozen=True)
class FormFieldView:
    """One field of a user task's form, as the diagram declares it."""

    id: str
    label: str
    type: str
    required: bool = False
    default: Any = None
    options: tuple[FormOption, ...] = ()
    min: float | None = None
    max: float | None = None
    minlength: int | None = None
    maxlength: int | None = None
    readonly: bool = False
    # Declared in the diagram's field properties (see engine/bpmn/form_rules.py).
    required_if: tuple[str, tuple[str, ...]] | None = None
    required_group: str | None = None
    not_before_today: bool = False


@dataclass(frozen=True)
class TaskSummary:
    """A row of a task queue."""

    id: int
    instance_id: int
    instance_title: str
    process_key: str
    process_name: str
    element_id: str
    name: str
    group: str | None
    assignee: str | None
    due_at: datetime | None
    priority: int
    status: str
    created_at: datetime
    completed_at: datetime | None = None
    completed_by: str | None = None
    # The item the task is about (an applicant's name) when its step runs once per item.
    subject: str | None = None

    def is_overdue(self, now: datetime) -> bool:
        """Tell whether the task is open past its due time."""
        return self.status == "open" and self.due_at is not None and self.due_at < now


class Paging:
    """Page arithmetic of a page view whose ``total`` stops counting past ``count_cap``."""

    page: int
    per_page: int
    total: int
    count_cap: int

    @property
    def capped(self) -> bool:
        """Tell whether there are more items than were counted."""
        return self.total > self.count_cap

    @property
    def pages(self) -> int:
        """How many pages can be reached (at most the count cap's worth)."""
        return max(1, -(-min(self.total, self.count_cap) // self.per_page))

    @property
    def has_next(self) -> bool:
        """Tell whether a next page can be reached."""
        return self.page < self.pages


@dataclass(frozen=True)
class QueuePage(Paging):
    """One page of a task queue; ``total`` stops counting past ``count_cap`` (then ``capped`` is true)."""

    tasks: tuple[TaskSummary, ...]
    page: int
    per_page: int
    total: int
    count_cap: int


@dataclass(frozen=True)
class TaskDetail:
    """One task with its form, its instance's data and its documentation."""

    summary: TaskSummary
    form: tuple[FormFieldView, ...]
    documentation: str
    instance_data: dict[str, Any]
    submitted: dict[str, Any] | None = None
    # Why the task came back to its group (a send-back's reason), if it did.
    reason: str | None = None
    # What was submitted the previous time this step ran for the same case and item, if it ran before.
    last_round: dict[str, Any] | None = None


@dataclass(frozen=True)
class InstanceErrorView:
    """Where and why an instance failed."""

    element_id: str | None
    message: str


@dataclass(frozen=True)
class InstanceSummary:
    """A row of the instance list."""

    id: int
    process_key: str
    version: int
    title: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    started_by: str | None


@dataclass(frozen=True)
class InstanceDetail:
    """One instance: its state, data, open tasks and error."""

    id: int
    process_key: str
    process_name: str
    version: int
    title: str
    status: str
    data: dict[str, Any]
    tasks: tuple[TaskSummary, ...]
    started_at: datetime
    ended_at: datetime | None
    started_by: str | None
    error: InstanceErrorView | None
    completed_elements: tuple[str, ...] = ()
    active_elements: tuple[str, ...] = ()
    timers: tuple[TimerView, ...] = ()
    business_key: str | None = None
    row_version: int = 0
    end_event_name: str | None = None


@dataclass(frozen=True)
class CaseView:
    """An instance someone started or took part in, with where it stands: its open steps and who holds them."""

    id: int
    process_key: str
    process_name: str
    title: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    started_by: str | None
    steps: tuple[TaskSummary, ...]
    may_withdraw: bool = False


@dataclass(frozen=True)
class CasePage(Paging):
    """One page of a person's cases; ``total`` stops counting past ``count_cap``."""

    cases: tuple[CaseView, ...]
    page: int
    per_page: int
    total: int
    count_cap: int


@dataclass(frozen=True)
class TimerView:
    """A timer waiting to fire."""

    id: int
    instance_id: int
    element_id: str
    due_at: datetime


@dataclass(frozen=True)
class EventView:
    """One audit-trail entry."""

    type: str
    actor: str | None
    at: datetime
    element_id: str | None
    data: dict[str, Any] = field(default_factory=dict)
    instance_id: int | None = None


@dataclass(frozen=True)
class UserView:
    """A person who uses Teamflow, with their groups and roles."""

    id: int
    name: str
    display_name: str
    groups: tuple[str, ...]
    roles: tuple[str, ...]
    email: str | None = None
    # The user's credential stamp: it changes with the password, the roles or the active flag.
    stamp: str = ""
    active: bool = True

    def has_role(self, *roles: str) -> bool:
        """Tell whether the user holds any of the roles (admin holds them all)."""
        return "admin" in self.roles or any(r in self.roles for r in roles)


@dataclass(frozen=True)
class GroupView:
    """A group of people; a lane or candidate group maps to one."""

    id: str
    name: str


@dataclass(frozen=True)
class CommentView:
    """A remark left on a task."""

    id: int
    task_id: int
    author: str
    text: str
    at: datetime


@dataclass(frozen=True)
class TokenView:
    """A personal API token as its owner sees it (never the secret itself)."""

    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None

    def is_expired(self, now: datetime) -> bool:
        """Tell whether the token has expired at ``now``."""
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True)
class ProcessRow:
    """A line of the processes home: a process's latest version, and instances running per version."""

    latest: ProcessVersionView
    running: tuple[tuple[int, int], ...]  # (version, running instances), newest version first
    has_draft: bool = False


@dataclass(frozen=True)
class DraftView:
    """A user's draft of a process: the files being edited. Never runs until deployed."""

    key: str
    owner: str
    bpmn_file: str
    files: dict[str, str]
    base_version: int | None
    updated_at: datetime | None


@dataclass(frozen=True)
class ProblemView:
    """One problem of a draft or a failing scenario, located on the diagram where possible."""

    file: str
    element_id: str | None
    element_name: str | None
    line: int | None
    message: str
    kind: str = "definition"  # or "scenario"


@dataclass(frozen=True)
class TrialStepView:
    """One step of a dry run: what ran and the data right after it."""

    element_id: str
    name: str
    kind: str  # "start", "task" or "timer"
    data: dict[str, Any]


@dataclass(frozen=True)
class TrialView:
    """The outcome of a dry run, computed in memory and never stored."""

    steps: tuple[TrialStepView, ...]
    completed: tuple[str, ...]
    active: tuple[str, ...]
    waiting: tuple[dict[str, Any], ...]  # ready tasks: element_id, name, form fields
    ended: tuple[str, ...]
    finished: bool
    data: dict[str, Any]
    error_element: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ScenarioView:
    """A named scenario of a process."""

    key: str
    name: str
    steps: tuple[dict[str, Any], ...]
    expected_end: str | None
    expected_data: dict[str, Any]


@dataclass(frozen=True)
class ScenarioResult:
    """A scenario's run against a draft or a version."""

    name: str
    passed: bool
    message: str
    element_id: str | None
    trial: TrialView


@dataclass(frozen=True)
class ElementChange:
    """One element added, removed or changed between two versions of a diagram."""

    element_id: str
    name: str
    kind: str  # "added", "removed", "changed"
    type: str
    file: str
    changes: tuple[tuple[str, str | None, str | None], ...] = ()  # (property, before, after)


@dataclass(frozen=True)
class DiffView:
    """What changed between two versions (or a version and a draft) of a process."""

    key: str
    left: str
    right: str
    left_files: dict[str, str]
    right_files: dict[str, str]
    bpmn_file: str
    changes: tuple[ElementChange, ...]


@dataclass(frozen=True)
class CorrelationResult:
    """Where a message went: a waiting instance ("Execution") or a new one ("ProcessDefinition")."""

    result_type: str
    instance: InstanceDetail
    element_id: str


@dataclass(frozen=True)
class ProcessFigures:
    """One process on the managers' dashboard: instances per status and cycle times (seconds)."""

    key: str
    name: str
    counts: dict[str, int]
    median_seconds: float | None
    p90_seconds: float | None
    open_tasks: int
    overdue_tasks: int


@dataclass(frozen=True)
class GroupLoad:
    """Open and overdue tasks of one group in one process."""

    process_key: str
    process_name: str
    group: str | None
    open: int
    overdue: int


@dataclass(frozen=True)
class OverdueTask:
    """An open task past its due time: who holds it, and for how long (seconds)."""

    task: TaskSummary
    overdue_seconds: float
    held_seconds: float


@dataclass(frozen=True)
class ThroughputPoint:
    """Instances started and completed in one day or week (its first day, YYYY-MM-DD)."""

    bucket: str
    started: int
    completed: int


@dataclass(frozen=True)
class FigureRow:
    """One row of a team figure: a key for code, a label from the diagram, its numbers, its list filter."""

    key: str
    label: str
    values: tuple[float | int | None, ...]
    filters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FigureTable:
    """A team figure as a small table; the web layer names ``id`` and ``columns`` in the page language."""

    id: str
    process_key: str
    columns: tuple[str, ...]
    rows: tuple[FigureRow, ...]
    chart: str = "bar"


@dataclass(frozen=True)
class Dashboard:
    """Everything the managers' home page shows."""

    processes: tuple[ProcessFigures, ...]
    groups: tuple[GroupLoad, ...]
    overdue: tuple[OverdueTask, ...]
    overdue_total: int
    throughput: tuple[ThroughputPoint, ...]
    unit: str
    team: tuple[FigureTable, ...]


@dataclass(frozen=True)
class InstancePage:
    """One page of the managers' instance list with its counts."""

    items: tuple[InstanceDetail, ...]
    total: int
    counts: dict[str, int]
    page: int
    per_page: int


@dataclass(frozen=True)
class HeatElement:
    """One element of a heatmap: instances waiting there now, and time spent in it (seconds)."""

    element_id: str
    waiting: int
    completed: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None


@dataclass(frozen=True)
class Heatmap:
    """Where the instances of one process version wait, and how long its user tasks take."""

    key: str
    name: str
    version: int
    versions: tuple[int, ...]
    days: int
    elements: tuple[HeatElement, ...]


@dataclass(frozen=True)
class ExternalTaskView:
    """A service task waiting for an outside worker; with no retries left it is an incident."""

    id: int
    instance_id: int
    process_key: str
    version: int
    business_key: str | None
    element_id: str
    name: str
    topic: str
    priority: int
    worker_id: str | None
    lock_expires_at: datetime | None
    retries: int | None
    error_message: str | None
    error_details: str | None
    created_at: datetime
    variables: dict[str, Any] = field(default_factory=dict)

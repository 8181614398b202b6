"""Import every mapped class so that Base.metadata knows all tables."""

from engine.models.audit import AuditEvent
from engine.models.definitions import ProcessVersion
from engine.models.editing import ProcessDraft, ProcessScenario
from engine.models.facts import ElementTally, InstanceFact
from engine.models.instances import HumanTask, ProcessInstance, TaskCandidate, TaskComment, Timer
from engine.models.integration import ExternalTask, MessageSubscription
from engine.models.people import ApiToken, Group, Membership, User

__all__ = [
    "ApiToken",
    "AuditEvent",
    "ElementTally",
    "ExternalTask",
    "Group",
    "HumanTask",
    "InstanceFact",
    "Membership",
    "MessageSubscription",
    "ProcessDraft",
    "ProcessInstance",
    "ProcessScenario",
    "ProcessVersion",
    "TaskCandidate",
    "TaskComment",
    "Timer",
    "User",
]

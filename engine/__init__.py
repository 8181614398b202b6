"""Teamflow's workflow engine: definitions, instances, task queues, timers, audit and people.

The web app and the CLI use only what this module exports.
"""

from engine.bpmn.scripting import configure as configure_scripts
from engine.db import Base, begin_writing, make_engine, make_session_factory, utcnow
from engine.errors import (
    ConflictError,
    DefinitionError,
    DefinitionProblem,
    EngineError,
    FieldProblem,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from engine.services import (
    audit,
    cases,
    definitions,
    editing,
    external_tasks,
    instances,
    messages,
    monitoring,
    notifications,
    people,
    task_queue,
    timers,
    tokens,
    trials,
)
from engine.settings import EngineSettings

__all__ = [
    "Base",
    "ConflictError",
    "DefinitionError",
    "DefinitionProblem",
    "EngineError",
    "EngineSettings",
    "FieldProblem",
    "InvalidInputError",
    "NotFoundError",
    "PermissionDeniedError",
    "audit",
    "begin_writing",
    "cases",
    "configure_scripts",
    "definitions",
    "editing",
    "external_tasks",
    "instances",
    "make_engine",
    "make_session_factory",
    "messages",
    "monitoring",
    "notifications",
    "people",
    "task_queue",
    "timers",
    "tokens",
    "trials",
    "utcnow",
]

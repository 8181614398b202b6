"""Define the domain errors the engine raises; they know nothing about HTTP."""

from __future__ import annotations

from dataclasses import dataclass


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(EngineError):
    """The thing asked for does not exist."""

    code = "not_found"


class PermissionDeniedError(EngineError):
    """The actor may not do this (not in the task's group, or lacks the role)."""

    code = "forbidden"


class ConflictError(EngineError):
    """The state changed underneath: the task is done or claimed, or the instance moved on."""

    code = "conflict"


@dataclass(frozen=True)
class FieldProblem:
    """One form field that failed its rules."""

    field: str
    message: str


class InvalidInputError(EngineError):
    """Submitted data breaks the rules of its form or of the call."""

    code = "invalid"

    def __init__(self, message: str, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass(frozen=True)
class DefinitionProblem:
    """One problem found in a BPMN or DMN file, located as precisely as possible."""

    file: str
    element_id: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element_id:
            where += f" [{self.element_id}]"
        return f"{where}: {self.message}"


class DefinitionError(EngineError):
    """BPMN or DMN files fail to parse or validate."""

    code = "invalid_definition"

    def __init__(self, problems: list[DefinitionProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems) or "invalid definition")
        self.problems = problems

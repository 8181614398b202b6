"""Hold the engine's configuration as one immutable value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EngineSettings:
    """Configuration handed to the engine by whoever runs it (web app, CLI, tests).

    :param database_url: SQLAlchemy URL of the database holding every instance.
    :param processes_dir: folder of BPMN/DMN files that ``teamflow demo`` deploys.
    :param timer_poll_seconds: how often the timer runner looks for due timers.
    :param script_timeout_seconds: how long one script or condition may run before its instance goes into error.
    :param script_memory_mb: how much memory one value a script builds may take.
    """

    database_url: str
    processes_dir: Path | None = None
    timer_poll_seconds: float = 5.0
    script_timeout_seconds: float = 2.0
    script_memory_mb: int = 200

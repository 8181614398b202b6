"""Serve the app with several gunicorn worker processes; one of them at a time runs the timer loop."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

THREADS_PER_WORKER = 4


def _timer_holder(app: Flask, lock_path: Path, stop: threading.Event) -> None:
    """Run the timer loop while holding the lock file; the other workers wait for it to be free.

    The lock dies with its process, so if the worker running the timers exits, another one takes over.
    """
    from web.cli import background_loop

    poll = app.extensions["engine"]["settings"].timer_poll_seconds
    with lock_path.open("a") as handle:
        while not stop.is_set():
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                stop.wait(poll)
                continue
            try:
                background_loop(app, stop)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class TeamflowServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application whose workers each build their own app (and database pool) after forking."""

    def __init__(self, host: str, port: int, workers: int, timers: bool, lock_path: Path) -> None:
        self.bind = f"{host}:{port}"
        self.workers = workers
        self.timers = timers
        self.lock_path = lock_path
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", self.bind)
        self.cfg.set("workers", self.workers)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", THREADS_PER_WORKER)
        self.cfg.set("accesslog", None)
        self.cfg.set("graceful_timeout", 10)

    def load(self) -> Any:
        from web import create_app

        app = create_app()
        if self.timers:
            stop = threading.Event()
            thread = threading.Thread(
                target=_timer_holder, args=(app, self.lock_path, stop), name="teamflow-timers", daemon=True
            )
            thread.start()
        return app


def serve(host: str, port: int, workers: int, timers: bool, instance_path: str) -> None:
    """Serve on ``host:port`` with ``workers`` processes until stopped (SIGTERM or Ctrl+C)."""
    lock_path = Path(instance_path) / "timers.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TEAMFLOW_INSTANCE_PATH", instance_path)
    TeamflowServer(host, port, workers, timers, lock_path).run()

"""Keep the live workflows of recently stored instances in this process, so a hot instance skips deserializing.

An entry is handed out at most once: ``take`` removes it, and it comes back only when the transaction that
stored its next state commits. A rolled-back transaction never returns its (possibly half-changed) workflow.
An entry matches only the exact stored row version and text it was saved as, and the spec object the
process currently uses, so a change by another process, or a re-read of the spec, means a miss.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

SIZE = 256
_PENDING = "teamflow_workflows"


@dataclass(frozen=True)
class _Entry:
    row_version: int
    text: str
    workflow: Any


_entries: OrderedDict[int, _Entry] = OrderedDict()
_lock = threading.Lock()


def take(instance_id: int, row_version: int, text: str, spec: Any) -> Any | None:
    """Return the cached workflow of an instance stored as ``row_version`` and ``text``, removing it; else None."""
    with _lock:
        entry = _entries.pop(instance_id, None)
    if entry is None or entry.row_version != row_version or entry.workflow.spec is not spec:
        return None
    if entry.text is not text and entry.text != text:
        return None
    return entry.workflow


def keep_after_commit(session: Session, instance_id: int, row_version: int, text: str, workflow: Any) -> None:
    """Cache the workflow as stored in this transaction, once (and only if) the transaction commits."""
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = {}
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_rollback", _rolled_back)
        event.listen(session, "after_soft_rollback", _soft_rolled_back)
    pending[instance_id] = _Entry(row_version, text, workflow)


def _committed(session: Session) -> None:
    pending = session.info.get(_PENDING) or {}
    with _lock:
        for instance_id, entry in pending.items():
            _entries[instance_id] = entry
            _entries.move_to_end(instance_id)
        while len(_entries) > SIZE:
            _entries.popitem(last=False)
    pending.clear()


def _rolled_back(session: Session) -> None:
    (session.info.get(_PENDING) or {}).clear()


def _soft_rolled_back(session: Session, _previous: Any) -> None:
    (session.info.get(_PENDING) or {}).clear()


def clear() -> None:
    """Forget every cached workflow."""
    with _lock:
        _entries.clear()

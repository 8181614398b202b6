"""Check and assign instance business keys: one unfinished instance per process and key."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.errors import ConflictError, FieldProblem, InvalidInputError
from engine.models import ProcessInstance
from engine.repositories import audit
from engine.repositories import instances as repo

MAX_LENGTH = 200


def checked(value: Any, field: str = "business_key") -> str | None:
    """Return a business key as stored: trimmed text, or None when empty.

    :raises InvalidInputError: not text, longer than 200 characters, or holding control characters.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInputError(f"{field}: must be a string", [FieldProblem(field, "must be a string")])
    text = str(value).strip()
    if not text:
        return None
    if len(text) > MAX_LENGTH or any(ord(c) < 32 for c in text):
        message = f"at most {MAX_LENGTH} characters, no control characters"
        raise InvalidInputError(f"{field}: {message}", [FieldProblem(field, message)])
    return text


def ensure_free(session: Session, process_key: str, business_key: str, field: str = "business_key") -> None:
    """Refuse a business key that an unfinished instance of the process already holds.

    :raises ConflictError: naming the instance that holds it.
    """
    holder = repo.active_with_business_key(session, process_key, business_key)
    if holder is not None:
        raise ConflictError(
            f"{field}: instance {holder.id} of {process_key} with business key {business_key!r} "
            f"is still {holder.status}"
        )


def adopt_from_data(session: Session, instance: ProcessInstance, field: str | None, actor: str) -> None:
    """Give an instance without a key the value of the variable its diagram names, once it has one.

    :raises ConflictError: another unfinished instance holds that value.
    :raises InvalidInputError: the value cannot be a business key.
    """
    if instance.business_key or not field:
        return
    value = checked((instance.data or {}).get(field), field)
    if value is None:
        return
    ensure_free(session, instance.process_key, value, field)
    instance.business_key = value
    audit.record(session, "business_key", actor, instance.id, instance.process_key, None, {"business_key": value})

"""Query and write message subscriptions: the indexed way to find who waits for a message."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.models import MessageSubscription, ProcessInstance


def for_instance(session: Session, instance_id: int) -> Sequence[MessageSubscription]:
    stmt = select(MessageSubscription).where(MessageSubscription.instance_id == instance_id)
    return session.scalars(stmt.order_by(MessageSubscription.id)).all()


def add(session: Session, subscription: MessageSubscription) -> None:
    session.add(subscription)


def remove(session: Session, subscription: MessageSubscription) -> None:
    session.delete(subscription)


def replace_starts(session: Session, process_key: str, version_id: int, starts: dict[str, str]) -> None:
    """Make the message start events of one version the only ones of its process."""
    session.execute(
        delete(MessageSubscription).where(
            MessageSubscription.process_key == process_key, MessageSubscription.instance_id.is_(None)
        )
    )
    for name, element_id in starts.items():
        session.add(
            MessageSubscription(
                message_name=name, process_key=process_key, process_version_id=version_id, element_id=element_id
            )
        )
    session.flush()


def waiting(
    session: Session, message_name: str, business_key: str | None = None, instance_id: int | None = None
) -> Sequence[tuple[MessageSubscription, ProcessInstance]]:
    """Subscriptions of running instances to a message, optionally of one business key or instance."""
    stmt = (
        select(MessageSubscription, ProcessInstance)
        .join(ProcessInstance, ProcessInstance.id == MessageSubscription.instance_id)
        .where(MessageSubscription.message_name == message_name, ProcessInstance.status == "running")
    )
    if business_key is not None:
        stmt = stmt.where(ProcessInstance.business_key == business_key)
    if instance_id is not None:
        stmt = stmt.where(ProcessInstance.id == instance_id)
    return [(row[0], row[1]) for row in session.execute(stmt.order_by(MessageSubscription.id))]


def starts(session: Session, message_name: str) -> Sequence[MessageSubscription]:
    """Message start events of current process versions for a message."""
    stmt = select(MessageSubscription).where(
        MessageSubscription.message_name == message_name, MessageSubscription.instance_id.is_(None)
    )
    return session.scalars(stmt.order_by(MessageSubscription.id)).all()

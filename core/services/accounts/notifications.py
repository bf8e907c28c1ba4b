"""A user's notifications: compilation ended, rollback, budget reached."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.models import Notification, User
from core.permissions import Actor, Permission, requires
from core.uow import UnitOfWork


@dataclass(frozen=True)
class NotificationView:
    id: int
    created_at: datetime
    kind: str
    text: str
    link: str | None
    is_read: bool


@requires(Permission.READ)
def unread_count(uow: UnitOfWork, actor: Actor) -> int:
    with uow:
        return (
            uow.session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.user_id == actor.user_id, Notification.is_read.is_(False))
            )
            or 0
        )


@requires(Permission.READ)
def list_notifications(
    uow: UnitOfWork, actor: Actor, *, unread_only: bool = False, limit: int = 100
) -> list[NotificationView]:
    query = select(Notification).where(Notification.user_id == actor.user_id)
    if unread_only:
        query = query.where(Notification.is_read.is_(False))
    with uow:
        rows = uow.session.scalars(
            query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
        )
        return [
            NotificationView(n.id, n.created_at, n.kind, n.text, n.link, n.is_read) for n in rows
        ]


@requires(Permission.READ)
def mark_read(uow: UnitOfWork, actor: Actor, notification_ids: list[int] | None = None) -> int:
    """Mark some (or, with None, all) of the caller's own notifications as read."""
    query = update(Notification).where(
        Notification.user_id == actor.user_id, Notification.is_read.is_(False)
    )
    if notification_ids is not None:
        query = query.where(Notification.id.in_(notification_ids))
    with uow:
        count = uow.session.execute(query.values(is_read=True)).rowcount  # type: ignore[attr-defined]
        uow.commit()
        return int(count or 0)


# --- budget reached ----------------------------------------------------------------------


def notify(session: Session, user_id: int | None, kind: str, text: str, link: str | None) -> None:
    if user_id is not None:
        session.add(Notification(user_id=user_id, kind=kind, text=text, link=link))


def notify_role(
    session: Session, roles: Sequence[str], kind: str, text: str, link: str | None
) -> None:
    for user in session.query(User).filter(User.role.in_(roles), User.is_active.is_(True)):
        notify(session, user.id, kind, text, link)

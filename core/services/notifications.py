"""A user's notifications: compilation ended, rollback, budget reached."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import func, select, update

from core.domain import Role, utcnow
from core.models import Notification
from core.permissions import Actor, Permission, public, requires
from core.services._common import BUDGET_CHECK_LOCK, notify_role, one_at_a_time
from core.services._usage import connections, month_start, next_month, spend_by_connection
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

BUDGET_CHECK_EVERY_SECONDS = 60.0
BUDGET_KIND = "budget_reached"
_last_budget_check: dict[str, float] = {}


def _budget_link(connection_id: int, month: datetime) -> str:
    return f"pages/dashboard.py?{urlencode({'connection': connection_id, 'month': month.strftime('%Y-%m')})}"


@public
def notify_budgets_reached(uow: UnitOfWork, *, now: datetime | None = None) -> int:
    """Tell admins and managers, once per connection and month, that a connection's spending
    this month reached its monthly budget. Returns how many connections were newly reported."""
    now = now or utcnow()
    start = month_start(now)
    reported = 0
    with uow:
        s = uow.session
        # Two workers checking at once must not both notify.
        one_at_a_time(s, BUDGET_CHECK_LOCK)
        budgets = {c.id: c for c in connections(s).values() if c.monthly_budget}
        if not budgets:
            return 0
        spent = spend_by_connection(s, start, next_month(start))
        for conn_id, amount in spent.items():
            conn = budgets.get(conn_id)
            if conn is None or conn.monthly_budget is None or amount < conn.monthly_budget:
                continue
            link = _budget_link(conn_id, start)
            already = s.scalar(
                select(Notification.id)
                .where(Notification.kind == BUDGET_KIND, Notification.link == link)
                .limit(1)
            )
            if already is not None:
                continue
            notify_role(
                s,
                [Role.ADMIN.value, Role.MANAGER.value],
                BUDGET_KIND,
                f"Budget reached: {conn.name} has spent {amount:.2f} of its monthly budget of "
                f"{conn.monthly_budget:.2f} in {start.strftime('%B %Y')}. A compilation that "
                "would go over it now needs an admin's override.",
                link,
            )
            reported += 1
        uow.commit()
    return reported


@public
def budget_check_task(uow: UnitOfWork, worker_name: str) -> bool:
    """Worker task: check the budgets about once a minute per process."""
    now = time.monotonic()
    last = _last_budget_check.get("all")
    if last is not None and now - last < BUDGET_CHECK_EVERY_SECONDS:
        return False
    _last_budget_check["all"] = now
    return notify_budgets_reached(uow) > 0

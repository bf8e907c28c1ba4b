"""Monthly budgets per connection: what a compilation would add, and telling admins and
managers once a connection reached its budget."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.domain import Role, utcnow
from core.models import Notification
from core.permissions import public
from core.services.accounts.notifications import notify_role
from core.services.catalog.usage import (
    ConnectionFacts,
    connection_facts,
    month_start,
    next_month,
    spend_by_connection,
)
from core.services.shared import BUDGET_CHECK_LOCK, one_at_a_time
from core.uow import UnitOfWork

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
        budgets = {c.id: c for c in connection_facts(s).values() if c.monthly_budget}
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


@dataclass(frozen=True)
class Budget:
    monthly_budget: Decimal | None
    spent_this_month: Decimal
    estimate: Decimal

    @property
    def would_exceed(self) -> bool:
        return (
            self.monthly_budget is not None
            and self.estimate > 0
            and self.spent_this_month + self.estimate > self.monthly_budget
        )

    def describe(self) -> str:
        if self.monthly_budget is None:
            return "no monthly budget set"
        return (
            f"{self.spent_this_month:,.2f} of {self.monthly_budget:,.2f} spent this month; "
            f"this compilation ≈ {self.estimate:,.2f}"
        )


def spent_this_month(session: Session, connection: ConnectionFacts | None) -> Decimal:
    """What the connection's compilations cost so far this (UTC) month; 0 without a budget,
    where it does not matter."""
    if connection is None or connection.monthly_budget is None:
        return Decimal(0)
    start = month_start(utcnow())
    return spend_by_connection(session, start, next_month(start)).get(connection.id, Decimal(0))

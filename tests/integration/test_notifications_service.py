"""Notifications: each user's own list, unread count, mark as read; budget reached."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.domain import Role
from core.models import Notification, ProviderConnection
from core.permissions import Actor
from core.services import accounts, catalog
from core.services.accounts.notifications import notify
from core.services.catalog import budgets
from core.uow import UnitOfWork
from tests.history_seed import SeededHistory, seed_history


@pytest.fixture
def seeded(new_uow: Callable[[], UnitOfWork]) -> SeededHistory:
    return seed_history(new_uow())


def _actor(seeded: SeededHistory, role: Role) -> Actor:
    ids = {
        Role.ADMIN: seeded.admin_id,
        Role.TRAINER: seeded.trainer_id,
        Role.MANAGER: seeded.manager_id,
    }
    return Actor(ids[role], f"{role.value}@history.example", role)


def _set_budget(new_uow: Callable[[], UnitOfWork], seeded: SeededHistory, budget: str) -> None:
    with new_uow() as uow:
        conn = uow.session.get(ProviderConnection, seeded.openai_connection_id)
        assert conn is not None
        conn.monthly_budget = Decimal(budget)
        uow.commit()


def test_each_user_sees_and_marks_only_their_own(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    with new_uow() as uow:
        notify(
            uow.session,
            seeded.trainer_id,
            "compilation_ended",
            "Company: succeeded",
            "pages/compilations.py?compilation=1",
        )
        notify(uow.session, seeded.trainer_id, "compilation_ended", "Sales: failed", None)
        notify(uow.session, seeded.manager_id, "rollback", "Company rolled back", None)
        uow.commit()
    trainer = _actor(seeded, Role.TRAINER)
    assert accounts.unread_count(new_uow(), trainer) == 2
    listed = accounts.list_notifications(new_uow(), trainer)
    assert {n.text for n in listed} == {"Company: succeeded", "Sales: failed"}
    # Someone else's id is ignored.
    manager_note = accounts.list_notifications(new_uow(), _actor(seeded, Role.MANAGER))[0]
    assert accounts.mark_read(new_uow(), trainer, [manager_note.id]) == 0
    assert accounts.mark_read(new_uow(), trainer, [listed[0].id]) == 1
    assert accounts.unread_count(new_uow(), trainer) == 1
    assert accounts.mark_read(new_uow(), trainer) == 1
    assert accounts.unread_count(new_uow(), trainer) == 0
    assert accounts.unread_count(new_uow(), _actor(seeded, Role.MANAGER)) == 1


def test_budget_reached_tells_admins_and_managers_once_a_month(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    # v2 trained 12,600 tokens at 3.00 per 1M (0.0378) in the month it finished.
    moment = seeded.now - timedelta(days=3, minutes=-31)
    _set_budget(new_uow, seeded, "0.03")
    assert catalog.notify_budgets_reached(new_uow(), now=moment) == 1
    assert catalog.notify_budgets_reached(new_uow(), now=moment) == 0
    with new_uow() as uow:
        sent = uow.session.scalars(
            select(Notification).where(Notification.kind == "budget_reached")
        ).all()
        assert sorted(n.user_id for n in sent) == sorted([seeded.admin_id, seeded.manager_id])
        assert all(
            n.link
            and n.link.startswith(
                f"pages/dashboard.py?connection={seeded.openai_connection_id}&month="
            )
            for n in sent
        )
        assert "OpenAI has spent 0.0" in sent[0].text and "monthly budget of 0.03" in sent[0].text
    assert accounts.unread_count(new_uow(), _actor(seeded, Role.TRAINER)) == 0


def test_spending_under_the_budget_sends_nothing(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    moment = seeded.now - timedelta(days=3, minutes=-31)
    _set_budget(new_uow, seeded, "1000")
    assert catalog.notify_budgets_reached(new_uow(), now=moment) == 0
    # A month with no compilations at all.
    _set_budget(new_uow, seeded, "0.01")
    assert catalog.notify_budgets_reached(new_uow(), now=moment + timedelta(days=62)) == 0


def test_the_worker_task_checks_at_most_once_a_minute(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def counted(uow: UnitOfWork, now: object = None) -> int:
        calls.append(1)
        return 0

    monkeypatch.setattr(budgets, "_last_budget_check", {})
    monkeypatch.setattr(budgets, "notify_budgets_reached", counted)
    catalog.budget_check_task(new_uow(), "w")
    catalog.budget_check_task(new_uow(), "w")
    assert calls == [1]

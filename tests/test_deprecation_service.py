"""The deprecation radar: base models in use, their shutdown dates from the provider's list
or the admins' table, and the models flagged within 90 days."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.domain import ProviderType, Role
from core.errors import PermissionDenied, ValidationFailed
from core.models import AuditEntry, ProviderConnection
from core.permissions import Actor
from core.services import deprecation
from core.services.deprecation import BaseModelInput
from core.uow import UnitOfWork
from tests.history_seed import SeededHistory, seed_history
from tests.openai_server import FakeOpenAI

TODAY = date(2026, 11, 25)
MINI = "gpt-4o-mini-2024-07-18"


@pytest.fixture
def seeded(new_uow: Callable[[], UnitOfWork]) -> SeededHistory:
    return seed_history(new_uow())


def _admin(seeded: SeededHistory) -> Actor:
    return Actor(seeded.admin_id, "admin@history.example", Role.ADMIN)


def _manager(seeded: SeededHistory) -> Actor:
    return Actor(seeded.manager_id, "manager@history.example", Role.MANAGER)


def test_base_models_in_use_without_known_dates(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    rows = deprecation.base_models_in_use(new_uow(), _manager(seeded), today=TODAY)
    assert [(r.base_model, r.models, r.connections, r.flagged) for r in rows] == [
        ("gpt-4o-mini-2024-07-18", ["Company", "Sales"], ["OpenAI"], False),
        ("local-retrieval-1", ["Offline helper"], ["Local (offline)"], False),
    ]
    assert deprecation.models_at_risk(new_uow(), _manager(seeded), today=TODAY) == {}
    assert deprecation.uses_openai(new_uow(), _manager(seeded))


def test_an_admin_date_within_90_days_flags_every_model_on_that_base(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    saved = deprecation.save_base_model(
        new_uow(),
        _admin(seeded),
        BaseModelInput(ProviderType.OPENAI, MINI, TODAY + timedelta(days=90), "from the blog"),
    )
    assert saved.source == "admin"
    risk = deprecation.models_at_risk(new_uow(), _manager(seeded), today=TODAY)
    assert set(risk) == {seeded.parent_id, seeded.child_id}
    assert risk[seeded.child_id].days_left == 90
    assert "retires on 2027-02-23 (in 90 days)" in risk[seeded.child_id].text
    # One day further out is not flagged yet.
    later = deprecation.models_at_risk(new_uow(), _manager(seeded), today=TODAY - timedelta(days=1))
    assert later == {}
    with new_uow() as uow:
        audit = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "base_model")
        ).all()
        assert [(a.action, a.after["shutdown_date"]) for a in audit if a.after] == [
            ("create", "2027-02-23")
        ]


def test_a_retired_base_model_is_flagged_as_retired(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    deprecation.save_base_model(
        new_uow(),
        _admin(seeded),
        BaseModelInput(ProviderType.OPENAI, MINI, TODAY - timedelta(days=2)),
    )
    risk = deprecation.models_at_risk(new_uow(), _manager(seeded), today=TODAY)
    assert risk[seeded.parent_id].days_left == -2
    assert "was retired on 2026-11-23" in risk[seeded.parent_id].text


def test_only_admins_edit_the_table_and_bad_input_names_the_field(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    with pytest.raises(PermissionDenied):
        deprecation.save_base_model(
            new_uow(), _manager(seeded), BaseModelInput(ProviderType.OPENAI, MINI)
        )
    with pytest.raises(ValidationFailed) as caught:
        deprecation.save_base_model(
            new_uow(), _admin(seeded), BaseModelInput(ProviderType.OPENAI, "  ", context_tokens=0)
        )
    assert [p.where for p in caught.value.problems] == ["name", "context tokens"]
    assert deprecation.list_base_models(new_uow(), _admin(seeded)) == []


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(shutdown_dates={MINI: "2027-01-31"}) as server:
        monkeypatch.setenv("ARBITER_TEST_OPENAI_KEY", server.api_key)
        yield server


def test_the_providers_date_wins_over_the_typed_one(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory, fake_openai: FakeOpenAI
) -> None:
    admin = _admin(seeded)
    deprecation.save_base_model(
        new_uow(), admin, BaseModelInput(ProviderType.OPENAI, MINI, date(2027, 6, 1))
    )
    deprecation.save_base_model(
        new_uow(),
        admin,
        BaseModelInput(ProviderType.OPENAI, "gpt-4.1-2025-04-14", date(2027, 9, 1), "typed"),
    )
    with new_uow() as uow:
        conn = uow.session.get(ProviderConnection, seeded.openai_connection_id)
        assert conn is not None
        conn.base_url = fake_openai.base_url
        conn.api_key_env = "ARBITER_TEST_OPENAI_KEY"
        uow.commit()
    report = deprecation.refresh_from_providers(new_uow(), admin)
    assert report.problems == []
    assert report.dates_found == 1
    rows = {r.name: r for r in deprecation.list_base_models(new_uow(), admin)}
    assert (rows[MINI].shutdown_date, rows[MINI].source) == (date(2027, 1, 31), "provider")
    # The provider gives no date for this one: the admin's stays.
    assert (rows["gpt-4.1-2025-04-14"].shutdown_date, rows["gpt-4.1-2025-04-14"].source) == (
        date(2027, 9, 1),
        "admin",
    )
    assert fake_openai.requests.count(("GET", "/v1/models")) == 1
    in_use = deprecation.base_models_in_use(new_uow(), admin, today=TODAY)
    assert (in_use[0].base_model, in_use[0].source, in_use[0].days_left) == (MINI, "provider", 67)
    assert in_use[0].flagged


def test_a_provider_that_cannot_answer_is_reported_not_raised(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    report = deprecation.refresh_from_providers(new_uow(), _admin(seeded))
    assert len(report.problems) == 1 and report.problems[0].startswith("OpenAI: No OpenAI API key")
    # The local provider answered: its base model is known now (without a shutdown date).
    names = [r.name for r in deprecation.list_base_models(new_uow(), _admin(seeded))]
    assert names == ["local-retrieval-1"]

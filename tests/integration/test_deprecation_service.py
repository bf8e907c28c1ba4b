"""The deprecation radar: base models in use, their shutdown dates from the provider's list
or the admins' table, and the models flagged within 90 days."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core import cli, db
from core.domain import ModelKind, ProviderType, Role
from core.errors import PermissionDenied, ValidationFailed
from core.models import AIModel, AuditEntry, ProviderConnection
from core.permissions import Actor
from core.providers.base import BaseModel
from core.services import catalog, compilation
from core.services.catalog import BaseModelInput, base_models
from core.uow import UnitOfWork
from tests.history_seed import SeededHistory, seed_history
from tests.openai_server import FakeOpenAI

TODAY = date(2026, 11, 25)
MINI = "gpt-4o-mini-2024-07-18"


@pytest.fixture
def seeded(new_uow: Callable[[], UnitOfWork], catalogue_file: Path) -> SeededHistory:
    # The stored layer alone: the shipped catalogue file's facts are tested on their own.
    return seed_history(new_uow())


def _admin(seeded: SeededHistory) -> Actor:
    return Actor(seeded.admin_id, "admin@history.example", Role.ADMIN)


def _manager(seeded: SeededHistory) -> Actor:
    return Actor(seeded.manager_id, "manager@history.example", Role.MANAGER)


def test_base_models_in_use_without_known_dates(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    rows = catalog.base_models_in_use(new_uow(), _manager(seeded), today=TODAY)
    assert [(r.base_model, r.models, r.connections, r.flagged) for r in rows] == [
        ("gpt-4o-mini-2024-07-18", ["Company", "Sales"], ["OpenAI"], False),
        ("local-retrieval-1", ["Offline helper"], ["Local (offline)"], False),
    ]
    assert catalog.models_at_risk(new_uow(), _manager(seeded), today=TODAY) == {}
    assert catalog.uses_openai(new_uow(), _manager(seeded))


def test_an_admin_date_within_90_days_flags_every_model_on_that_base(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    saved = catalog.save_base_model(
        new_uow(),
        _admin(seeded),
        BaseModelInput(ProviderType.OPENAI, MINI, TODAY + timedelta(days=90), "from the blog"),
    )
    assert saved.source == "admin"
    risk = catalog.models_at_risk(new_uow(), _manager(seeded), today=TODAY)
    assert set(risk) == {seeded.parent_id, seeded.child_id}
    assert risk[seeded.child_id].days_left == 90
    assert "retires on 2027-02-23 (in 90 days)" in risk[seeded.child_id].text
    # One day further out is not flagged yet.
    later = catalog.models_at_risk(new_uow(), _manager(seeded), today=TODAY - timedelta(days=1))
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
    catalog.save_base_model(
        new_uow(),
        _admin(seeded),
        BaseModelInput(ProviderType.OPENAI, MINI, TODAY - timedelta(days=2)),
    )
    risk = catalog.models_at_risk(new_uow(), _manager(seeded), today=TODAY)
    assert risk[seeded.parent_id].days_left == -2
    assert "was retired on 2026-11-23" in risk[seeded.parent_id].text


def test_only_admins_edit_the_table_and_bad_input_names_the_field(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    with pytest.raises(PermissionDenied):
        catalog.save_base_model(
            new_uow(), _manager(seeded), BaseModelInput(ProviderType.OPENAI, MINI)
        )
    with pytest.raises(ValidationFailed) as caught:
        catalog.save_base_model(
            new_uow(), _admin(seeded), BaseModelInput(ProviderType.OPENAI, "  ", context_tokens=0)
        )
    assert [p.where for p in caught.value.problems] == ["name", "context tokens"]
    assert catalog.list_base_models(new_uow(), _admin(seeded)) == []


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(shutdown_dates={MINI: "2027-01-31"}) as server:
        monkeypatch.setenv("ARBITER_KEY_TEST_OPENAI", server.api_key)
        yield server


def test_the_providers_date_wins_over_the_typed_one(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory, fake_openai: FakeOpenAI
) -> None:
    admin = _admin(seeded)
    catalog.save_base_model(
        new_uow(), admin, BaseModelInput(ProviderType.OPENAI, MINI, date(2027, 6, 1))
    )
    catalog.save_base_model(
        new_uow(),
        admin,
        BaseModelInput(ProviderType.OPENAI, "gpt-4.1-2025-04-14", date(2027, 9, 1), "typed"),
    )
    with new_uow() as uow:
        conn = uow.session.get(ProviderConnection, seeded.openai_connection_id)
        assert conn is not None
        conn.base_url = fake_openai.base_url
        conn.api_key_env = "ARBITER_KEY_TEST_OPENAI"
        uow.commit()
    report = catalog.refresh_from_providers(new_uow(), admin)
    assert report.problems == []
    assert report.dates_found == 1
    rows = {r.name: r for r in catalog.list_base_models(new_uow(), admin)}
    assert (rows[MINI].shutdown_date, rows[MINI].source) == (date(2027, 1, 31), "provider")
    # The provider gives no date for this one: the admin's stays.
    assert (rows["gpt-4.1-2025-04-14"].shutdown_date, rows["gpt-4.1-2025-04-14"].source) == (
        date(2027, 9, 1),
        "admin",
    )
    assert fake_openai.requests.count(("GET", "/v1/models")) == 1
    in_use = catalog.base_models_in_use(new_uow(), admin, today=TODAY)
    assert (in_use[0].base_model, in_use[0].source, in_use[0].days_left) == (MINI, "provider", 67)
    assert in_use[0].flagged


def test_a_provider_that_cannot_answer_is_reported_not_raised(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    report = catalog.refresh_from_providers(new_uow(), _admin(seeded))
    assert len(report.problems) == 1 and report.problems[0].startswith("OpenAI: No OpenAI API key")
    # The local provider answered: its base model is known now (without a shutdown date).
    names = [r.name for r in catalog.list_base_models(new_uow(), _admin(seeded))]
    assert names == ["local-retrieval-1"]


def _examples(content: bytes) -> list[list[str]]:
    """Each line's messages as "role: content"."""
    return [
        [f"{m['role']}: {m['content']}" for m in json.loads(line)["messages"]]
        for line in content.decode().splitlines()
    ]


def test_every_arbiters_training_set_exports_as_jsonl_in_one_zip(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    with new_uow() as uow:
        uow.session.add(AIModel(name="Reception desk", kind=ModelKind.ASSISTANT))
        uow.commit()
    manager = _manager(seeded)
    exported = catalog.export_training_sets(new_uow(), manager)
    assert [s.model_name for s in exported.sets] == ["Company", "Offline helper", "Sales"]
    with zipfile.ZipFile(io.BytesIO(exported.as_zip())) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(files.pop("manifest.json"))
    by_model = {m["model"]: m for m in manifest["models"]}
    # The model without training data is named in the manifest, with no file.
    assert by_model["Offline helper"]["file"] is None
    assert by_model["Offline helper"]["examples"] == 0
    assert by_model["Sales"]["parent"] == "Company"
    assert by_model["Company"]["base_model"] == MINI
    assert by_model["Company"]["provider"] == "openai"
    assert sorted(files) == sorted([by_model["Company"]["file"], by_model["Sales"]["file"]])
    for model_id, name in ((seeded.parent_id, "Company"), (seeded.child_id, "Sales")):
        content = files[by_model[name]["file"]]
        # The same set a compilation of that model would train on, hierarchy included.
        assert content == compilation.export_training_set(new_uow(), manager, model_id)
        assert len(_examples(content)) == by_model[name]["examples"]
    company = _examples(files[by_model["Company"]["file"]])
    assert [
        "system: You answer for the company.",
        "user: Question 0-0?",
        "assistant: Answer 0-0.",
    ] in company
    # Company aggregates its child's Q&As; the inactive and validation ones stay out.
    assert any("user: Question 5-1?" in example for example in company)
    assert not any("user: Retired question?" in e or "user: Validation?" in e for e in company)


def test_the_export_needs_a_signed_in_user(new_uow: Callable[[], UnitOfWork]) -> None:
    with pytest.raises(PermissionDenied):
        catalog.export_training_sets(new_uow(), None)  # type: ignore[arg-type]


def test_the_command_line_writes_one_file_per_model_and_the_manifest(
    db_url: str,
    seeded: SeededHistory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    try:
        assert cli.main(["export-training-sets", str(tmp_path / "sets")]) == 0
    finally:
        db.dispose_engines()
    written = sorted(p.name for p in (tmp_path / "sets").iterdir())
    assert written == ["0001-company.jsonl", "0002-sales.jsonl", "manifest.json"]
    assert "2 of 3 model(s)" in capsys.readouterr().out


class _SlowList(list[BaseModel]):
    """A provider's list that is read slowly, inside the transaction that stores it."""

    def __iter__(self) -> Iterator[BaseModel]:
        time.sleep(0.3)
        return super().__iter__()


def test_workers_refreshing_at_once_store_each_base_model_once(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker processes that start together all refresh at once: none may fail on the
    unique base-model name because another stored it first."""

    class Provider:
        def list_base_models(self) -> list[BaseModel]:
            return _SlowList([BaseModel(id=MINI, shutdown_date=date(2027, 1, 31))])

    monkeypatch.setattr(base_models, "provider_for", lambda settings: Provider())
    monkeypatch.setenv("OPENAI_API_KEY", "sk-present")
    reports: list[catalog.RefreshReport] = []
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            reports.append(catalog.refresh_from_providers(new_uow(), _admin(seeded)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [r.problems for r in reports] == [[]] * 4
    rows = catalog.list_base_models(new_uow(), _admin(seeded))
    # Once per provider type: both seeded connections (local and OpenAI) list it here.
    assert sorted((r.provider_type.value, r.name, r.shutdown_date) for r in rows) == [
        ("local", MINI, date(2027, 1, 31)),
        ("openai", MINI, date(2027, 1, 31)),
    ]

"""The base-model catalogue as its users meet it: the facts of the file the project ships
(token limits, prices, the last day a provider takes new fine-tuning jobs) with where each
comes from, an admin's own facts over them, a base model the catalogue does not know refused
when a model is saved, and OpenAI's cut-off: past it a compilation is refused before anything
is uploaded, and the model moves to Azure OpenAI with its pre-flight shown there first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import time_machine

from core.domain import CompilationStatus, ProviderType
from core.errors import ValidationFailed
from core.permissions import Actor
from core.providers import catalogue
from core.services import catalog, compilation
from core.services.catalog import MoveTarget
from tests.compile_helpers import (
    OPENAI_KEY_ENV,
    Uows,
    add_qas,
    drain,
    make_model,
    openai_connection,
)
from tests.openai_server import FakeOpenAI

BASE = "gpt-4o-mini-2024-07-18"
# The real dates: these tests are about them (other tests move the cut-off far out).
pytestmark = pytest.mark.usefixtures("shipped_catalogue")


def _cut_off() -> catalogue.CatalogueEntry:
    found = catalogue.entry(ProviderType.OPENAI, BASE)
    assert found is not None and found.fine_tuning_ends is not None
    return found


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[FakeOpenAI]:
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    with FakeOpenAI() as fake:
        monkeypatch.setenv(OPENAI_KEY_ENV, fake.api_key)
        yield fake


def _row(new_uow: Uows, admin: Actor, provider: ProviderType, name: str) -> catalog.BaseModelRow:
    rows = catalog.list_base_models(new_uow(), admin)
    return next(r for r in rows if r.provider_type == provider and r.name == name)


def test_the_shipped_catalogue_names_each_fact_and_where_it_comes_from(
    new_uow: Uows, admin: Actor
) -> None:
    cut_off = _cut_off()
    assert cut_off.fine_tuning_ends == date(2027, 1, 6)
    row = _row(new_uow, admin, ProviderType.OPENAI, BASE)
    assert row.id is None  # nothing stored: the file alone knows it
    assert row.fine_tuning_ends == cut_off.fine_tuning_ends
    assert row.example_token_limit and row.training_price_per_million
    assert row.sources["fine_tuning_ends"].startswith("catalogue")
    azure = _row(new_uow, admin, ProviderType.AZURE_OPENAI, BASE)
    assert azure.hosting_price_per_hour and azure.hosting_price_per_hour > 0


def test_an_admins_fact_overrides_the_file_and_says_so(new_uow: Uows, admin: Actor) -> None:
    catalog.save_base_model(
        new_uow(),
        admin,
        catalog.BaseModelInput(
            provider_type=ProviderType.OPENAI,
            name=BASE,
            shutdown_date=date(2027, 2, 1),
            notes="our account manager's date",
        ),
    )
    row = _row(new_uow, admin, ProviderType.OPENAI, BASE)
    assert row.shutdown_date == date(2027, 2, 1) and row.sources["shutdown_date"] == "admin"
    # The facts the admin left alone still come from the file.
    assert row.fine_tuning_ends == _cut_off().fine_tuning_ends
    assert row.sources["fine_tuning_ends"].startswith("catalogue")


def test_a_base_model_the_catalogue_does_not_know_is_refused_at_save(
    new_uow: Uows, admin: Actor, server: FakeOpenAI
) -> None:
    connection = openai_connection(new_uow, admin, server.base_url)
    with pytest.raises(ValidationFailed) as refused:
        make_model(new_uow, admin, "Typo", connection_id=connection, base_model="gpt-4o-mni")
    assert "not in the catalogue of openai models" in str(refused.value.problems)


def test_past_the_cut_off_a_compilation_is_refused_and_the_model_moves_to_azure(
    new_uow: Uows, admin: Actor, trainer: Actor, server: FakeOpenAI
) -> None:
    ends = _cut_off().fine_tuning_ends
    assert ends is not None
    connection = openai_connection(new_uow, admin, server.base_url)
    model = make_model(new_uow, admin, "Northwind Support", connection_id=connection)
    add_qas(new_uow, model)
    day_before = (ends - timedelta(days=1)).isoformat() + "T12:00:00+00:00"
    with time_machine.travel(day_before, tick=True):
        queued_before = compilation.request_compilation(new_uow(), trainer, model)
    day_after = (ends + timedelta(days=1)).isoformat() + "T12:00:00+00:00"
    with time_machine.travel(day_after, tick=True):
        # One queued the day before is refused by the worker, before anything is uploaded.
        drain(new_uow)
        failed = compilation.get_compilation(new_uow(), trainer, queued_before.id)
        assert failed.status == CompilationStatus.FAILED
        assert "takes no new fine-tuning jobs" in (failed.error or "")
        before = compilation.preflight(new_uow(), trainer, model)
        assert before.refusal and "takes no new fine-tuning jobs" in before.refusal
        with pytest.raises(ValidationFailed) as refused:
            compilation.request_compilation(new_uow(), trainer, model)
        assert "Move the model to another connection" in refused.value.message
        with server.lock:
            assert server.files == {} and server.jobs == {}
        azure = catalog.create_connection(
            new_uow(),
            admin,
            catalog.ConnectionInput(
                name="Azure Sweden",
                provider_type=ProviderType.AZURE_OPENAI,
                base_url="https://northwind.openai.azure.example",
                api_key_env="AZURE_OPENAI_API_KEY",
                default_base_model=BASE,
                manual_deployments=True,
            ),
        ).id
        there = compilation.preflight(new_uow(), trainer, model, MoveTarget(azure))
        assert there.refusal is None and there.provider_type == ProviderType.AZURE_OPENAI
        assert there.example_count == before.example_count
        moved = catalog.move_model(new_uow(), admin, model, azure)
        assert moved.connection_id == azure
        assert compilation.preflight(new_uow(), trainer, model).refusal is None

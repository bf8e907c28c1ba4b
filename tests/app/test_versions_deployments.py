"""The Versions tab of a model trained at Azure OpenAI: each version's deployment with its
hourly price, what runs for the model in all, and an admin removing the deployment that no
version answers from (its hourly charge stops)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import db
from core.domain import ProviderType, Role
from core.services import catalog, compilation
from core.uow import UnitOfWork
from tests.app.test_models_page import open_models
from tests.app.test_pages import app_for
from tests.compile_helpers import add_qas, drain, make_model
from tests.conftest import make_user
from tests.fakes.azure_openai import FakeAzureOpenAI, serving_azure

KEY_ENV = "AZURE_OPENAI_API_KEY_TEST"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[FakeAzureOpenAI]:
    with serving_azure(monkeypatch, tmp_path, KEY_ENV) as fake:
        yield fake


def test_an_admin_sees_the_deployments_and_removes_the_unused_one(
    sqlite_url: str, server: FakeAzureOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.make_engine(sqlite_url)

    def new_uow() -> UnitOfWork:
        return UnitOfWork(db.session_factory(engine))

    admin = make_user(new_uow(), "admin@corp.example", Role.ADMIN)
    connection = catalog.create_connection(
        new_uow(),
        admin,
        catalog.ConnectionInput(
            name="Azure Sweden",
            provider_type=ProviderType.AZURE_OPENAI,
            base_url=server.endpoint,
            api_key_env=KEY_ENV,
            default_base_model="gpt-4o-mini-2024-07-18",
            azure_subscription_id=server.arm.subscription,
            azure_resource_group=server.arm.resource_group,
            azure_account_name=server.arm.account,
            hosting_price_per_hour="1.70",
        ),
    )
    model = make_model(new_uow, admin, "Northwind Support", connection_id=connection.id)
    for extra in ([], [("Is there a night shift?", "No: Venlo works two shifts.")]):
        add_qas(new_uow, model, extra or None)
        compilation.request_compilation(new_uow(), admin, model)
        drain(new_uow)
    assert len(server.arm.deployments) == 2
    # The dashboard shows what runs and what it costs per hour, and the month's hosting.
    board = app_for(sqlite_url, admin.user_id, monkeypatch).run()
    board.switch_page("pages/dashboard.py").run()
    assert not board.exception, board.exception
    (running,) = [m for m in board.metric if m.label == "Deployments now"]
    assert running.value == "2 · 3.40 USD/hour"
    at = open_models(sqlite_url, admin, monkeypatch, model)
    table = next(d.value for d in at.dataframe if "Deployment" in d.value.columns)
    assert all(": ready, 1.70 USD/hour" in cell for cell in table["Deployment"]), list(
        table["Deployment"]
    )
    assert any(
        "2 deployment(s) exist for Northwind Support, 3.40 USD/hour together; 1 of them" in c.value
        for c in at.caption
    )
    remove = next(b for b in at.button if b.key == f"versions_remove_deployments_{model}")
    remove.click().run()
    # (The Delete tab's standing warning is an st.error too.)
    problems = [e.value for e in at.error if not e.value.startswith("Deleting ")]
    assert not at.exception and problems == []
    v1, v2 = sorted(compilation.list_versions(new_uow(), admin, model), key=lambda v: v.number)
    assert v1.deployment_state == "removed" and v2.deployment_state == "ready"
    with server.lock:
        assert list(server.arm.deployments) == [v2.deployment_name]
    engine.dispose()

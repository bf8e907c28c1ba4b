"""The Connections page as an admin meets it: an Azure OpenAI connection is made in the form
(its own fields appear when the type is chosen), a key variable that is not meant for keys is
refused with the rule, and the list says how each connection signs in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core import db, demo
from core.domain import ProviderType, Role
from core.models import ProviderConnection, User
from core.uow import UnitOfWork
from tests.app.test_pages import app_for


@pytest.fixture
def admin_db(tmp_path: object) -> Iterator[tuple[str, int]]:
    url = f"sqlite:///{tmp_path}/connections.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    uow = UnitOfWork(db.session_factory(engine))
    accounts = demo.seed(uow)
    admin = next(a for a in accounts if a.role == Role.ADMIN)
    with uow:
        admin_id = uow.session.scalar(select(User.id).where(User.email == admin.email)) or 0
    engine.dispose()
    yield url, admin_id


def _page(url: str, admin_id: int, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    at = app_for(url, admin_id, monkeypatch).run()
    at.switch_page("pages/connections.py").run()
    assert not at.exception, at.exception
    return at


def _stored(url: str, name: str) -> ProviderConnection | None:
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            found = session.scalar(
                select(ProviderConnection).where(ProviderConnection.name == name)
            )
            if found is not None:
                session.expunge(found)
            return found
    finally:
        engine.dispose()


def test_an_admin_makes_an_azure_connection_with_entra_id_and_manual_deployments(
    admin_db: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, admin_id = admin_db
    at = _page(url, admin_id, monkeypatch)
    assert not [t for t in at.text_input if t.key == "conn_new_api_version"]
    at.radio(key="conn_new_type").set_value(ProviderType.AZURE_OPENAI).run()
    at.text_input(key="conn_new_name").input("Azure Sweden")
    at.text_input(key="conn_new_url").input("https://northwind.openai.azure.com")
    at.toggle(key="conn_new_entra").set_value(True)
    at.toggle(key="conn_new_manual").set_value(True)
    at.text_input(key="conn_new_base_model").input("gpt-4o-mini-2024-07-18")
    at.number_input(key="conn_new_hosting").set_value(1.7)
    next(b for b in at.button if b.label == "Create connection").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    stored = _stored(url, "Azure Sweden")
    assert stored is not None and stored.provider_type == ProviderType.AZURE_OPENAI
    assert stored.entra_id and stored.manual_deployments and stored.api_key_env is None
    listing = at.dataframe[0].value
    row = listing[listing["Name"] == "Azure Sweden"].iloc[0]
    assert row["Type"] == "Azure OpenAI" and row["Key"] == "Entra ID"
    assert row["Key variable"] == "none needed" and row["Hosting / hour"] == "1.70 USD"


def test_a_key_variable_not_meant_for_keys_is_refused_with_the_rule(
    admin_db: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, admin_id = admin_db
    at = _page(url, admin_id, monkeypatch)
    at.text_input(key="conn_new_name").input("Leak")
    at.text_input(key="conn_new_url").input("http://attacker.example/v1")
    at.text_input(key="conn_new_key_env").input("PGPASSWORD")
    next(b for b in at.button if b.label == "Create connection").click().run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "PGPASSWORD" in shown and "ARBITER_KEY_" in shown
    assert _stored(url, "Leak") is None


def test_an_admin_makes_an_open_weights_connection_with_its_lora_rank(
    admin_db: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, admin_id = admin_db
    at = _page(url, admin_id, monkeypatch)
    at.radio(key="conn_new_type").set_value(ProviderType.OPEN_WEIGHTS).run()
    at.text_input(key="conn_new_name").input("Local fine-tune")
    assert at.text_input(key="conn_new_base_model_open_weights").value == "SmolLM2-135M-Instruct"
    at.number_input(key="conn_new_lora_rank").set_value(8)
    next(b for b in at.button if b.label == "Create connection").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    stored = _stored(url, "Local fine-tune")
    assert stored is not None and stored.provider_type == ProviderType.OPEN_WEIGHTS
    assert stored.lora_rank == 8 and stored.api_key_env is None
    listing = at.dataframe[0].value
    row = listing[listing["Name"] == "Local fine-tune"].iloc[0]
    assert row["Key variable"] == "none needed" and "LoRA" in row["Type"]


def test_an_open_weights_connection_serves_through_an_openai_compatible_server(
    admin_db: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, admin_id = admin_db
    at = _page(url, admin_id, monkeypatch)
    at.radio(key="conn_new_type").set_value(ProviderType.OPEN_WEIGHTS).run()
    at.text_input(key="conn_new_name").input("Served fine-tune")
    at.text_input(key="conn_new_serve_url").input("http://gpu-host:8000/v1")
    at.text_input(key="conn_new_serve_key_env").input("PGPASSWORD")
    next(b for b in at.button if b.label == "Create connection").click().run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "PGPASSWORD" in shown and "ARBITER_KEY_" in shown
    assert _stored(url, "Served fine-tune") is None
    at.text_input(key="conn_new_serve_key_env").input("ARBITER_KEY_VLLM")
    next(b for b in at.button if b.label == "Create connection").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    stored = _stored(url, "Served fine-tune")
    assert stored is not None and stored.provider_type == ProviderType.OPEN_WEIGHTS
    assert stored.base_url == "http://gpu-host:8000/v1"
    assert stored.api_key_env == "ARBITER_KEY_VLLM"
    listing = at.dataframe[0].value
    row = listing[listing["Name"] == "Served fine-tune"].iloc[0]
    assert row["Base URL"] == "http://gpu-host:8000/v1"
    assert row["Key variable"] == "ARBITER_KEY_VLLM" and row["Key"] == "MISSING"

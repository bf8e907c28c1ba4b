"""The Models page as its users meet it (AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import db
from core.domain import ProviderType, Role
from core.permissions import Actor
from core.services import catalog
from core.services.catalog import ModelInput
from core.uow import UnitOfWork
from tests.conftest import make_user
from tests.paths import ROOT
from ui.context import USER_KEY

Company = tuple[UnitOfWork, dict[str, Actor], dict[str, int]]


@pytest.fixture
def company(sqlite_url: str) -> Company:
    uow = UnitOfWork(db.session_factory(db.make_engine(sqlite_url)))
    people = {
        "admin": make_user(uow, "admin@corp.example", Role.ADMIN),
        "trainer": make_user(uow, "trainer@corp.example", Role.TRAINER),
    }
    local = catalog.create_connection(
        uow,
        people["admin"],
        catalog.ConnectionInput(name="Local", provider_type=ProviderType.LOCAL),
    )
    master = catalog.create_model(
        uow, people["admin"], ModelInput(name="Master", connection_id=local.id)
    )
    sales = catalog.create_model(
        uow, people["admin"], ModelInput(name="Sales", parent_id=master.id)
    )
    return uow, people, {"master": master.id, "sales": sales.id, "local": local.id}


def open_models(
    sqlite_url: str, actor: Actor, monkeypatch: pytest.MonkeyPatch, model_id: int | None = None
) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state[USER_KEY] = actor.user_id
    if model_id is not None:
        at.query_params["model"] = str(model_id)
    at.run()
    at.switch_page("pages/models.py").run()
    assert not at.exception
    return at


def test_admin_creates_a_child_model(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, people, ids = company
    at = open_models(sqlite_url, people["admin"], monkeypatch)
    at.button(key="models_new").click().run()
    at.text_input(key="create_name").input("Support")
    at.selectbox(key="create_parent").select(ids["master"])
    at.selectbox(key="create_connection").select(None)
    at.checkbox(key="create_inherit").check()
    at.text_area(key="create_system_message").input("You help the support desk. Be brief.")
    next(b for b in at.button if b.label == "Create model").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [h.value for h in at.header] == ["Support"]
    created = catalog.get_model_by_name(uow, people["admin"], "Support")
    assert created.parent_id == ids["master"] and created.inherit_parent_training
    assert created.system_message == "You help the support desk. Be brief."


def test_a_cycle_is_refused_with_a_clear_message(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, people, ids = company
    at = open_models(sqlite_url, people["admin"], monkeypatch, model_id=ids["master"])
    assert [h.value for h in at.header] == ["Master"]
    version = catalog.get_model(uow, people["admin"], ids["master"]).row_version
    at.selectbox(key=f"m{ids['master']}v{version}_parent").select(ids["sales"])
    next(b for b in at.button if b.label == "Save settings").click().run()
    assert not at.exception
    assert any("would create a cycle" in e.value for e in at.error)
    assert catalog.get_model(uow, people["admin"], ids["master"]).parent_id is None


def test_system_message_counts_and_guidance(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, people, ids = company
    at = open_models(sqlite_url, people["admin"], monkeypatch, model_id=ids["master"])
    version = catalog.get_model(uow, people["admin"], ids["master"]).row_version
    at.text_area(key=f"m{ids['master']}v{version}_system").input(
        "One. Two. Three. Four. Five. Six. Seven. Eight."
    ).run()
    captions = [c.value for c in at.caption]
    assert any("8 sentences" in c and "47 characters" in c for c in captions), captions
    assert any("keep the system message to 5–6 sentences" in w.value for w in at.warning)


def test_trainers_see_settings_read_only(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, people, ids = company
    at = open_models(sqlite_url, people["trainer"], monkeypatch, model_id=ids["sales"])
    assert not [b for b in at.button if b.label in {"New model", "Save settings", "Delete model"}]
    assert [h.value for h in at.header] == ["Sales"]


def test_delete_asks_for_the_name_when_data_would_be_lost(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, people, ids = company
    at = open_models(sqlite_url, people["admin"], monkeypatch, model_id=ids["master"])
    assert any("has child models (Sales)" in w.value for w in at.warning)
    at = open_models(sqlite_url, people["admin"], monkeypatch, model_id=ids["sales"])
    next(b for b in at.button if b.label == "Delete model").click().run()
    assert not at.exception
    names = [m.name for m in catalog.list_models(uow, people["admin"])]
    assert names == ["Master"]


def test_single_sign_on_user_gets_their_role(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, people, _ = company
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    from core import config

    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\ncookie_secret = "x"\n'
    )
    monkeypatch.setattr(config, "secrets_files", lambda: [secrets])
    config.reload_secrets()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
        at.user = {"is_logged_in": True, "email": "TRAINER@corp.example"}
        at.run()
        assert not at.exception
        assert at.session_state[USER_KEY] == people["trainer"].user_id
        assert [t.value for t in at.title] == ["Models"]
        assert [c.value for c in at.sidebar.caption] == ["Signed in as **Trainer** · trainer"]
    finally:
        config.reload_secrets()


def test_an_admin_picks_a_base_model_from_the_catalogue_and_moves_the_model(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, people, ids = company
    openai = catalog.create_connection(
        uow,
        people["admin"],
        catalog.ConnectionInput(
            name="OpenAI",
            provider_type=ProviderType.OPENAI,
            api_key_env="OPENAI_API_KEY",
            default_base_model="gpt-4o-mini-2024-07-18",
        ),
    )
    at = open_models(sqlite_url, people["admin"], monkeypatch, ids["master"])
    prefix = next(s.key for s in at.selectbox if s.key and s.key.endswith("_base_model"))
    picker = at.selectbox(key=prefix)
    labelled = [picker.format_func(o) for o in picker.options]
    assert any(
        "gpt-4o-mini-2024-07-18 (openai, " in o
        and "USD/1M training tokens" in o
        and "new jobs until" in o
        for o in labelled
    )
    # Move Master from the local connection to OpenAI: the pre-flight there comes first.
    move = f"move_{ids['master']}"
    at.selectbox(key=f"{move}_to").set_value(openai.id).run()
    next(b for b in at.button if b.key == f"{move}_check").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("There: base model gpt-4o-mini-2024-07-18" in m.value for m in at.markdown)
    next(b for b in at.button if b.key == f"{move}_go").click().run()
    assert not at.exception
    assert catalog.get_model(uow, people["admin"], ids["master"]).connection_id == openai.id

"""Compile and watch on the Models page (AppTest, local provider): pre-flight, compile,
the status while it runs, the outcome, the version, rollback; managers only watch."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import db
from core.domain import ProviderType, QAType, Role
from core.permissions import Actor
from core.providers.local import LOCAL_BASE_MODEL
from core.services import catalog
from core.services.catalog import ModelInput
from core.uow import UnitOfWork
from tests.compile_helpers import TOPICS, add_qas, drain, open_weights_connection
from tests.conftest import make_user
from tests.paths import ROOT
from ui.context import USER_KEY
from ui.formatting import duration


@pytest.fixture
def company(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[UnitOfWork, dict[str, Actor], int]:
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    factory = db.session_factory(db.make_engine(sqlite_url))
    uow = UnitOfWork(factory)
    people = {role.value: make_user(uow, f"{role.value}@corp.example", role) for role in Role}
    local = catalog.create_connection(
        uow,
        people["admin"],
        catalog.ConnectionInput(
            name="Local", provider_type=ProviderType.LOCAL, default_base_model=LOCAL_BASE_MODEL
        ),
    )
    model = catalog.create_model(
        uow,
        people["admin"],
        ModelInput(name="Support", connection_id=local.id, system_message="Be brief."),
    )
    add_qas(lambda: UnitOfWork(factory), model.id)
    add_qas(
        lambda: UnitOfWork(factory),
        model.id,
        [("How long may customers return relays?", "Customers may return relays within 30 days.")],
        QAType.VALIDATION,
    )
    return uow, people, model.id


def _open(actor: Actor, model_id: int) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[USER_KEY] = actor.user_id
    at.query_params["model"] = str(model_id)
    at.run()
    at.switch_page("pages/models.py").run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, label: str) -> object:
    return next(b for b in at.button if b.label == label)


def test_trainer_runs_preflight_compiles_and_watches(
    company: tuple[UnitOfWork, dict[str, Actor], int],
) -> None:
    uow, people, model_id = company
    at = _open(people["trainer"], model_id)
    tree = at.dataframe[0].value
    assert list(tree["Changes pending"]) == ["yes"]
    _button(at, "Run pre-flight").click().run()  # type: ignore[attr-defined]
    assert not at.exception and not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Examples"] == str(len(TOPICS))
    assert int(metrics["Tokens"].replace(",", "")) > 200
    assert any("ready to compile" in s.value for s in at.success)

    _button(at, "Compile").click().run()  # type: ignore[attr-defined]
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Compilation #1: queued" in [h.value for h in at.subheader]
    assert any(b.label == "Cancel compilation" for b in at.button)

    drain(lambda: UnitOfWork(uow.factory))
    at.run()
    assert not at.exception
    assert "Compilation #1: succeeded" in [h.value for h in at.subheader]
    assert any("Version v1 is active" in s.value for s in at.success)
    assert at.dataframe[0].value["Changes pending"].tolist() == ["no"]
    versions = next(d.value for d in at.dataframe if "Training set hash" in list(d.value.columns))
    assert versions["Version"].tolist() == ["v1"] and versions["State"].tolist() == ["active"]
    assert not [b for b in at.button if b.label == "Make it the active version"]

    _button(at, "Compile").click().run()  # type: ignore[attr-defined]
    drain(lambda: UnitOfWork(uow.factory))
    at.run()
    assert "Compilation #2: skipped" in [h.value for h in at.subheader]
    assert any("Nothing changed" in i.value for i in at.info)


def test_cancel_from_the_page_and_a_manager_only_watches(
    company: tuple[UnitOfWork, dict[str, Actor], int],
) -> None:
    _, people, model_id = company
    at = _open(people["trainer"], model_id)
    _button(at, "Compile").click().run()  # type: ignore[attr-defined]
    watcher = _open(people["manager"], model_id)
    assert "Compilation #1: queued" in [h.value for h in watcher.subheader]
    assert not [b for b in watcher.button if b.label in ("Compile", "Run pre-flight")]
    assert not [b for b in watcher.button if b.label == "Cancel compilation"]
    _button(at, "Cancel compilation").click().run()  # type: ignore[attr-defined]
    at.run()
    assert not at.exception and not at.error
    assert "Compilation #1: cancelled" in [h.value for h in at.subheader]


def test_admin_rolls_back_with_a_reason(
    company: tuple[UnitOfWork, dict[str, Actor], int],
) -> None:
    uow, people, model_id = company
    at = _open(people["admin"], model_id)
    for force in (False, True):
        if force:
            at.checkbox(key=f"compile_force_{model_id}").check()
        _button(at, "Compile").click().run()  # type: ignore[attr-defined]
        drain(lambda: UnitOfWork(uow.factory))
        at.run()
    assert "Compilation #2: succeeded" in [h.value for h in at.subheader]
    at.selectbox(key=f"versions_choice_{model_id}").select_index(0)
    _button(at, "Make it the active version").click().run()  # type: ignore[attr-defined]
    assert any("Say why" in e.value for e in at.error)  # no reason given
    at.text_input(key=f"versions_reason_{model_id}").input("v2 answers returns wrongly")
    _button(at, "Make it the active version").click().run()  # type: ignore[attr-defined]
    assert not at.exception
    assert not [e.value for e in at.error if "Deleting" not in e.value]
    versions = next(d.value for d in at.dataframe if "Training set hash" in list(d.value.columns))
    assert versions["State"].tolist() == ["", "active"]


def test_asking_for_dpo_on_the_local_provider_is_refused_clearly(
    company: tuple[UnitOfWork, dict[str, Actor], int],
) -> None:
    _uow, people, model_id = company
    at = _open(people["trainer"], model_id)
    box = next(c for c in at.checkbox if c.label.startswith("Supervised, then preference"))
    box.check().run()
    _button(at, "Run pre-flight").click().run()  # type: ignore[attr-defined]
    assert not at.exception
    assert any("cannot train on preference pairs" in e.value for e in at.error)
    _button(at, "Compile").click().run()  # type: ignore[attr-defined]
    assert not at.exception
    assert any("retrieval index that learns nothing" in e.value for e in at.error)


def test_the_preflight_estimates_the_training_time_on_this_machine(
    company: tuple[UnitOfWork, dict[str, Actor], int], tmp_path: Path
) -> None:
    from core.providers.open_weights import LOAD_SECONDS
    from core.training.lora import models

    uow, people, _ = company
    tuned = open_weights_connection(lambda: UnitOfWork(uow.factory), people["admin"])
    model = catalog.create_model(
        uow,
        people["admin"],
        ModelInput(name="Tuned", connection_id=tuned, base_model=models.BUNDLED_ID, n_epochs=3),
    )
    add_qas(lambda: UnitOfWork(uow.factory), model.id)
    at = _open(people["trainer"], model.id)
    _button(at, "Run pre-flight").click().run()  # type: ignore[attr-defined]
    assert not at.exception
    assert any("estimated once it has trained here once" in c.value for c in at.caption)

    # A training here measured 100 tokens a second.
    (tmp_path / "open-weights").mkdir(exist_ok=True)
    (tmp_path / "open-weights" / "speed.json").write_text('{"tokens_per_second": 100}')
    _button(at, "Run pre-flight").click().run()  # type: ignore[attr-defined]
    tokens = int(next(m.value for m in at.metric if m.label == "Tokens").replace(",", ""))
    expected = duration(LOAD_SECONDS + tokens * 3 / 100)
    assert any(f"Training on this machine: about {expected}" in c.value for c in at.caption), [
        c.value for c in at.caption
    ]

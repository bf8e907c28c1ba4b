"""The Evaluate tab as a trainer meets it: evaluate the newest version and the base model,
read the questions worst first, and see the two side by side with a CSV to download."""

from __future__ import annotations

import pytest

from core import db
from core.domain import QAType, Role
from core.services import compilation
from core.uow import UnitOfWork
from tests.app.test_models_page import open_models
from tests.compile_helpers import TOPICS, add_qas, drain, local_connection, make_model
from tests.conftest import make_user


def test_a_trainer_evaluates_and_compares_versions(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    engine = db.make_engine(sqlite_url)

    def new_uow() -> UnitOfWork:
        return UnitOfWork(db.session_factory(engine))

    admin = make_user(new_uow(), "admin@corp.example", Role.ADMIN)
    trainer = make_user(new_uow(), "trainer@corp.example", Role.TRAINER)
    model = make_model(new_uow, admin, "Support", connection_id=local_connection(new_uow, admin))
    add_qas(new_uow, model)
    add_qas(
        new_uow,
        model,
        [("Within how many days can a relay be returned?", TOPICS[0][2])],
        qa_type=QAType.VALIDATION,
    )
    compilation.request_compilation(new_uow(), trainer, model)
    drain(new_uow)
    at = open_models(sqlite_url, trainer, monkeypatch, model)
    assert any("No evaluation yet" in i.value for i in at.info)
    for side in (1, "base"):
        at.selectbox(key=f"eval_side_{model}").set_value(side)
        next(b for b in at.button if b.key == f"eval_go_{model}").click().run()
        assert not at.exception, at.exception
        assert any("1 of 1 questions answered" in s.value for s in at.success)
    runs = next(d.value for d in at.dataframe if "Evaluated" in d.value.columns)
    assert list(runs["Evaluated"]) == ["base local-retrieval-1", "v1"]
    assert any("better" in c.value and "worse" in c.value for c in at.caption)
    assert any(b.proto.label == "Download CSV" for b in at.get("download_button"))
    engine.dispose()

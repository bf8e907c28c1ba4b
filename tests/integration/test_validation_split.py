"""Making a validation set, and the pre-flight's warning when a validation question is
(nearly) a training one, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core import db
from core.domain import QAType
from core.errors import PermissionDenied, ValidationFailed
from core.permissions import Actor
from core.services import compilation, qas
from core.services.qas import QAQuery
from core.uow import UnitOfWork
from tests.compile_helpers import local_connection
from tests.compile_helpers import make_model as make_compiled_model
from tests.integration.test_cli import run
from tests.qa_seed import add_qas, make_model

Uows = Callable[[], UnitOfWork]


def _types(uow: UnitOfWork, actor: Actor, model: int) -> dict[int, QAType]:
    listing = qas.list_qas(uow, actor, QAQuery(model_id=model), limit=500)
    return {r.id: r.qa_type for r in listing.rows}


def _rows() -> list[tuple[str, str, str]]:
    rows = [
        (f"What does rule {n} say about refunds?", f"Refund rule {n}.", "Refunds")
        for n in range(40)
    ]
    rows += [(f"Who approves invoice type {n}?", f"Team {n}.", "Invoices") for n in range(20)]
    rows += [
        ("How often should we post on Instagram?", "Twice a week.", "Social"),
        ("How often do we post on Instagram?", "Twice a week.", "Social"),
        ("How often shuold we post on Instagram", "Twice a week.", "Social"),
        ("Who writes the newsletter?", "Marketing.", "Social"),
        ("When does the blog go out?", "On Fridays.", "Social"),
    ]
    return rows


def test_a_seeded_split_per_section_with_near_duplicates_together(
    new_uow: Uows, trainer: Actor
) -> None:
    model = make_model(new_uow(), "M")
    ids = add_qas(new_uow(), model, _rows())
    split = qas.make_validation_set(new_uow(), trainer, model, 0.1, seed=7)
    assert (split.total, split.validation) == (65, sum(v for v, _ in split.per_section.values()))
    assert split.per_section["Refunds"] == (4, 40)
    assert split.per_section["Invoices"] == (2, 20)
    assert split.per_section["Social"][0] >= 1
    types = _types(new_uow(), trainer, model)
    instagram = {types[i] for i in ids[60:63]}
    assert len(instagram) == 1
    assert split.journal_id is not None

    again = qas.make_validation_set(new_uow(), trainer, model, 0.1, seed=7)
    assert again.changed == 0 and again.journal_id is None
    assert _types(new_uow(), trainer, model) == types
    other = qas.make_validation_set(new_uow(), trainer, model, 0.1, seed=8)
    assert other.changed > 0 and _types(new_uow(), trainer, model) != types
    assert other.journal_id is not None
    qas.undo_bulk(new_uow(), trainer, other.journal_id)
    assert _types(new_uow(), trainer, model) == types

    with pytest.raises(ValidationFailed, match="No validation set"):
        qas.make_validation_set(new_uow(), trainer, model, 1.5)


def test_managers_cannot_make_a_validation_set(new_uow: Uows, manager: Actor) -> None:
    model = make_model(new_uow(), "M")
    with pytest.raises(PermissionDenied):
        qas.make_validation_set(new_uow(), manager, model)


def test_preflight_warns_of_a_validation_question_in_the_training_set(
    new_uow: Uows, admin: Actor, trainer: Actor
) -> None:
    model = make_compiled_model(
        new_uow, admin, "Support", connection_id=local_connection(new_uow, admin)
    )
    rows: list[tuple[str, str] | dict[str, object]] = [
        (f"What does rule {n} say about refunds?", f"Refund rule {n}.") for n in range(12)
    ]
    rows.append(("How often should we post on Instagram?", "Twice a week."))
    trained = add_qas(new_uow(), model, rows)
    (leak, _fine) = add_qas(
        new_uow(),
        model,
        [
            {
                "question": "How often do we post on Instagram?",
                "answer": "Twice a week.",
                "qa_type": QAType.VALIDATION,
            },
            {
                "question": "Who writes the newsletter?",
                "answer": "Marketing.",
                "qa_type": QAType.VALIDATION,
            },
        ],
    )
    found = compilation.preflight(new_uow(), trainer, model)
    (warning,) = [f for f in found.findings if f.code == "validation_leak"]
    assert warning.severity == "warning"
    assert f"validation Q&A #{leak}" in warning.message
    assert [s.record_id for s in warning.sources] == [leak, trained[-1]]
    assert warning.line is not None
    assert found.errors == 0


def test_make_validation_set_on_the_command_line(tmp_path: Path) -> None:
    assert run(["init-db"], tmp_path).returncode == 0
    uow = UnitOfWork(db.session_factory(db.make_engine(f"sqlite:///{tmp_path / 'cli.db'}")))
    model = make_model(uow, "Support desk")
    add_qas(uow, model, _rows())
    done = run(["make-validation-set", "Support desk", "--share", "0.1", "--seed", "7"], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Made a validation set of ") and "seed 7" in lines[0]
    assert "  Refunds: 4 of 40 for validation" in lines
    bad = run(["make-validation-set", "Support desk", "--share", "2"], tmp_path)
    assert bad.returncode == 1 and "share" in bad.stderr

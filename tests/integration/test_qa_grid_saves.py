"""The Q&A grid turning an edit into a service call, and conflicts offering both values, on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from core.domain import QAType
from core.permissions import Actor
from core.services import qas
from core.services.qas import QARow
from core.training.hierarchy import Relation
from core.uow import UnitOfWork
from tests.qa_seed import add_qas, make_model
from ui import qa_grid
from ui.qa_grid import CellEdit

Uows = Callable[[], UnitOfWork]


def _row(**kw: object) -> QARow:
    values: dict[str, object] = {
        "id": 7,
        "model_id": 1,
        "model_name": "Sales",
        "relation": Relation.OWN,
        "section": "Billing",
        "question": "Q?",
        "answer": "A",
        "qa_type": QAType.TRAINING,
        "is_active": True,
        "notes": "",
        "added_by": "Maria",
        "added_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "changed_by": None,
        "changed_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "row_version": 3,
    }
    values.update(kw)
    return QARow(**values)  # type: ignore[arg-type]


def _column(options: dict[str, object], field: str) -> dict[str, object]:
    columns = options["columnDefs"]
    assert isinstance(columns, list)
    return next(c for c in columns if c["field"] == field)


def test_an_edit_becomes_a_save_and_conflicts_offer_both_values(
    new_uow: Uows, trainer: Actor, admin: Actor
) -> None:
    model = make_model(new_uow(), "M")
    (qa_id,) = add_qas(new_uow(), model, [("Q?", "First")])
    own: dict[tuple[int, int], int] = {}

    saved = qa_grid.save_cell(
        qa_grid.cell_save(CellEdit(qa_id, "answer", "First", "Second", 1), own),
        own,
        trainer,
        new_uow,
    )
    assert saved.saved is not None and saved.saved.answer == "Second" and own == {(qa_id, 1): 2}
    # A second edit from the same, not yet redrawn, grid row is not a conflict with oneself.
    again = qa_grid.save_cell(
        qa_grid.cell_save(CellEdit(qa_id, "section", "", "Billing", 1), own), own, trainer, new_uow
    )
    assert again.saved is not None and again.saved.row_version == 3

    qas.update_qa(new_uow(), admin, qa_id, {"answer": "Admin's"}, expected_version=3)
    clash = qa_grid.save_cell(
        qa_grid.cell_save(CellEdit(qa_id, "answer", "Second", "Mine", 3), own),
        own,
        trainer,
        new_uow,
    )
    assert clash.saved is None and clash.conflict is not None
    view = clash.conflict
    assert (view.label, view.yours, view.theirs, view.stored_version) == (
        "answer",
        "Mine",
        "Admin's",
        4,
    )
    assert qas.get_qa(new_uow(), trainer, qa_id).answer == "Admin's"

    kept = qa_grid.save_cell(qa_grid.keep_mine(view), own, trainer, new_uow)
    assert kept.saved is not None and kept.saved.answer == "Mine" and kept.saved.row_version == 5


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("question", "", "question is empty"),
        ("qa_type", "exam", "type 'exam' is unknown"),
        ("answer", "x" * 32_001, "at most 32,000 are allowed"),
    ],
)
def test_refused_values_say_why_and_keep_the_stored_one(
    new_uow: Uows, trainer: Actor, field: str, value: str, reason: str
) -> None:
    model = make_model(new_uow(), "M")
    (qa_id,) = add_qas(new_uow(), model, [("Q?", "A")])
    outcome = qa_grid.save_cell(
        qa_grid.cell_save(CellEdit(qa_id, field, "old", value, 1), {}), {}, trainer, new_uow
    )
    assert outcome.saved is None and outcome.error is not None
    assert reason in outcome.error and "stored value is shown again" in outcome.error
    assert qas.get_qa(new_uow(), trainer, qa_id).row_version == 1

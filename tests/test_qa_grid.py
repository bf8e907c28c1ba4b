"""The Q&A grid's logic without a browser: grid options, reading the browser's messages,
turning an edit into a service call, and conflicts."""

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
from ui.qa_grid import CellEdit, SelectionChange, SortChange

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


def test_frame_holds_one_page_with_what_the_grid_needs() -> None:
    frame = qa_grid.grid_frame(
        [_row(), _row(id=8, relation=Relation.INHERITED, model_name="Master", changed_by="Jonas")]
    )
    assert list(frame.columns) == list(qa_grid.COLUMNS)
    assert frame["editable"].tolist() == [True, False]
    assert frame["source"].tolist() == ["", "Master (inherited)"]
    assert frame["changed_by"].tolist() == ["", "Jonas"]
    assert frame["changed_at"].iloc[0] == "2026-01-02 03:04"
    empty = qa_grid.grid_frame([])
    assert list(empty.columns) == list(qa_grid.COLUMNS) and empty.empty


def test_options_for_editors_and_readers() -> None:
    editing = qa_grid.grid_options(
        can_edit=True, show_source=False, sort="question", descending=True
    )
    fields = [c["field"] for c in editing["columnDefs"]]
    assert fields == [
        "section",
        "question",
        "answer",
        "qa_type",
        "is_active",
        "notes",
        "changed_by",
        "changed_at",
    ]
    answer = _column(editing, "answer")
    assert answer["cellEditor"] == "agLargeTextCellEditor" and answer["cellEditorPopup"] is True
    # The editor lets too-long text through so that the server can say why it is refused.
    assert answer["cellEditorParams"]["maxLength"] > 32_000  # type: ignore[index]
    assert _column(editing, "qa_type")["cellEditorParams"] == {"values": ["training", "validation"]}
    assert _column(editing, "question")["sort"] == "desc"
    assert "sort" not in _column(editing, "answer")
    assert _column(editing, "changed_at")["editable"] is False
    assert _column(editing, "changed_by")["sortable"] is False
    assert editing["rowSelection"]["checkboxes"] is True
    assert set(editing["rowClassRules"]) == {
        "qa-validation",
        "qa-inactive",
        "qa-readonly",
        "qa-highlight",
    }
    assert ".ag-row.qa-validation" in qa_grid.CSS

    reading = qa_grid.grid_options(can_edit=False, show_source=True, highlight_id=42, revision=5)
    assert all(c["editable"] is False for c in reading["columnDefs"])
    assert reading["columnDefs"][0]["field"] == "source"
    assert reading["rowSelection"]["checkboxes"] is False
    assert reading["context"] == {"revision": 5}
    assert "getRowNode('42')" in reading["onFirstDataRendered"].js_code
    assert "p.data.id === 42" in reading["rowClassRules"]["qa-highlight"].js_code


def test_only_our_messages_are_events() -> None:
    edit = {"event": "edit", "id": 5, "field": "answer", "old": "a", "new": "b", "version": 2}
    assert qa_grid.parse_event(edit) == CellEdit(5, "answer", "a", "b", 2)
    assert qa_grid.parse_event({**edit, "field": "row_version"}) is None
    assert qa_grid.parse_event({**edit, "id": "not a number"}) is None
    assert qa_grid.parse_event(
        {"event": "sort", "field": "section", "descending": True}
    ) == SortChange("section", True)
    assert qa_grid.parse_event({"event": "sort", "field": "changed_by"}) == SortChange(None, False)
    assert qa_grid.parse_event({"event": "selection", "ids": [3, "4"]}) == SelectionChange((3, 4))
    junk: object
    for junk in (None, "edit", [], {"event": "drop"}):
        assert qa_grid.parse_event(junk) is None


def test_own_saves_are_followed_but_nobody_elses() -> None:
    own = {(5, 2): 3, (5, 3): 4, (6, 1): 2}
    # The browser still shows version 2 of row 5; this session saved it twice since.
    assert qa_grid.expected_version(own, 5, 2) == 4
    assert qa_grid.expected_version(own, 5, 7) == 7
    assert qa_grid.expected_version(own, 9, 1) == 1
    save = qa_grid.cell_save(CellEdit(5, "notes", "x", None, 2), own)
    assert (save.value, save.expected_version, save.seen) == ("", 4, "x")
    assert qa_grid.cell_save(CellEdit(5, "is_active", True, False, 2), {}).value is False


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

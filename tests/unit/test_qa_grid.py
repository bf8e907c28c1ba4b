"""The Q&A grid's logic without a browser or a database: grid options and reading the
browser's messages (edits becoming saves are in tests/integration/test_qa_grid_saves.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from core.domain import QAType
from core.services.qas import QARow
from core.training.hierarchy import Relation
from core.uow import UnitOfWork
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

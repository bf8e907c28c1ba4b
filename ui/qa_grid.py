"""The Q&A grid (streamlit-aggrid), kept to what scales to 100,000 rows per model.

- The browser only ever holds one page of rows; paging, filters, search and sorting are
  done by the database (a click on a column header asks the server to sort).
- An edit sends back only the changed cell (DataReturnMode.CUSTOM with ``EVENT_JS``), is
  saved at once against the row version the browser saw, and then the server's rows win
  (``server_sync_strategy="server_wins"``), so a refused value shows the stored one again.
- Community modules only.

Everything here but ``render`` is a pure function, unit-tested without a browser.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from st_aggrid import AgGrid, DataReturnMode, JsCode

from core.domain import ANSWER_MAX, QUESTION_MAX, QAType
from core.errors import ArbiterError, EditConflict, ValidationFailed
from core.permissions import Actor
from core.qa_rules import EDITABLE_FIELDS, FIELD_LABELS
from core.services import qas
from core.services.qas import SORTABLE, QARow
from core.uow import UnitOfWork
from ui.formatting import local_time, zone_label

COLUMNS = (
    "id",
    "row_version",
    "editable",
    "source",
    "section",
    "question",
    "answer",
    "qa_type",
    "is_active",
    "notes",
    "changed_by",
    "changed_at",
)
HEADERS = {
    "source": "Source model",
    "section": "Section",
    "question": "Question",
    "answer": "Answer",
    "qa_type": "Type",
    "is_active": "Active",
    "notes": "Notes",
    "changed_by": "Changed by",
    "changed_at": "Changed at",
}
_WIDTHS = {
    "source": 130,
    "section": 140,
    "question": 280,
    "answer": 420,
    "qa_type": 120,
    "is_active": 90,
    "notes": 180,
    "changed_by": 140,
    "changed_at": 150,
}
_LONG_TEXT = {"question": QUESTION_MAX, "answer": ANSWER_MAX, "notes": ANSWER_MAX}

# What the browser sends back: one small object per event, never the rows.
EVENT_JS = JsCode(
    """
function ({streamlitRerunEventTriggerName, eventData}) {
  const at = Date.now();
  if (streamlitRerunEventTriggerName === 'cellValueChanged') {
    const old = eventData.oldValue === undefined ? null : eventData.oldValue;
    const now = eventData.newValue === undefined ? null : eventData.newValue;
    return {event: 'edit', id: eventData.data.id, field: eventData.colDef.field,
            old: old, new: now, version: eventData.data.row_version, at: at};
  }
  if (streamlitRerunEventTriggerName === 'selectionChanged') {
    return {event: 'selection', ids: eventData.api.getSelectedRows().map(r => r.id), at: at};
  }
  if (streamlitRerunEventTriggerName === 'sortChanged') {
    const sorted = eventData.api.getColumnState().filter(c => c.sort);
    return {event: 'sort', field: sorted.length ? sorted[0].colId : null,
            descending: sorted.length ? sorted[0].sort === 'desc' : false, at: at};
  }
  return null;
}
"""
)
# Only what a person did goes back to the server, not the grid reacting to new rows.
SHOULD_RETURN_JS = JsCode(
    """
function ({streamlitRerunEventTriggerName, eventData}) {
  if (streamlitRerunEventTriggerName === 'cellValueChanged') {
    return eventData.oldValue !== eventData.newValue;
  }
  if (streamlitRerunEventTriggerName === 'sortChanged') {
    return eventData.source === 'uiColumnSorted';
  }
  if (streamlitRerunEventTriggerName === 'selectionChanged') {
    return eventData.source !== 'rowDataChanged' && eventData.source !== 'api';
  }
  return true;
}
"""
)
_ROW_ID_JS = JsCode("function (p) { return String(p.data.id); }")
_EDITABLE_JS = JsCode("function (p) { return !!(p.data && p.data.editable); }")
# The server sorts; the grid keeps the order it was given.
_KEEP_ORDER_JS = JsCode("function () { return 0; }")
_TYPE_JS = JsCode(
    "function (p) { return p.value === 'validation' ? 'VALIDATION' : (p.value || ''); }"
)
CSS = {
    ".ag-row.qa-validation": {"background-color": "#fff4d6 !important"},
    ".ag-row.qa-validation .ag-cell[col-id='qa_type']": {
        "font-weight": "600",
        "color": "#7a4f00",
    },
    ".ag-row.qa-inactive .ag-cell": {"color": "#8a8a8a", "font-style": "italic"},
    ".ag-row.qa-readonly": {"background-color": "#eef1f6 !important"},
    # Blue, not the theme's red: a red outline on a row or a just-saved cell reads as an error.
    ".ag-row.qa-highlight": {"box-shadow": "inset 0 0 0 2px #1c83e1"},
    ".ag-cell.ag-cell-focus:not(.ag-cell-inline-editing)": {
        "border-color": "#1c83e1 !important",
        "outline-color": "#1c83e1 !important",
    },
}


def grid_frame(rows: Sequence[QARow]) -> pd.DataFrame:
    """One page of rows as the grid shows them."""
    records = [
        {
            "id": r.id,
            "row_version": r.row_version,
            "editable": r.editable,
            "source": "" if r.editable else f"{r.model_name} ({r.relation.value})",
            "section": r.section,
            "question": r.question,
            "answer": r.answer,
            "qa_type": r.qa_type.value,
            "is_active": r.is_active,
            "notes": r.notes,
            "changed_by": r.changed_by or "",
            "changed_at": local_time(r.changed_at),
        }
        for r in rows
    ]
    return pd.DataFrame.from_records(records, columns=list(COLUMNS))


def _column(field: str, *, can_edit: bool, sort: str, descending: bool) -> dict[str, Any]:
    column: dict[str, Any] = {
        "field": field,
        "headerName": f"{HEADERS[field]} ({zone_label()})"
        if field == "changed_at"
        else HEADERS[field],
        "width": _WIDTHS[field],
        "sortable": field in SORTABLE,
        "comparator": _KEEP_ORDER_JS,
        "filter": False,
        "suppressHeaderMenuButton": True,
        "tooltipField": field if field in ("question", "answer", "notes") else None,
    }
    if field == sort:
        column["sort"] = "desc" if descending else "asc"
    if field == "answer":
        column["flex"] = 1
        column["minWidth"] = 260
    if field == "qa_type":
        column["valueFormatter"] = _TYPE_JS
    if field == "is_active":
        column["cellDataType"] = "boolean"
    if can_edit and field in EDITABLE_FIELDS:
        column["editable"] = _EDITABLE_JS
        if field in _LONG_TEXT:
            # Longer than the limit on purpose: the server refuses with a clear message rather
            # than the editor cutting text off silently.
            column["cellEditor"] = "agLargeTextCellEditor"
            column["cellEditorPopup"] = True
            column["cellEditorParams"] = {
                "maxLength": _LONG_TEXT[field] * 2,
                "rows": 12,
                "cols": 70,
            }
        elif field == "qa_type":
            column["cellEditor"] = "agSelectCellEditor"
            column["cellEditorParams"] = {"values": [t.value for t in QAType]}
    else:
        column["editable"] = False
    return {k: v for k, v in column.items() if v is not None}


def grid_options(
    *,
    can_edit: bool,
    show_source: bool,
    sort: str = "id",
    descending: bool = False,
    highlight_id: int | None = None,
    revision: int = 0,
) -> dict[str, Any]:
    """AG Grid options for one page of Q&As. ``revision`` changes whenever the page must
    redraw the rows from the server even if they did not change (e.g. after a refused edit)."""
    fields = [f for f in HEADERS if show_source or f != "source"]
    highlight = int(highlight_id) if highlight_id is not None else -1
    options: dict[str, Any] = {
        "columnDefs": [
            _column(f, can_edit=can_edit, sort=sort, descending=descending) for f in fields
        ],
        "getRowId": _ROW_ID_JS,
        "rowSelection": {
            "mode": "multiRow",
            "checkboxes": can_edit,
            "headerCheckbox": can_edit,
            "enableClickSelection": False,
            "isRowSelectable": _EDITABLE_JS,
        },
        "rowClassRules": {
            "qa-validation": JsCode(
                "function (p) { return !!p.data && p.data.qa_type === 'validation'; }"
            ),
            "qa-inactive": JsCode("function (p) { return !!p.data && !p.data.is_active; }"),
            "qa-readonly": JsCode("function (p) { return !!p.data && !p.data.editable; }"),
            "qa-highlight": JsCode(
                f"function (p) {{ return !!p.data && p.data.id === {highlight}; }}"
            ),
        },
        "stopEditingWhenCellsLoseFocus": True,
        "tooltipShowDelay": 600,
        "suppressMovableColumns": False,
        "context": {"revision": revision},
    }
    if highlight_id is not None:
        options["onFirstDataRendered"] = JsCode(
            f"function (e) {{ const n = e.api.getRowNode('{highlight}');"
            " if (n) { e.api.ensureNodeVisible(n, 'middle'); e.api.flashCells({rowNodes: [n]}); } }"
        )
    return options


# --- events from the browser ----------------------------------------------------------------


@dataclass(frozen=True)
class CellEdit:
    qa_id: int
    field: str
    old: Any
    new: Any
    seen_version: int


@dataclass(frozen=True)
class SortChange:
    field: str | None
    descending: bool


@dataclass(frozen=True)
class SelectionChange:
    ids: tuple[int, ...]


GridEvent = CellEdit | SortChange | SelectionChange


def parse_event(payload: Any) -> GridEvent | None:
    """The grid's message, or None for anything that is not one of ours."""
    if not isinstance(payload, Mapping):
        return None
    try:
        kind = payload.get("event")
        if kind == "edit" and payload.get("field") in EDITABLE_FIELDS:
            return CellEdit(
                int(payload["id"]),
                str(payload["field"]),
                payload.get("old"),
                payload.get("new"),
                int(payload["version"]),
            )
        if kind == "sort":
            field = payload.get("field")
            return SortChange(field if field in SORTABLE else None, bool(payload.get("descending")))
        if kind == "selection":
            return SelectionChange(tuple(int(i) for i in payload.get("ids") or ()))
    except (KeyError, TypeError, ValueError):
        return None
    return None


@dataclass(frozen=True)
class CellSave:
    qa_id: int
    field: str
    value: Any
    expected_version: int
    seen: Any


def expected_version(own_saves: Mapping[tuple[int, int], int], qa_id: int, seen: int) -> int:
    """The version to check against. The browser may still hold a version this very session
    has since replaced with its own saves (two quick edits in one row): follow those, and
    only those, so that somebody else's change in between is still a conflict."""
    version = seen
    for _ in range(len(own_saves) + 1):
        following = own_saves.get((qa_id, version))
        if following is None:
            break
        version = following
    return version


def cell_save(edit: CellEdit, own_saves: Mapping[tuple[int, int], int]) -> CellSave:
    value = edit.new
    if edit.field != "is_active" and value is None:
        value = ""
    return CellSave(
        edit.qa_id,
        edit.field,
        value,
        expected_version(own_saves, edit.qa_id, edit.seen_version),
        edit.old,
    )


@dataclass(frozen=True)
class ConflictView:
    """Both values of a refused save, for the user to choose."""

    qa_id: int
    field: str
    label: str
    yours: Any
    theirs: Any
    stored_version: int


def conflict_view(exc: EditConflict, field: str, yours: Any) -> ConflictView:
    stored = next((c.stored for c in exc.changes if c.field == field), None)
    return ConflictView(
        exc.entity_id, field, FIELD_LABELS.get(field, field), yours, stored, exc.stored_version
    )


def keep_mine(view: ConflictView) -> CellSave:
    """Choosing one's own value: save it over the version now stored (which was seen)."""
    return CellSave(view.qa_id, view.field, view.yours, view.stored_version, view.theirs)


@dataclass(frozen=True)
class EditOutcome:
    saved: QARow | None = None
    conflict: ConflictView | None = None
    error: str | None = None


def save_cell(
    save: CellSave,
    own_saves: MutableMapping[tuple[int, int], int],
    actor: Actor,
    new_uow: Callable[[], UnitOfWork],
) -> EditOutcome:
    """Turn one cell save into the service call, and its result into what the page shows."""
    try:
        row = qas.update_qa(
            new_uow(),
            actor,
            save.qa_id,
            {save.field: save.value},
            expected_version=save.expected_version,
            seen={save.field: save.seen},
        )
    except EditConflict as exc:
        return EditOutcome(conflict=conflict_view(exc, save.field, save.value))
    except ValidationFailed as exc:
        reasons = "; ".join(p.message for p in exc.problems) or exc.message
        return EditOutcome(
            error=f"Q&A #{save.qa_id} was not saved: {reasons}. The stored value is shown again."
        )
    except ArbiterError as exc:
        return EditOutcome(error=exc.message)
    if row.row_version != save.expected_version:
        own_saves[(save.qa_id, save.expected_version)] = row.row_version
    return EditOutcome(saved=row)


def render(
    frame: pd.DataFrame,
    options: dict[str, Any],
    *,
    key: str,
    on_event: Callable[[Any], None],
    height: int = 560,
) -> None:
    """Draw the grid; ``on_event`` gets the browser's message (see ``parse_event``)."""
    AgGrid(
        frame,
        gridOptions=options,
        height=height,
        key=key,
        data_return_mode=DataReturnMode.CUSTOM,
        custom_jscode_for_grid_return=EVENT_JS,
        should_grid_return=SHOULD_RETURN_JS,
        update_on=["cellValueChanged", "selectionChanged", "sortChanged"],
        server_sync_strategy="server_wins",
        allow_unsafe_jscode=True,
        enable_enterprise_modules=False,
        show_toolbar=False,
        show_search=False,
        show_download_button=False,
        custom_css=CSS,
        theme="streamlit",
        callback=lambda response: on_event(getattr(response, "raw_data", None)),
    )

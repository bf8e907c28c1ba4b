"""The panels around the Q&A grid: bulk actions with undo, adding one row, pasting rows,
importing and exporting files. Each keeps its state under its own ``qas_`` keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from core.domain import ANSWER_MAX, NOTES_MAX, QUESTION_MAX, SECTION_MAX, QAType
from core.errors import ArbiterError
from core.permissions import Actor
from core.services import qas
from core.services.qas import (
    FIELDS,
    HEADERS,
    BulkAction,
    ImportPreview,
    OnDuplicate,
    QAInput,
    QAQuery,
    RowStatus,
    Selection,
)
from core.tabular import Progress, Table
from core.uow import UnitOfWork
from ui.errors import show_error
from ui.formatting import plural

UNDO_KEY = "qas_undo"
CONFIRM_KEY = "qas_bulk_confirm"
BULK_LABELS = {
    BulkAction.SET_SECTION: "Set section",
    BulkAction.SET_TYPE: "Set type",
    BulkAction.ACTIVATE: "Activate",
    BulkAction.DEACTIVATE: "Deactivate",
    BulkAction.DELETE: "Delete",
    BulkAction.COPY: "Copy to another model",
    BulkAction.MOVE: "Move to another model",
}
_STATUS_NOTE = {
    RowStatus.NEW: "will be added",
    RowStatus.DUPLICATE_IN_FILE: "same question as another row of the file",
    RowStatus.EXISTING_SAME: "already there, identical",
    RowStatus.EXISTING_CHANGED: "the model has this question with other values",
    RowStatus.ERROR: "cannot be imported",
}


def progress_bar(label: str) -> tuple[Progress, Callable[[], None]]:
    """A progress callback for the services, and a function that removes the bar."""
    bar = st.progress(0.0, text=label)

    def report(fraction: float, text: str) -> None:
        bar.progress(max(0.0, min(1.0, fraction)), text=f"{label}: {text}")

    def clear() -> None:
        bar.empty()

    return report, clear


# --- bulk actions ---------------------------------------------------------------------------


def _undo_banner(
    actor: Actor, new_uow: Callable[[], UnitOfWork], on_change: Callable[[], None]
) -> None:
    """After a bulk action: what it did, with a button that undoes it."""
    undo = st.session_state.get(UNDO_KEY)
    if undo is not None:
        journal_id, message = undo
        left, right = st.columns([5, 1])
        left.success(f"Done: {message}.", icon=":material/done_all:")
        if right.button("Undo", icon=":material/undo:", key="qas_undo_button"):
            try:
                result = qas.undo_bulk(new_uow(), actor, journal_id)
            except ArbiterError as exc:
                show_error(exc)
            else:
                st.session_state.pop(UNDO_KEY, None)
                st.toast(f"Undone: {result.changed:,} Q&As are as they were.")
                on_change()
                st.rerun()


def _confirmation(
    actor: Actor,
    new_uow: Callable[[], UnitOfWork],
    models: dict[int, str],
    on_change: Callable[[], None],
) -> None:
    """The chosen bulk action with its count, waiting for yes or cancel."""
    pending = st.session_state.get(CONFIRM_KEY)
    if pending is None:
        return
    action, value, target, selection, count = pending
    what = BULK_LABELS[action].lower()
    detail = f" to {value!r}" if value else (f" → {models.get(target, '')}" if target else "")
    with st.container(border=True):
        st.warning(
            f"{BULK_LABELS[action]}{detail} on **{count:,}** Q&As? You can undo it right after."
        )
        yes, no = st.columns([1, 5])
        if yes.button(f"Yes, {what}", type="primary", key="qas_bulk_yes"):
            st.session_state.pop(CONFIRM_KEY, None)
            try:
                result = qas.bulk_update(new_uow(), actor, selection, action, value, target)
            except ArbiterError as exc:
                show_error(exc)
            else:
                if result.journal_id is not None:
                    st.session_state[UNDO_KEY] = (result.journal_id, result.message)
                on_change()
                st.rerun()
        if no.button("Cancel", key="qas_bulk_no"):
            st.session_state.pop(CONFIRM_KEY, None)
            st.rerun()


def bulk_panel(
    actor: Actor,
    new_uow: Callable[[], UnitOfWork],
    query: QAQuery,
    selected: Mapping[int, int],
    total: int,
    models: dict[int, str],
    on_change: Callable[[], None],
) -> None:
    """Choose rows (or all that match), an action, confirm with the count, and undo."""
    _undo_banner(actor, new_uow, on_change)
    c1, c2, c3, c4 = st.columns([2, 2, 2, 1], vertical_alignment="bottom")
    everything = c1.checkbox(
        f"All {total:,} that match the filter",
        key="qas_bulk_all",
        help="Otherwise the rows ticked in the grid (this page only).",
    )
    action = c2.selectbox(
        "Bulk action",
        list(BULK_LABELS),
        format_func=lambda a: BULK_LABELS[a],
        key="qas_bulk_action",
    )
    value: Any = None
    target: int | None = None
    if action == BulkAction.SET_SECTION:
        value = c3.text_input("New section", max_chars=SECTION_MAX, key="qas_bulk_section")
    elif action == BulkAction.SET_TYPE:
        value = c3.selectbox("New type", [t.value for t in QAType], key="qas_bulk_type")
    elif action in (BulkAction.COPY, BulkAction.MOVE):
        others = [m for m in models if m != query.model_id]
        target = c3.selectbox(
            "Target model", others, format_func=lambda m: models[m], key="qas_bulk_target"
        )
    selection = (
        Selection(query.model_id, query=query)
        if everything
        else Selection(query.model_id, ids=tuple(selected), versions=dict(selected))
    )
    chosen = total if everything else len(selected)
    if c4.button("Apply…", key="qas_bulk_apply", disabled=chosen == 0):
        try:
            count = qas.count_selection(new_uow(), actor, selection)
        except ArbiterError as exc:
            show_error(exc)
        else:
            st.session_state[CONFIRM_KEY] = (action, value, target, selection, count)
    if not chosen:
        st.caption("Tick rows in the grid, or choose all that match, to act on many at once.")
    _confirmation(actor, new_uow, models, on_change)


# --- adding, pasting, importing --------------------------------------------------------------


def add_form(
    actor: Actor, new_uow: Callable[[], UnitOfWork], model_id: int, on_change: Callable[[], None]
) -> None:
    with st.form("qas_add_form", clear_on_submit=True):
        question = st.text_area("Question", max_chars=QUESTION_MAX, height=80)
        answer = st.text_area("Answer", max_chars=ANSWER_MAX, height=140)
        c1, c2, c3 = st.columns(3)
        section = c1.text_input("Section", max_chars=SECTION_MAX)
        qa_type = c2.selectbox("Type", [t.value for t in QAType])
        active = c3.checkbox("Active", value=True)
        notes = st.text_input("Notes", max_chars=NOTES_MAX)
        submitted = st.form_submit_button("Add Q&A", type="primary", icon=":material/add:")
    if submitted:
        try:
            row = qas.add_qa(
                new_uow(),
                actor,
                model_id,
                QAInput(question, answer, section, qa_type, active, notes),
            )
        except ArbiterError as exc:
            show_error(exc)
        else:
            st.session_state["qas_highlight"] = row.id
            st.toast(f"Added Q&A #{row.id}.")
            on_change()


def _problem_frame(preview: ImportPreview) -> pd.DataFrame:
    rows = []
    for r in preview.problems[:1_000]:
        if r.status == RowStatus.ERROR:
            detail = "; ".join(r.errors)
        elif r.status == RowStatus.DUPLICATE_IN_FILE:
            detail = f"same question as row {r.duplicate_of}"
        elif r.similar_to:
            detail = "similar to " + ", ".join(f"#{i}" for i in r.similar_to)
        else:
            detail = f"differs from Q&A #{r.existing_id}"
        rows.append(
            {
                "Where": r.where,
                "Status": r.status.value,
                "Detail": detail,
                "Question": str(r.values.get("question", ""))[:200],
            }
        )
    return pd.DataFrame(rows, columns=["Where", "Status", "Detail", "Question"])


def preview_view(preview: ImportPreview) -> None:
    """Counts, then every error and duplicate with its row number, then a sample."""
    counts = preview.counts
    cols = st.columns(len(RowStatus))
    for col, status in zip(cols, RowStatus, strict=True):
        col.metric(
            status.value.capitalize(), f"{counts.get(status, 0):,}", help=_STATUS_NOTE[status]
        )
    if preview.problems:
        st.markdown(f"**Rows to look at** ({len(preview.problems):,})")
        st.dataframe(_problem_frame(preview), hide_index=True, width="stretch", height=240)
        if len(preview.problems) > 1_000:
            st.caption(f"The first 1,000 of {len(preview.problems):,} are listed.")
    with st.expander(f"First {len(preview.sample)} rows as they will be read"):
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Where": r.where,
                        "Status": r.status.value,
                        **{HEADERS[f]: r.values.get(f, "") for f in FIELDS},
                    }
                    for r in preview.sample
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def _confirm_import(
    actor: Actor,
    new_uow: Callable[[], UnitOfWork],
    model_id: int,
    table: Table,
    preview: ImportPreview,
    on_duplicate: OnDuplicate,
    prefix: str,
    on_change: Callable[[], None],
) -> None:
    writes = preview.would_write(on_duplicate)
    leave_out = True
    if preview.errors:
        leave_out = st.checkbox(
            f"Leave out the {preview.errors:,} {table.unit}s with errors and import the rest",
            key=f"{prefix}_leave_out",
        )
    verb = "Add" if table.kind == "paste" else "Import"
    if st.button(
        f"{verb} {plural(writes, 'row')}",
        type="primary",
        key=f"{prefix}_commit",
        disabled=not writes or not leave_out,
        icon=":material/upload:",
    ):
        report, done = progress_bar("Importing")
        try:
            if prefix == "qas_paste":
                st.session_state.pop("qas_paste_text", None)
            result = qas.commit_import(
                new_uow(),
                actor,
                model_id,
                table,
                preview.mapping,
                on_duplicate,
                leave_out_errors=leave_out,
                progress=report,
            )
        except ArbiterError as exc:
            done()
            show_error(exc)
        else:
            done()
            st.session_state[f"{prefix}_result"] = result.message
            st.session_state.pop(f"{prefix}_preview", None)
            on_change()
            st.rerun()


def _mapping_widgets(table: Table, prefix: str) -> dict[str, str | None]:
    suggested = qas.suggest_mapping(table.headers) if table.kind != "paste" else {}
    options: list[str | None] = [None, *table.headers]
    mapping: dict[str, str | None] = {}
    cols = st.columns(len(FIELDS))
    for col, name in zip(cols, FIELDS, strict=True):
        default = suggested.get(name)
        mapping[name] = col.selectbox(
            f"{HEADERS[name].capitalize()}{' *' if name in qas.REQUIRED else ''}",
            options,
            index=options.index(default) if default in options else 0,
            format_func=lambda h: "— none —" if h is None else h,
            key=f"{prefix}_map_{name}",
        )
    return mapping


def _preview_and_confirm(
    actor: Actor,
    new_uow: Callable[[], UnitOfWork],
    model_id: int,
    table: Table,
    mapping: dict[str, str | None],
    prefix: str,
    on_change: Callable[[], None],
) -> None:
    on_duplicate = OnDuplicate.SKIP
    chosen = st.radio(
        "Rows whose question the model already has",
        list(OnDuplicate),
        format_func=lambda o: (
            "Skip them (keep what is there)"
            if o == OnDuplicate.SKIP
            else "Update the existing Q&A with the file's values"
        ),
        horizontal=True,
        key=f"{prefix}_on_duplicate",
    )
    on_duplicate = chosen or OnDuplicate.SKIP
    signature = (table.name, len(table.rows), tuple(mapping.items()), on_duplicate)
    cached = st.session_state.get(f"{prefix}_preview")
    if cached is None or cached[0] != signature:
        report, done = progress_bar("Checking")
        try:
            preview = qas.preview_import(
                new_uow(), actor, model_id, table, mapping, on_duplicate, progress=report
            )
        except ArbiterError as exc:
            done()
            show_error(exc)
            return
        done()
        st.session_state[f"{prefix}_preview"] = (signature, preview)
    else:
        preview = cached[1]
    preview_view(preview)
    _confirm_import(actor, new_uow, model_id, table, preview, on_duplicate, prefix, on_change)


def import_panel(
    actor: Actor, new_uow: Callable[[], UnitOfWork], model_id: int, on_change: Callable[[], None]
) -> None:
    result = st.session_state.pop("qas_import_result", None)
    if result:
        st.success(result, icon=":material/task_alt:")
    st.caption(
        "Columns: question and answer (required); section, type (training/validation), active "
        "(yes/no) and notes (optional). Headers may differ: map them below. Nothing is written "
        "until you confirm, and then every accepted row is written, or none."
    )
    uploaded = st.file_uploader(
        "CSV, XLSX or JSONL file",
        type=["csv", "tsv", "txt", "xlsx", "jsonl"],
        key="qas_import_file",
    )
    if uploaded is None:
        return
    cache_key = (uploaded.file_id, uploaded.name)
    cached = st.session_state.get("qas_import_table")
    if cached is None or cached[0] != cache_key:
        report, done = progress_bar("Reading")
        try:
            table = qas.read_upload(uploaded.name, uploaded.getvalue(), report)
        except ArbiterError as exc:
            done()
            show_error(exc)
            return
        done()
        st.session_state["qas_import_table"] = (cache_key, table)
    else:
        table = cached[1]
    st.caption(
        f"{len(table.rows):,} {table.unit}s in {table.name}; columns: {', '.join(table.headers)}"
    )
    mapping = _mapping_widgets(table, "qas_import")
    _preview_and_confirm(actor, new_uow, model_id, table, mapping, "qas_import", on_change)


def paste_panel(
    actor: Actor, new_uow: Callable[[], UnitOfWork], model_id: int, on_change: Callable[[], None]
) -> None:
    result = st.session_state.pop("qas_paste_result", None)
    if result:
        st.success(result, icon=":material/task_alt:")
    text = st.text_area(
        "Rows copied from a spreadsheet (tab-separated) or CSV text",
        height=140,
        key="qas_paste_text",
        placeholder="question<TAB>answer<TAB>section …  (a first row of column names is optional)",
    )
    if not text.strip():
        return
    try:
        table, mapping = qas.read_paste(text)
    except ArbiterError as exc:
        show_error(exc)
        return
    _preview_and_confirm(actor, new_uow, model_id, table, mapping, "qas_paste", on_change)


def export_panel(
    actor: Actor, new_uow: Callable[[], UnitOfWork], query: QAQuery, total: int
) -> None:
    st.caption(
        f"Exports the {total:,} Q&As that match the filter, in the columns an import reads. Cells "
        "that a spreadsheet would run as a formula are neutralised with a leading apostrophe."
    )
    c1, c2 = st.columns([2, 3], vertical_alignment="bottom")
    kind = c1.radio("Format", ["csv", "xlsx", "jsonl"], horizontal=True, key="qas_export_kind")
    if c2.button("Prepare export", key="qas_export_go", icon=":material/download:"):
        report, done = progress_bar("Exporting")
        try:
            exported = qas.export_qas(new_uow(), actor, query, kind, report)
        except ArbiterError as exc:
            done()
            show_error(exc)
        else:
            done()
            st.session_state["qas_export_file"] = exported
    ready = st.session_state.get("qas_export_file")
    if ready is not None:
        st.download_button(
            f"Download {ready.name} ({ready.rows:,} Q&As)",
            ready.data,
            file_name=ready.name,
            mime=ready.media_type,
            key="qas_export_download",
        )

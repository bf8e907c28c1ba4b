"""Q&A clean-up: duplicates, conflicting answers across the hierarchy, personal data, and
answers that are too short or too long, each with a way to fix it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import ArbiterError
from core.permissions import Permission
from core.services import catalog, qas
from core.services.qas import BulkAction, CleanupFinding, CleanupReport, FindingKind, Selection
from ui import context
from ui.errors import attempt, show_error

actor = context.actor()
can_edit = actor.can(Permission.EDIT_TRAINING)
state = st.session_state
REPORT, UNDO = "cleanup_report", "cleanup_undo"
SHOWN = 50

st.title("Q&A clean-up")
st.caption(
    "What in a model's active Q&As deserves a second look before the next compilation. "
    "Conflicts include the models whose training this one shares (inherited or aggregated). "
    "Near-duplicates are also questions asked in other words: other filler words or a typo "
    '("How often should we post…" and "How often do we post…").'
)

models = attempt(lambda: catalog.list_models(context.uow(), actor)) or []
if not models:
    st.info("There are no models yet.")
    st.stop()
names = {m.id: m.name for m in models}
c1, c2, c3, c4 = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
model_id: int = c1.selectbox(
    "Model", list(names), format_func=lambda i: names[i], key="cleanup_model"
)
short_chars = c2.number_input(
    "Short: fewer than (characters)", 1, 1_000, qas.SHORT_ANSWER_CHARS, key="cleanup_short"
)
long_chars = c3.number_input(
    "Long: more than (characters)", 100, 64_000, qas.LONG_ANSWER_CHARS, key="cleanup_long"
)
signature = (model_id, int(short_chars), int(long_chars))
if c4.button("Analyse again", icon=":material/refresh:", key="cleanup_refresh"):
    state.pop(REPORT, None)

cached = state.get(REPORT)
if cached is None or cached[0] != signature:
    with st.spinner("Looking through the Q&As…"):
        found = attempt(
            lambda: qas.cleanup_report(
                context.uow(),
                actor,
                model_id,
                short_chars=int(short_chars),
                long_chars=int(long_chars),
            )
        )
    if found is None:
        st.stop()
    state[REPORT] = (signature, found)
report: CleanupReport = state[REPORT][1]


def _after_change(message: str, journal_id: int | None) -> None:
    state.pop(REPORT, None)
    if journal_id is not None:
        state[UNDO] = (journal_id, message)
    st.toast(message)
    st.rerun()


undo = state.get(UNDO)
if undo is not None:
    left, right = st.columns([5, 1])
    left.success(f"Done: {undo[1]}.")
    if right.button("Undo", icon=":material/undo:", key="cleanup_undo_button"):
        try:
            qas.undo_bulk(context.uow(), actor, undo[0])
        except ArbiterError as exc:
            show_error(exc)
        else:
            state.pop(UNDO, None)
            _after_change("Undone.", None)

st.caption(f"{report.scanned:,} active Q&As of {names[model_id]} checked.")
metrics = st.columns(len(FindingKind))
for column, kind in zip(metrics, FindingKind, strict=True):
    column.metric(kind.value.capitalize(), f"{report.count(kind):,}")


def _validation_set() -> None:
    st.caption(
        "Turns a share of each section's active Q&As into validation Q&As and the rest into "
        "training Q&As; the same or nearly the same questions stay on one side, so that the "
        "validation score does not measure memory. The same seed gives the same split."
    )
    v1, v2, v3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    share = v1.slider(
        "Share per section", 0.05, 0.5, qas.DEFAULT_SHARE, 0.05, key="cleanup_split_share"
    )
    seed = v2.number_input("Seed", 0, 1_000_000, 0, key="cleanup_split_seed")
    if v3.button("Make the validation set", icon=":material/call_split:", key="cleanup_split_go"):
        try:
            split = qas.make_validation_set(context.uow(), actor, model_id, float(share), int(seed))
        except ArbiterError as exc:
            show_error(exc)
        else:
            _after_change(split.message, split.journal_id)


if can_edit:
    with st.expander("Make a validation set", icon=":material/call_split:"):
        _validation_set()


def _rows_frame(finding: CleanupFinding) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Q&A": r.id,
                "Model": r.model_name + ("" if r.editable else f" ({r.relation.value})"),
                "Section": r.section,
                "Question": r.question,
                "Answer": r.answer[:500],
                "Type": r.qa_type.value,
            }
            for r in finding.rows
        ]
    )


def _edit_form(finding: CleanupFinding, key: str) -> None:
    editable = [r for r in finding.rows if r.editable]
    if not editable:
        return
    row = st.selectbox(
        "Edit Q&A",
        editable,
        format_func=lambda r: f"#{r.id}: {r.question[:80]}",
        key=f"{key}_pick",
    )
    with st.form(f"{key}_form_{row.id}"):
        question = st.text_area("Question", value=row.question, height=70)
        answer = st.text_area("Answer", value=row.answer, height=120)
        save = st.form_submit_button("Save")
    if save:
        try:
            qas.update_qa(
                context.uow(),
                actor,
                row.id,
                {"question": question, "answer": answer},
                expected_version=row.row_version,
                seen={"question": row.question, "answer": row.answer},
            )
        except ArbiterError as exc:
            show_error(exc)
        else:
            _after_change(f"saved Q&A #{row.id}", None)


def _actions(finding: CleanupFinding, key: str) -> None:
    a1, a2, a3 = st.columns(3, vertical_alignment="bottom")
    if a1.button("Show in the grid", icon=":material/table:", key=f"{key}_show"):
        st.switch_page(
            "pages/qas.py",
            query_params={"model": str(model_id), "ids": ",".join(map(str, finding.ids))},
        )
    if not can_edit or not finding.own_ids:
        return
    duplicates = finding.kind in (FindingKind.EXACT_DUPLICATE, FindingKind.NEAR_DUPLICATE)
    if duplicates and len(finding.own_ids) > 1:
        keep = a2.selectbox(
            "Keep", finding.own_ids, format_func=lambda i: f"#{i}", key=f"{key}_keep"
        )
        if a2.button("Merge (deactivate the others)", key=f"{key}_merge"):
            try:
                result = qas.merge_duplicates(
                    context.uow(), actor, keep, [i for i in finding.own_ids if i != keep]
                )
            except ArbiterError as exc:
                show_error(exc)
            else:
                _after_change(result.message, result.journal_id)
    label = "Deactivate this model's rows" if len(finding.own_ids) > 1 else "Deactivate"
    if a3.button(label, key=f"{key}_deactivate"):
        try:
            result = qas.bulk_update(
                context.uow(),
                actor,
                Selection(model_id, ids=tuple(finding.own_ids)),
                BulkAction.DEACTIVATE,
            )
        except ArbiterError as exc:
            show_error(exc)
        else:
            _after_change(result.message, result.journal_id)
    _edit_form(finding, key)


tabs = st.tabs([f"{k.value.capitalize()} ({report.count(k):,})" for k in FindingKind])
for tab, kind in zip(tabs, FindingKind, strict=True):
    with tab:
        findings = report.findings.get(kind, [])
        if not findings:
            st.caption("Nothing found.")
            continue
        if report.count(kind) > SHOWN:
            st.caption(f"The first {SHOWN} of {report.count(kind):,} are listed.")
        for index, finding in enumerate(findings[:SHOWN]):
            with st.expander(finding.summary):
                st.dataframe(_rows_frame(finding), hide_index=True, width="stretch")
                _actions(finding, f"cleanup_{kind.name}_{index}")

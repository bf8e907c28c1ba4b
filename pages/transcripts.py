"""Transcript curation: import conversations, then review them one at a time: approve (they
become ready training conversations), edit then approve, reject with a reason, or skip."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.domain import TranscriptStatus
from core.permissions import Permission
from core.services import catalog, curation
from core.services.curation import Decision, TranscriptView
from ui import context, message_editor, pager
from ui.errors import attempt, show_error
from ui.flash import flash, show_flash
from ui.formatting import day, local_time, plural, zone_label
from ui.model_picker import pick_model
from ui.safe_markdown import without_images

actor = context.actor()
can_edit = actor.can(Permission.EDIT_TRAINING)
EDITING = "tx_editing"  # the transcript open in the editor before approval
SHOWN = "tx_shown"  # the transcript opened from the all-transcripts table
LAST = "tx_last_decided"  # the transcript decided last, which Undo takes back
PAGE_SIZE = 100

st.title("Transcript curation")
st.caption(
    "Conversations from support desks and chats wait here until a trainer decides. Approved "
    "ones become **ready** training conversations for the next compilation."
)
show_flash("transcripts")
last_decided: int | None = st.session_state.get(LAST)
undo_slot = st.container()  # there with or without the button: the tabs below stay put
if (
    last_decided is not None
    and can_edit
    and undo_slot.button(
        f"Undo the decision on #{last_decided}",
        icon=":material/undo:",
        key="tx_undo",
        shortcut="Alt+U",
        help="Alt+U · it waits for review again",
    )
):
    taken_back = int(last_decided)
    undone = attempt(lambda: curation.undo_decision(context.uow(), actor, taken_back))
    st.session_state.pop(LAST, None)
    if undone is not None:
        flash(undone.message, scope="transcripts")
        st.rerun()

models = attempt(lambda: catalog.list_models(context.uow(), actor)) or []
waiting = attempt(lambda: curation.waiting_by_model(context.uow(), actor)) or {}
model = pick_model(models, "tx_model", counts=waiting, counted="waiting")
if model is None:
    st.stop()
assert model is not None
model_id: int = model.id

progress = attempt(lambda: curation.queue_progress(context.uow(), actor, model_id))
if progress is not None:
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Waiting", f"{progress.pending:,}")
    m2.metric("Skipped", f"{progress.skipped:,}")
    m3.metric("Approved", f"{progress.approved:,}")
    m4.metric("Rejected", f"{progress.rejected:,}")
    if progress.total:
        st.progress(
            progress.reviewed / progress.total,
            text=f"{progress.reviewed:,} of {progress.total:,} reviewed",
        )

review_tab, import_tab, all_tab = st.tabs(["Review", "Import", "All transcripts"])


def _decided(decision: Decision | None) -> None:
    if decision is not None:
        flash(decision.message, scope="transcripts")
        st.session_state[LAST] = decision.transcript_id
        st.session_state.pop(EDITING, None)
        st.rerun()


def _show(item: TranscriptView) -> None:
    # The title and the file's name come from the imported file: no image in them loads.
    st.subheader(without_images(f"#{item.id} · {item.title}"))
    st.caption(
        without_images(
            f"From {item.source_label} · imported by {item.imported_by} on {day(item.imported_at)}"
        )
    )
    for warning in item.pii_warnings:
        st.warning(f"Personal data? {warning}", icon=":material/privacy_tip:")
    if item.problems:
        st.info(
            "Edit before approving:\n" + "\n".join(f"- {p}" for p in item.problems),
            icon=":material/edit_note:",
        )


def _review(item: TranscriptView) -> None:
    _show(item)
    editor_key = f"tx_{item.id}_{item.row_version}"
    if st.session_state.get(EDITING) == item.id:
        edited = message_editor.message_editor(editor_key, item.messages)
        e1, e2 = st.columns([1, 4])
        if e1.button("Approve edited", type="primary", key="tx_approve_edited", shortcut="Alt+A"):
            try:
                decision = curation.approve_transcript(
                    context.uow(), actor, item.id, edited, expected_version=item.row_version
                )
            except Exception as exc:
                show_error(exc)
            else:
                message_editor.reset(editor_key)
                _decided(decision)
        if e2.button("Cancel editing", key="tx_cancel_edit"):
            message_editor.reset(editor_key)
            st.session_state.pop(EDITING, None)
            st.rerun()
        return
    message_editor.message_list(item.messages, item.times)
    if not can_edit:
        return
    b1, b2, b3 = st.columns(3)
    if b1.button(
        "Approve",
        type="primary",
        icon=":material/check:",
        key="tx_approve",
        shortcut="Alt+A",
        disabled=bool(item.problems),
        help="Alt+A · becomes a ready training conversation",
    ):
        _decided(
            attempt(
                lambda: curation.approve_transcript(
                    context.uow(), actor, item.id, expected_version=item.row_version
                )
            )
        )
    if b2.button(
        "Edit, then approve", icon=":material/edit:", key="tx_edit", shortcut="Alt+E", help="Alt+E"
    ):
        st.session_state[EDITING] = item.id
        st.rerun()
    if b3.button(
        "Skip for now", icon=":material/skip_next:", key="tx_skip", shortcut="Alt+N", help="Alt+N"
    ):
        _decided(
            attempt(
                lambda: curation.skip_transcript(context.uow(), actor, item.id, item.row_version)
            )
        )
    with st.form(f"tx_reject_{item.id}", clear_on_submit=True):
        reason = st.text_input(
            "Reason for rejecting", placeholder="e.g. promises something we do not offer"
        )
        if st.form_submit_button(
            "Reject", icon=":material/block:", shortcut="Alt+X", help="Alt+X · with the reason"
        ):
            _decided(
                attempt(
                    lambda: curation.reject_transcript(
                        context.uow(), actor, item.id, reason, item.row_version
                    )
                )
            )


with review_tab:
    current = attempt(lambda: curation.next_in_queue(context.uow(), actor, model_id))
    if current is not None:
        _review(current)
    elif progress is not None and progress.skipped and can_edit:
        st.success("Nothing is waiting. Skipped transcripts can be reviewed now.")
        if st.button(f"Put the {progress.skipped:,} skipped back in the queue", key="tx_requeue"):
            count = attempt(lambda: curation.requeue_skipped(context.uow(), actor, model_id))
            if count is not None:
                flash(f"{plural(count, 'transcript')} back in the queue.", scope="transcripts")
                st.rerun()
    else:
        st.success("Nothing is waiting for review for this model.")

with import_tab:
    if not can_edit:
        st.info("Trainers and admins import curation.")
    else:
        st.markdown(
            '**JSONL** in the OpenAI chat format (one `{"messages": [...]}` per line), or '
            "**CSV** with the columns `conversation_id`, `role`, `content` and optionally "
            "`time` and `participant` (one row per message). A file with any bad line is "
            "refused whole, with each problem named."
        )
        upload = st.file_uploader(
            "Transcript file", type=["jsonl", "json", "ndjson", "csv"], key="tx_upload"
        )
        preview = None
        if upload is not None:
            name, content = upload.name, upload.getvalue()
            # Read as the import will read it, before anything is written.
            preview = attempt(
                lambda: curation.preview_transcripts(context.uow(), actor, name, content)
            )
        if preview is not None:
            st.markdown(
                f"**{plural(preview.total, 'transcript')}** in {preview.file}"
                + (
                    f" · {preview.with_personal_data:,} with personal-data warnings"
                    if preview.with_personal_data
                    else ""
                )
            )
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Title": r.title,
                            "Messages": r.messages,
                            "Roles": r.roles,
                            "Personal data?": r.personal_data or "no",
                        }
                        for r in preview.sample
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
            if preview.total > len(preview.sample):
                st.caption(f"The first {len(preview.sample):,} are shown.")
        if st.button(
            f"Import {plural(preview.total, 'transcript')}" if preview else "Import",
            type="primary",
            key="tx_import",
            disabled=preview is None or not preview.total,
        ):
            assert upload is not None
            name, content = upload.name, upload.getvalue()
            result = attempt(
                lambda: curation.import_transcripts(context.uow(), actor, model_id, name, content)
            )
            if result is not None:
                flash(
                    f"Imported {plural(result.imported, 'transcript')} from {result.file} "
                    f"({result.with_personal_data:,} with personal-data warnings).",
                    scope="transcripts",
                )
                st.rerun()

with all_tab:
    c1, _ = st.columns([2, 3])
    status = c1.selectbox(
        "Status",
        [None, *TranscriptStatus],
        format_func=lambda s: "all" if s is None else s.value,
        key="tx_all_status",
        on_change=pager.reset,
        args=("tx_all_page",),
    )
    page_number = pager.current("tx_all_page")
    listing = attempt(
        lambda: curation.list_transcripts(
            context.uow(), actor, model_id, status, (page_number - 1) * PAGE_SIZE, PAGE_SIZE
        )
    )
    if listing is not None:
        st.caption(f"{plural(listing.total, 'transcript')}. Click a row to open it below.")
        if listing.rows:
            event = st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "#": r.id,
                            "Title": r.title,
                            "Status": r.status.value,
                            "Reject reason": r.reject_reason or "",
                            "From": r.source_label,
                            "Messages": r.message_count,
                            "Personal data?": "yes" if r.personal_data else "no",
                            f"Imported ({zone_label()})": local_time(r.imported_at),
                        }
                        for r in listing.rows
                    ]
                ),
                hide_index=True,
                width="stretch",
                key=f"tx_all_table_{model_id}_{page_number}",
                on_select="rerun",
                selection_mode=pager.ROW_CLICK,
                column_config={"Reject reason": st.column_config.TextColumn(width="large")},
            )
            clicked = pager.picked_row(event, [r.id for r in listing.rows], "tx__picked")
            if clicked is not None:
                st.session_state[SHOWN] = clicked
        pager.controls("tx_all_page", listing.total, PAGE_SIZE)
    shown_id = st.session_state.get(SHOWN)
    if shown_id is not None:
        opened_id = int(shown_id)
        shown = attempt(lambda: curation.get_transcript(context.uow(), actor, opened_id))
        if shown is not None and shown.model_id == model_id:
            with st.container(border=True):
                _show(shown)
                decided = f"{shown.status.value}"
                if shown.reviewed_by:
                    decided += f" by {shown.reviewed_by} on {day(shown.reviewed_at)}"
                st.markdown(f"**Status:** {decided}")
                if shown.reject_reason:
                    st.markdown(f"**Reject reason:** {shown.reject_reason}")
                message_editor.message_list(shown.messages, shown.times)
                if st.button("Close", key="tx_close_shown"):
                    st.session_state.pop(SHOWN, None)
                    st.rerun()

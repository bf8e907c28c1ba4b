"""Transcript curation: import conversations, then review them one at a time: approve (they
become ready training conversations), edit then approve, reject with a reason, or skip."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.domain import TranscriptStatus
from core.permissions import Permission
from core.services import catalog, curation
from core.services.curation import Decision, TranscriptView
from ui import context, message_editor
from ui.errors import attempt, show_error
from ui.flash import flash, show_flash
from ui.formatting import day
from ui.model_picker import pick_model
from ui.safe_markdown import without_images

actor = context.actor()
can_edit = actor.can(Permission.EDIT_TRAINING)
EDITING = "tx_editing"  # the transcript open in the editor before approval
PAGE_SIZE = 100

st.title("Transcript curation")
st.caption(
    "Conversations from support desks and chats wait here until a trainer decides. Approved "
    "ones become **ready** training conversations for the next compilation."
)
show_flash("transcripts")

models = attempt(lambda: catalog.list_models(context.uow(), actor)) or []
model = pick_model(models, "tx_model")
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
        if st.form_submit_button("Reject", icon=":material/block:"):
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
                flash(f"{count:,} transcripts are back in the queue.", scope="transcripts")
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
        if st.button("Import", type="primary", key="tx_import", disabled=upload is None):
            assert upload is not None
            name, content = upload.name, upload.getvalue()
            result = attempt(
                lambda: curation.import_transcripts(context.uow(), actor, model_id, name, content)
            )
            if result is not None:
                flash(
                    f"Imported {result.imported:,} transcripts from {result.file} "
                    f"({result.with_personal_data:,} with personal-data warnings).",
                    scope="transcripts",
                )
                st.rerun()

with all_tab:
    c1, c2 = st.columns([2, 1])
    status = c1.selectbox(
        "Status",
        [None, *TranscriptStatus],
        format_func=lambda s: "all" if s is None else s.value,
        key="tx_all_status",
    )
    page_number = int(c2.number_input("Page", min_value=1, value=1, step=1, key="tx_all_page"))
    listing = attempt(
        lambda: curation.list_transcripts(
            context.uow(), actor, model_id, status, (page_number - 1) * PAGE_SIZE, PAGE_SIZE
        )
    )
    if listing is not None:
        pages = max(1, -(-listing.total // PAGE_SIZE))
        st.caption(f"{listing.total:,} transcripts; page {page_number} of {pages}.")
        if listing.rows:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "#": r.id,
                            "Title": r.title,
                            "Status": r.status.value,
                            "From": r.source_label,
                            "Messages": r.message_count,
                            "Personal data?": "yes" if r.personal_data else "",
                            "Imported": r.imported_at,
                        }
                        for r in listing.rows
                    ]
                ),
                hide_index=True,
                width="stretch",
            )

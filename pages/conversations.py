"""Training conversations: the list per model (filters, search, bulk status changes) and the
editor with live validation, token count and the conversation's origin."""

from __future__ import annotations

import contextlib
from datetime import datetime, time

import pandas as pd
import streamlit as st

from core.domain import ConversationOrigin, ConversationStatus, MessageRole
from core.permissions import Permission
from core.services import catalog, curation
from core.services.curation import ConversationDetail, ConversationFilter
from core.training import conversations as rules
from core.training.conversations import MessageDraft
from ui import context, message_editor, pager
from ui.errors import attempt, show_error
from ui.flash import flash, show_flash
from ui.formatting import local_time, plural, when, zone_label
from ui.model_picker import pick_model
from ui.safe_markdown import without_images

actor = context.actor()
can_edit = actor.can(Permission.EDIT_TRAINING)
OPEN = "conv_open"  # the conversation in the editor: an id, or NEW
NEW = -1
PAGE_SIZE = 50
STATUS_LABELS = {
    ConversationStatus.DRAFT: "draft",
    ConversationStatus.READY: "ready (in the next compilation)",
    ConversationStatus.EXCLUDED: "excluded",
}

st.title("Training conversations")
st.caption(
    "Whole exchanges the model learns from. Only **ready** conversations go into the next "
    "compilation; assistant messages with weight 0 are context, not lessons."
)
show_flash("conversations")

models = attempt(lambda: catalog.list_models(context.uow(), actor)) or []
model = pick_model(models, "conv_model")
if model is None:
    st.stop()
assert model is not None
model_id: int = model.id

if "conversation" in st.query_params:
    with contextlib.suppress(ValueError):
        linked = int(st.query_params["conversation"])
        if st.session_state.get("conv__from_query") != linked:
            st.session_state[OPEN] = linked
            st.session_state["conv__from_query"] = linked
if st.session_state.get("conv__model") != model_id:
    # Another model: its conversations, not the previous model's.
    if st.session_state.get("conv__model") is not None:
        st.session_state.pop(OPEN, None)
    st.session_state["conv__model"] = model_id

# --- the list -----------------------------------------------------------------------------

editors = attempt(lambda: curation.conversation_editors(context.uow(), actor, model_id)) or []
editor_names = {e.id: e.name for e in editors}
f1, f2, f3, f4 = st.columns(4)
statuses = f1.multiselect(
    "Status", list(ConversationStatus), format_func=lambda s: s.value, key="conv_f_status"
)
origins = f2.multiselect(
    "Origin", list(ConversationOrigin), format_func=lambda o: o.value, key="conv_f_origin"
)
changed_by = f3.selectbox(
    "Changed by",
    [None, *editor_names],
    format_func=lambda i: "anyone" if i is None else editor_names.get(i, str(i)),
    key="conv_f_by",
)
since = f4.date_input("Changed since", value=None, key="conv_f_since")
search = st.text_input(
    "Search titles, notes and messages", key="conv_f_search", placeholder="e.g. RMA"
)
filters = ConversationFilter(
    statuses=statuses,
    origins=origins,
    changed_by_id=changed_by,
    changed_since=datetime.combine(since, time.min).astimezone() if since else None,
    search=search,
)
page_number = pager.current("conv_page")
found = attempt(
    lambda: curation.list_conversations(
        context.uow(), actor, model_id, filters, (page_number - 1) * PAGE_SIZE, PAGE_SIZE
    )
)
rows = found.rows if found else []
titles = {r.id: f"#{r.id} · {r.title} · {r.status.value}" for r in rows}
head, new_button = st.columns([4, 1], vertical_alignment="bottom")
if found is not None:
    head.caption(
        f"{plural(found.total, 'conversation')} match. Click a row to open it in the editor below."
    )
if can_edit and new_button.button("New conversation", icon=":material/add:", key="conv_new"):
    st.session_state[OPEN] = NEW
if rows:
    event = st.dataframe(
        pd.DataFrame(
            [
                {
                    "#": r.id,
                    "Title": r.title,
                    "Status": r.status.value,
                    "Origin": r.origin_label,
                    "Messages": r.message_count,
                    "Changed by": r.changed_by,
                    f"Changed ({zone_label()})": local_time(r.changed_at),
                }
                for r in rows
            ]
        ),
        hide_index=True,
        width="stretch",
        key=f"conv_table_{model_id}_{page_number}",
        on_select="rerun",
        selection_mode=pager.ROW_CLICK,
    )
    clicked = pager.picked_row(event, [r.id for r in rows], "conv__picked")
    if clicked is not None:
        st.session_state[OPEN] = clicked
elif found is not None:
    st.info(
        "No training conversation matches. They come from Train AI on a chat answer, from "
        "approved transcripts, or from New conversation.",
        icon=":material/forum:",
    )
if found is not None:
    pager.controls("conv_page", found.total, PAGE_SIZE)

if can_edit and rows:
    with st.expander("Change the status of several conversations"):
        chosen = st.multiselect(
            "Conversations on this page",
            list(titles),
            format_func=lambda i: titles[i],
            key="conv_bulk_ids",
        )
        b1, b2, b3 = st.columns(3)
        target = None
        if b1.button("Mark ready", key="conv_bulk_ready", disabled=not chosen):
            target = ConversationStatus.READY
        if b2.button("Back to draft", key="conv_bulk_draft", disabled=not chosen):
            target = ConversationStatus.DRAFT
        if b3.button("Exclude", key="conv_bulk_exclude", disabled=not chosen):
            target = ConversationStatus.EXCLUDED
        if target is not None:
            status = target
            changed = attempt(
                lambda: curation.set_status_bulk(context.uow(), actor, chosen, status)
            )
            if changed is not None:
                flash(
                    f"{plural(changed, 'conversation')} now {status.value}.",
                    scope="conversations",
                )
                st.rerun()

# --- the editor ---------------------------------------------------------------------------

open_id: int = st.session_state.get(OPEN) or 0
if not open_id:
    st.stop()

detail: ConversationDetail | None = None
if open_id != NEW:
    detail = attempt(lambda: curation.get_conversation(context.uow(), actor, open_id))
    if detail is None:
        st.session_state.pop(OPEN, None)
        st.stop()
    assert detail is not None
    if detail.model_id != model_id:
        st.info(f"This conversation belongs to {detail.model_name}.")

st.divider()
if detail is None:
    st.subheader("New conversation")
    initial = [MessageDraft(MessageRole.USER, ""), MessageDraft(MessageRole.ASSISTANT, "")]
    editor_key = f"conv_new_{model_id}"
    system_message, base_model = "", None
    model_detail = attempt(lambda: catalog.get_model(context.uow(), actor, model_id))
    if model_detail is not None:
        system_message, base_model = model_detail.system_message, model_detail.effective_base_model
else:
    st.subheader(without_images(f"#{detail.id} · {detail.title}"))
    st.caption(
        f"Status **{STATUS_LABELS[detail.status]}** · created by {detail.created_by} on "
        f"{when(detail.created_at)} · last changed by {detail.changed_by} on "
        f"{when(detail.changed_at)}"
    )
    st.info(f"**Origin:** {detail.origin.value} — {detail.origin_label}", icon=":material/link:")
    rejected = (detail.origin_ref or {}).get("rejected")
    if isinstance(rejected, str):
        with st.expander("The answer it corrected (kept as preference data for DPO)"):
            st.text(rejected)
    if detail.chat_id is not None:
        st.page_link(
            "pages/chats.py",
            label="Open the chat it came from",
            icon=":material/forum:",
            query_params={"chat": str(detail.chat_id)},
        )
    initial = detail.drafts
    editor_key = f"conv_{detail.id}_{detail.row_version}"
    system_message, base_model = detail.system_message, detail.base_model

if not can_edit:
    assert detail is not None
    message_editor.message_list(detail.drafts)
    for problem in detail.problems:
        st.warning(str(problem))
    st.caption(f"{detail.token_count:,} tokens with the model's system message")
    st.stop()

title = st.text_input(
    "Title", value=detail.title if detail else "", key=f"{editor_key}_title", max_chars=300
)
notes = st.text_area("Notes", value=detail.notes if detail else "", key=f"{editor_key}_notes")
edited = message_editor.message_editor(editor_key, initial)

# Live checks on the working copy, before anything is saved.
problems = rules.problems([m.normalised() for m in edited])
tokens = rules.token_count(edited, system_message, base_model)
if problems:
    st.warning(
        "Not ready to train yet:\n" + "\n".join(f"- {p}" for p in problems),
        icon=":material/rule:",
    )
else:
    st.success("Ready to train: every rule is met.", icon=":material/check_circle:")
st.caption(f"{tokens:,} tokens with the model's system message")

statuses_all = list(ConversationStatus)
status_choice = st.radio(
    "Status after saving",
    statuses_all,
    index=statuses_all.index(detail.status if detail else ConversationStatus.DRAFT),
    format_func=lambda s: STATUS_LABELS[s],
    horizontal=True,
    key=f"{editor_key}_status",
)
s1, s2, s3 = st.columns([1, 1, 4])
if s1.button("Save", type="primary", icon=":material/save:", key=f"{editor_key}_save"):
    try:
        if detail is None:
            created = curation.create_conversation(
                context.uow(),
                actor,
                model_id,
                edited,
                title=title,
                notes=notes,
                status=status_choice,
            )
            st.session_state[OPEN] = created.id
            flash(f"Created conversation #{created.id}.", scope="conversations")
        else:
            saved = curation.save_conversation(
                context.uow(),
                actor,
                detail.id,
                edited,
                title=title,
                notes=notes,
                expected_version=detail.row_version,
            )
            if status_choice != saved.status:
                curation.set_status(
                    context.uow(), actor, saved.id, status_choice, saved.row_version
                )
            flash(f"Saved conversation #{saved.id}.", scope="conversations")
        message_editor.reset(editor_key)
        st.rerun()
    except Exception as exc:
        show_error(exc)
if s2.button("Discard changes", key=f"{editor_key}_discard"):
    message_editor.reset(editor_key)
    st.rerun()
if detail is not None:
    with s3.popover("Delete", icon=":material/delete:"):
        st.write(f"Delete conversation #{detail.id} for good? Excluding it keeps it.")
        if st.button("Delete", type="primary", key=f"{editor_key}_delete"):
            try:
                curation.delete_conversation(context.uow(), actor, detail.id)
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state.pop(OPEN, None)
                flash(f"Deleted conversation #{detail.id}.", scope="conversations")
                st.rerun()

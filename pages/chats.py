"""Chats with people and arbiters: answers stream in, each names the version that gave it
(and, for the offline provider, the training example it came from); Train AI on any answer."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import streamlit as st

from core.domain import AnswerMode, ChatKind, ChatMessageStatus, MessageRole
from core.permissions import Permission
from core.services import chat, compilation, curation
from core.services.chat import ChatMessageView, ChatSummary, Member
from core.services.curation import TrainResult
from ui import context
from ui.errors import attempt, show_error
from ui.flash import flash, show_flash
from ui.formatting import when
from ui.links import page_link, record_link
from ui.safe_markdown import without_images, without_images_streamed

actor = context.actor()
can_train = actor.can(Permission.EDIT_TRAINING)
PICK = "chat_pick"
TRAIN = "chat_train_message"  # the AI message whose Train AI dialog is open
TRAIN_RESULT = "chat_train_result"
RETRY = "chat_retry_message"
REFRESH_SECONDS = 5
MODE_LABELS = {
    AnswerMode.MENTION: "when @mentioned",
    AnswerMode.EVERY_MESSAGE: "to every message",
}

st.title("Chats")
show_flash("chats")

chats = attempt(lambda: chat.list_chats(context.uow(), actor)) or []
by_id = {c.id: c for c in chats}
if "chat" in st.query_params:
    with contextlib.suppress(ValueError):
        linked = int(st.query_params["chat"])
        if linked in by_id and st.session_state.get("chat__from_query") != linked:
            st.session_state[PICK] = linked
            st.session_state["chat__from_query"] = linked


def _label(summary: ChatSummary) -> str:
    kind = "group" if summary.kind == ChatKind.GROUP else "direct"
    return f"{summary.title} ({kind})"


def _new_chat_form() -> None:
    directory = attempt(lambda: chat.chat_directory(context.uow(), actor))
    if directory is None:
        return
    people = {m.id: m.name for m in directory.users if m.id != actor.user_id}
    models = {m.id: m.name for m in directory.models}
    with st.form("chat_new", clear_on_submit=True, border=False):
        kind = st.radio(
            "Kind",
            [ChatKind.GROUP, ChatKind.DIRECT],
            format_func=lambda k: (
                "Group" if k == ChatKind.GROUP else "Direct (one person or model)"
            ),
            horizontal=True,
        )
        title = st.text_input("Group name", placeholder="e.g. Support desk")
        chosen_people = st.multiselect("People", list(people), format_func=people.__getitem__)
        chosen_models = st.multiselect("AI models", list(models), format_func=models.__getitem__)
        mode = st.radio(
            "In a group, models answer",
            list(MODE_LABELS),
            format_func=MODE_LABELS.__getitem__,
            horizontal=True,
        )
        if st.form_submit_button("Create chat", type="primary", icon=":material/add_comment:"):
            created = attempt(
                lambda: chat.create_chat(
                    context.uow(), actor, title, kind, chosen_people, chosen_models, mode
                )
            )
            if created is not None:
                st.session_state[PICK] = created.id
                st.rerun()


top_pick, top_new = st.columns([3, 1], vertical_alignment="bottom")
with top_new.popover("New chat", icon=":material/add_comment:", width="stretch"):
    _new_chat_form()
if not chats:
    st.info("You are in no chat yet. Start one with **New chat**.")
    st.stop()
if st.session_state.get(PICK) not in by_id:
    st.session_state[PICK] = chats[0].id
chat_id = int(
    top_pick.selectbox("Chat", list(by_id), format_func=lambda i: _label(by_id[i]), key=PICK)
)
current = by_id[chat_id]

# --- header and settings ------------------------------------------------------------------

names = ", ".join(m.name for m in current.people)
models_here = ", ".join(m.name for m in current.models) or "no AI models"
if current.kind == ChatKind.GROUP:
    st.caption(
        f"People: {names} · AI models: {models_here} · models answer "
        f"**{MODE_LABELS[current.answer_mode]}**"
    )
else:
    st.caption(f"Direct chat: {names}, {models_here}")


def _answer_source(message: ChatMessageView) -> None:
    """The record the local provider answered from, as a link (a line number alone is
    nothing a user can open)."""
    line, version_id = message.meta.get("example_line"), message.version_id
    if not line or version_id is None:
        return
    refs = attempt(lambda: compilation.example_sources(context.uow(), actor, version_id, int(line)))
    for ref in (refs or [])[:2]:
        page_link(record_link(ref), f"Open {ref.describe()}", icon=":material/open_in_new:")


def chat_placeholder(summary: ChatSummary) -> str:
    """Names the models of *this* chat and how to ask them."""
    here = [m.name for m in summary.models]
    if not here:
        return "Write a message"
    if summary.kind == ChatKind.DIRECT:
        return f"Ask {here[0]}"
    if summary.answer_mode == AnswerMode.EVERY_MESSAGE:
        return (
            f"Write a message; {' and '.join(here)} answer{'s' if len(here) == 1 else ''} each one"
        )
    return "Write a message; mention " + " or ".join(f"@{n}" for n in here) + " to ask"


def _settings(summary: ChatSummary) -> None:
    if summary.kind == ChatKind.GROUP:
        mode = st.radio(
            "Models answer",
            list(MODE_LABELS),
            index=list(MODE_LABELS).index(summary.answer_mode),
            format_func=MODE_LABELS.__getitem__,
            key=f"chat_{summary.id}_mode",
        )
        if mode != summary.answer_mode and (
            attempt(lambda: chat.update_chat(context.uow(), actor, summary.id, answer_mode=mode))
            is not None
        ):
            st.rerun()
        directory = attempt(lambda: chat.chat_directory(context.uow(), actor))
        if directory is not None:
            present = {(m.kind, m.id) for m in summary.members}
            addable = [
                m for m in directory.users + directory.models if (m.kind, m.id) not in present
            ]
            with st.form(f"chat_{summary.id}_members", border=False):
                add = st.multiselect(
                    "Add members", addable, format_func=lambda m: f"{m.name} ({m.kind})"
                )
                remove = st.multiselect(
                    "Remove members", summary.members, format_func=lambda m: f"{m.name} ({m.kind})"
                )
                if st.form_submit_button("Update members") and (
                    attempt(
                        lambda: chat.update_chat(
                            context.uow(),
                            actor,
                            summary.id,
                            add_user_ids=[m.id for m in add if m.kind == "user"],
                            add_model_ids=[m.id for m in add if m.kind == "model"],
                            remove=remove,
                        )
                    )
                    is not None
                ):
                    st.rerun()
    if can_train and summary.models:
        st.divider()
        st.markdown("**Curation**: put this whole chat in a model's transcript review queue.")
        target: Member = st.selectbox(
            "For model", summary.models, format_func=lambda m: m.name, key=f"chat_{summary.id}_q"
        )
        if st.button("Send to curation queue", key=f"chat_{summary.id}_queue"):
            queued = attempt(
                lambda: curation.send_chat_to_queue(context.uow(), actor, summary.id, target.id)
            )
            if queued is not None:
                flash(
                    f"Queued as transcript #{queued.id} for {target.name}: review it on the "
                    "Transcript curation page.",
                    scope="chats",
                )
                st.rerun()


with st.popover("Chat settings", icon=":material/settings:"):
    _settings(current)

# --- messages -----------------------------------------------------------------------------


def _open_train(message_id: int) -> None:
    st.session_state[TRAIN] = message_id
    st.session_state.pop(TRAIN_RESULT, None)


def _close_train() -> None:
    st.session_state.pop(TRAIN, None)
    st.session_state.pop(TRAIN_RESULT, None)


def _retry(message_id: int) -> None:
    st.session_state[RETRY] = message_id


def _avatar(is_ai: bool) -> str:
    return ":material/smart_toy:" if is_ai else ":material/person:"


def _render(message: ChatMessageView) -> None:
    with st.chat_message("assistant" if message.is_ai else "user", avatar=_avatar(message.is_ai)):
        head = [f"**{message.author_name}**"]
        if message.is_ai:
            head.append(message.version_label)
        head.append(when(message.created_at))
        st.caption(without_images(" · ".join(head)))
        if message.content:
            # Markdown, never raw HTML (Streamlit escapes it), and no image fetched from
            # anywhere: an image shows as the text that wrote it.
            st.markdown(without_images(message.content))
        if not message.is_ai:
            return
        if message.failed:
            st.error(message.error or "The answer failed.", icon=":material/cloud_off:")
            st.button(
                "Ask again",
                key=f"chat_retry_{message.id}",
                icon=":material/refresh:",
                on_click=_retry,
                args=(message.id,),
            )
        elif message.status == ChatMessageStatus.STREAMING:
            st.caption(":material/hourglass_top: answering…")
        if message.provenance:
            st.caption(message.provenance)
            _answer_source(message)
        if can_train and message.status != ChatMessageStatus.STREAMING:
            st.button(
                "Train AI",
                key=f"chat_train_{message.id}",
                icon=":material/school:",
                on_click=_open_train,
                args=(message.id,),
                help="Correct or confirm this answer and make it a training conversation",
            )


def _texts(message_id: int) -> Iterator[str]:
    for delta in chat.stream_answer(context.uow(), actor, message_id):
        yield delta.text


def _message(message_id: int) -> ChatMessageView | None:
    return attempt(lambda: chat.get_message(context.uow(), actor, message_id))


def _stream(answer_ids: Sequence[int]) -> None:
    """Show each pending answer as it is produced (it is saved as it grows)."""
    for answer_id in answer_ids:
        pending = _message(answer_id)
        name = pending.author_name if pending else "AI"
        with st.chat_message("assistant", avatar=_avatar(True)):
            st.caption(f"**{name}** · answering…")
            try:
                st.write_stream(without_images_streamed(_texts(answer_id)))
            except Exception as exc:
                show_error(exc)


# Read before the messages, so that nothing written in between goes unnoticed.
activity = attempt(lambda: chat.chat_activity(context.uow(), actor, chat_id))
messages = attempt(lambda: chat.list_messages(context.uow(), actor, chat_id)) or []
# The messages scroll in a pane of their own, kept at the newest: the chat's header stays
# in view, and a new answer is scrolled to as it arrives. The pane takes the height the
# window leaves under the header and above the message box (about 530 px): at a fixed
# 440 px the page itself opened scrolled past the header at 1280 x 800.
pane = st.container(height=440, autoscroll=True, key="chat_pane")
st.html(
    "<style>div:has(> .st-key-chat_pane), .st-key-chat_pane { height: "
    "max(240px, calc(100vh - 530px)) !important; flex: 0 0 auto !important; }</style>"
)
with pane:
    if not messages:
        st.caption("No messages yet. " + chat_placeholder(current).replace("Write a message; ", ""))
    for item in messages:
        _render(item)


@st.fragment(run_every=REFRESH_SECONDS)
def _watch(seen: str | None) -> None:
    """Reload the chat when someone else writes or an answer finishes (never while the
    Train AI dialog is open, so that a correction being typed is not disturbed)."""
    now = attempt(lambda: chat.chat_activity(context.uow(), actor, chat_id))
    if seen is not None and now is not None and now != seen and st.session_state.get(TRAIN) is None:
        st.rerun()


_watch(activity)

retry_id = st.session_state.pop(RETRY, None)
if retry_id is not None:
    retried = attempt(lambda: chat.retry_answer(context.uow(), actor, int(retry_id)))
    if retried is not None:
        with pane:
            _stream([retried])
        st.rerun()

prompt = st.chat_input(chat_placeholder(current), key="chat_input")
if prompt:
    text = str(prompt)
    posted = attempt(lambda: chat.post_message(context.uow(), actor, chat_id, text))
    if posted is not None:
        with pane:
            _render(posted.message)
            _stream(posted.pending_answers)
        st.rerun()

# --- Train AI -----------------------------------------------------------------------------


def _show_result(result: TrainResult) -> None:
    if result.created:
        st.success(result.message, icon=":material/check_circle:")
    else:
        st.warning(result.message, icon=":material/content_copy:")
    st.page_link(
        "pages/conversations.py",
        label=f"Open conversation #{result.conversation_id}",
        icon=":material/model_training:",
        query_params={"model": str(result.model_id), "conversation": str(result.conversation_id)},
    )
    st.button("Close", key="chat_train_close", on_click=_close_train)


@st.dialog("Train AI", width="large", on_dismiss=_close_train)
def _train_dialog(message_id: int) -> None:
    result = st.session_state.get(TRAIN_RESULT)
    if isinstance(result, TrainResult):
        _show_result(result)
        return
    draft = attempt(lambda: curation.train_preview(context.uow(), actor, message_id))
    if draft is None:
        st.button("Close", key="chat_train_close_error", on_click=_close_train)
        return
    st.caption(
        f"Teach **{draft.model_name}**: choose the messages to include (the question and the "
        "answer are chosen), write the right answer, and mark wrong earlier answers as context."
    )
    if draft.already_trained is not None:
        st.warning(
            f"This exchange was already trained as conversation #{draft.already_trained}.",
            icon=":material/content_copy:",
        )
    with st.form(f"chat_train_form_{message_id}", border=False):
        included: list[int] = []
        context_only: list[int] = []
        for c in draft.candidates:
            if c.is_answer:
                continue
            snippet = " ".join(c.content.split())
            snippet = snippet if len(snippet) <= 160 else snippet[:157] + "…"
            who = f"{c.participant_name} ({'AI' if c.role == MessageRole.ASSISTANT else 'user'})"
            col_in, col_ctx = st.columns([4, 1])
            if col_in.checkbox(
                without_images(f"**{who}**: {snippet}"),  # labels render images too
                value=c.preselected,
                key=f"chat_train_in_{c.message_id}",
            ):
                included.append(c.message_id)
            if c.role == MessageRole.ASSISTANT and col_ctx.checkbox(
                "wrong: context only",
                key=f"chat_train_ctx_{c.message_id}",
                help="Keep it in the conversation with weight 0: seen, not learnt",
            ):
                context_only.append(c.message_id)
        answer = st.text_area(
            f"The right answer from {draft.model_name} (Markdown)",
            value=draft.answer,
            height=180,
            key=f"chat_train_answer_{message_id}",
            help="Correct the AI's answer, or keep it if it was right; this is what it learns.",
        )
        title = st.text_input("Title (optional)", key=f"chat_train_title_{message_id}")
        submitted = st.form_submit_button(
            "Create training conversation", type="primary", icon=":material/school:"
        )
    if submitted:
        outcome = attempt(
            lambda: curation.train_from_chat(
                context.uow(), actor, message_id, included, answer, context_only, title
            )
        )
        if outcome is not None:
            st.session_state[TRAIN_RESULT] = outcome
            st.rerun()
    st.button("Cancel", key="chat_train_cancel", on_click=_close_train)


if can_train and st.session_state.get(TRAIN) is not None:
    _train_dialog(int(st.session_state[TRAIN]))

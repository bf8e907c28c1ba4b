"""The message list editor shared by training conversations and transcript curation: add,
remove and reorder messages, change role, participant, weight and content (Markdown, with
a preview). The working copy lives in session state until the page saves it, so widgets
keep their text when messages move.

Widget keys are ``{key}_{uid}_{field}``; messages present at the start have uids m0, m1, …
and added ones n0, n1, … (stable across reordering).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from core.domain import MessageRole
from core.training.conversations import MessageDraft
from ui.safe_markdown import without_images

ROLES = [MessageRole.USER, MessageRole.ASSISTANT, MessageRole.SYSTEM]
WEIGHTS = [1, 0]
_FIELDS = ("role", "participant", "weight", "content")


def _rows_key(key: str) -> str:
    return f"{key}__rows"


def _widget(key: str, uid: str, name: str) -> str:
    return f"{key}_{uid}_{name}"


def reset(key: str) -> None:
    """Forget the working copy (after saving, or to discard changes)."""
    rows = st.session_state.pop(_rows_key(key), None) or []
    for row in rows:
        for name in _FIELDS:
            st.session_state.pop(_widget(key, row["uid"], name), None)


def _start(key: str, initial: Sequence[MessageDraft]) -> list[dict[str, Any]]:
    rows_key = _rows_key(key)
    if rows_key not in st.session_state:
        st.session_state[rows_key] = [
            {
                "uid": f"m{i}",
                "role": m.role,
                "participant": m.participant_name,
                "weight": 1 if m.weight is None else m.weight,
                "content": m.content,
            }
            for i, m in enumerate(initial)
        ]
        st.session_state[f"{key}__added"] = 0
    rows: list[dict[str, Any]] = st.session_state[rows_key]
    return rows


def _sync(key: str, rows: list[dict[str, Any]]) -> None:
    """Copy what the widgets hold into the working copy (widgets may be rebuilt later)."""
    for row in rows:
        for name in _FIELDS:
            widget = _widget(key, row["uid"], name)
            if widget in st.session_state:
                row[name] = st.session_state[widget]


def _move(key: str, index: int, step: int) -> None:
    rows = st.session_state[_rows_key(key)]
    _sync(key, rows)
    target = index + step
    if 0 <= target < len(rows):
        rows[index], rows[target] = rows[target], rows[index]


def _remove(key: str, index: int) -> None:
    rows = st.session_state[_rows_key(key)]
    _sync(key, rows)
    row = rows.pop(index)
    for name in _FIELDS:
        st.session_state.pop(_widget(key, row["uid"], name), None)


def _add(key: str, role: MessageRole) -> None:
    rows = st.session_state[_rows_key(key)]
    _sync(key, rows)
    number = st.session_state.get(f"{key}__added", 0)
    st.session_state[f"{key}__added"] = number + 1
    rows.append({"uid": f"n{number}", "role": role, "participant": "", "weight": 1, "content": ""})


def _seed_widgets(key: str, row: dict[str, Any]) -> None:
    # Set through session state before the widget exists (never also via value=).
    for name in _FIELDS:
        widget = _widget(key, row["uid"], name)
        if widget not in st.session_state:
            st.session_state[widget] = row[name]


def drafts(key: str) -> list[MessageDraft]:
    rows = st.session_state.get(_rows_key(key), [])
    _sync(key, rows)
    return [
        MessageDraft(
            MessageRole(r["role"]),
            str(r["content"]),
            str(r["participant"]),
            int(r["weight"]) if r["role"] == MessageRole.ASSISTANT else None,
        )
        for r in rows
    ]


def _controls(key: str, uid: str, index: int, count: int) -> None:
    """A message's role, participant and weight, and the buttons that move or remove it."""
    c_role, c_name, c_weight, c_up, c_down, c_del = st.columns(
        [2, 3, 2, 1, 1, 1], vertical_alignment="bottom"
    )
    role = c_role.selectbox(
        f"Message {index + 1}",
        ROLES,
        format_func=lambda r: r.value,
        key=_widget(key, uid, "role"),
    )
    c_name.text_input("Participant", key=_widget(key, uid, "participant"), placeholder="optional")
    if role == MessageRole.ASSISTANT:
        c_weight.selectbox(
            "Weight",
            WEIGHTS,
            format_func=lambda w: "1 · learn from it" if w else "0 · context only",
            key=_widget(key, uid, "weight"),
        )
    c_up.button(
        "",
        icon=":material/arrow_upward:",
        help="Move up",
        key=f"{key}_{uid}_up",
        disabled=index == 0,
        on_click=_move,
        args=(key, index, -1),
    )
    c_down.button(
        "",
        icon=":material/arrow_downward:",
        help="Move down",
        key=f"{key}_{uid}_down",
        disabled=index == count - 1,
        on_click=_move,
        args=(key, index, 1),
    )
    c_del.button(
        "",
        icon=":material/delete:",
        help="Remove this message",
        key=f"{key}_{uid}_remove",
        on_click=_remove,
        args=(key, index),
    )


def message_editor(
    key: str, initial: Sequence[MessageDraft], *, height: int = 120
) -> list[MessageDraft]:
    """Render the editor; returns the messages as they stand now."""
    rows = _start(key, initial)
    for index, row in enumerate(rows):
        uid = row["uid"]
        _seed_widgets(key, row)
        with st.container(border=True):
            _controls(key, uid, index, len(rows))
            write, preview = st.tabs(["Write", "Preview"])
            with write:
                content = st.text_area(
                    "Content (Markdown)",
                    key=_widget(key, uid, "content"),
                    height=height,
                    label_visibility="collapsed",
                )
            with preview:
                # Markdown only: Streamlit escapes HTML in user text; images stay text.
                st.markdown(without_images(content) or "_(empty)_")
    a_user, a_assistant, _ = st.columns([1, 1, 3])
    a_user.button(
        "Add user message",
        icon=":material/person_add:",
        key=f"{key}_add_user",
        on_click=_add,
        args=(key, MessageRole.USER),
    )
    a_assistant.button(
        "Add assistant answer",
        icon=":material/smart_toy:",
        key=f"{key}_add_assistant",
        on_click=_add,
        args=(key, MessageRole.ASSISTANT),
    )
    return drafts(key)


def _avatar(role: MessageRole) -> str:
    return {
        MessageRole.USER: ":material/person:",
        MessageRole.ASSISTANT: ":material/smart_toy:",
        MessageRole.SYSTEM: ":material/settings:",
    }[MessageRole(role)]


def message_list(messages: Sequence[MessageDraft], times: Sequence[str | None] = ()) -> None:
    """Messages read-only, as a chat, their content rendered as Markdown (never as HTML)."""
    for index, message in enumerate(messages):
        with st.chat_message(message.role.value, avatar=_avatar(message.role)):
            facts = [message.participant_name or message.role.value]
            if message.role == MessageRole.ASSISTANT and message.weight == 0:
                facts.append("context only (weight 0)")
            if index < len(times) and times[index]:
                facts.append(str(times[index]))
            # An imported participant's name is text from the file too.
            st.caption(without_images(" · ".join(facts)))
            st.markdown(without_images(message.content))

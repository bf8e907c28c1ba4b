"""Notifications: compilation ended, rollback, budget reached; mark them as read."""

from __future__ import annotations

import streamlit as st

from core.services import accounts
from ui import context, notify_settings
from ui.errors import attempt, errors_shown
from ui.formatting import when
from ui.links import page_link

actor = context.actor()
st.title("Notifications")
notify_settings.opt_ins(actor)
notify_settings.webhooks(actor)

KIND_ICONS = {
    "compilation_ended": ":material/model_training:",
    "rollback": ":material/undo:",
    "budget_reached": ":material/savings:",
}

show_all = st.toggle("Show read ones too", value=False, key="notifications_all")
items = attempt(lambda: accounts.list_notifications(context.uow(), actor, unread_only=not show_all))
if items is not None:
    unread = [n.id for n in items if not n.is_read]
    if unread and st.button(
        f"Mark all {len(unread)} as read", icon=":material/done_all:", key="notifications_all_read"
    ):
        with errors_shown():
            accounts.mark_read(context.uow(), actor, None)
            st.rerun()
    if not items:
        st.info("Nothing new." if not show_all else "No notifications yet.")
    for n in items:
        with st.container(border=True):
            text, action = st.columns([5, 1])
            with text:
                st.markdown(("" if n.is_read else "**New** · ") + when(n.created_at))
                # User-supplied names may appear in the text: st.text never renders markup.
                st.text(n.text)
                if n.link:
                    page_link(n.link, "Open", icon=KIND_ICONS.get(n.kind, ":material/open_in_new:"))
            if not n.is_read and action.button(
                "Mark read", key=f"notification_read_{n.id}", icon=":material/done:"
            ):
                with errors_shown():
                    accounts.mark_read(context.uow(), actor, [n.id])
                    st.rerun()

"""The sidebar every signed-in page shares: who is signed in, notifications, signing out."""

from __future__ import annotations

import streamlit as st

from core.permissions import Actor
from core.services import accounts
from ui import context
from ui.errors import attempt


def render(actor: Actor) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{actor.display_name or actor.email}** · {actor.role.value}")
        unread = attempt(lambda: accounts.unread_count(context.uow(), actor)) or 0
        # The navigation lists the page already; this link is the badge for news.
        if unread:
            st.page_link(
                "pages/notifications.py",
                label=f"Notifications ({unread} unread)",
                icon=":material/notifications_active:",
            )
        if st.button("Sign out", icon=":material/logout:", key="sidebar_sign_out"):
            sso = bool(getattr(st.user, "is_logged_in", False))
            context.sign_out()
            if sso:
                st.logout()
            st.rerun()

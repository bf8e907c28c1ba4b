"""The sidebar every signed-in page shares: who is signed in, and signing out."""

from __future__ import annotations

import streamlit as st

from core.permissions import Actor
from ui import context


def render(actor: Actor) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{actor.display_name or actor.email}** · {actor.role.value}")
        if st.button("Sign out", icon=":material/logout:", key="sidebar_sign_out"):
            sso = bool(getattr(st.user, "is_logged_in", False))
            context.sign_out()
            if sso:
                st.logout()
            st.rerun()

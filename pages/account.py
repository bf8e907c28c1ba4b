"""My account: profile and password."""

from __future__ import annotations

import streamlit as st

from core.services import accounts
from ui import context
from ui.errors import attempt, errors_shown

actor = context.actor()
st.title("My account")
profile = attempt(lambda: accounts.get_profile(context.uow(), actor))
if profile is not None:
    st.write(f"**{profile.display_name}** · {profile.email} · role: {profile.role.value}")
    if profile.has_password:
        with st.form("account_password", clear_on_submit=True):
            old = st.text_input(
                "Current password", type="password", autocomplete="current-password"
            )
            new = st.text_input(
                "New password (at least 10 characters)",
                type="password",
                autocomplete="new-password",
            )
            again = st.text_input(
                "New password again", type="password", autocomplete="new-password"
            )
            change = st.form_submit_button("Change password", type="primary")
        if change:
            if new != again:
                st.error("The two new passwords differ.")
            else:
                with errors_shown():
                    accounts.change_own_password(
                        context.uow(), actor, old, new, keep_session=context.session_token()
                    )
                    st.success("Password changed. Your other sessions are signed out.")
    else:
        st.caption("You sign in through single sign-on; your password is managed there.")

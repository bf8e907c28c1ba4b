"""Sign in: with a local account, or through single sign-on when it is configured."""

from __future__ import annotations

import streamlit as st

from core import config
from core.errors import ArbiterError
from core.services import accounts
from ui import context
from ui.errors import show_error


def _sso_provider() -> tuple[bool, str | None]:
    section = config.secrets_section("auth")
    if not section:
        return False, None
    named = [key for key, value in section.items() if isinstance(value, dict)]
    return True, (named[0] if len(named) == 1 else None)


sso_enabled, sso_provider = _sso_provider()
if sso_enabled and getattr(st.user, "is_logged_in", False):
    try:
        context.sign_in(accounts.log_in_with_sso(context.uow(), str(st.user.get("email", ""))))
        st.rerun()
    except ArbiterError as exc:
        show_error(exc)
        if st.button("Sign out of single sign-on"):
            st.logout()

# The form lives in one slot that is emptied the moment the sign-in succeeds: otherwise the
# filled form stayed on screen under the first page's title while that page ran.
slot = st.empty()
with slot.container():
    st.title("Arbiter Studio")
    st.caption("Fine-tune your company's AI arbiters, and use them in chat.")
    with st.form("login", border=True):
        email = st.text_input("E-mail", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
if submitted:
    try:
        context.sign_in(accounts.log_in(context.uow(), email, password))
    except ArbiterError as exc:
        show_error(exc)
    else:
        slot.empty()
        st.rerun()

if sso_enabled:
    st.divider()
    if st.button("Sign in with single sign-on", icon=":material/key:"):
        st.login(sso_provider) if sso_provider else st.login()

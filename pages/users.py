"""Users: add accounts, change roles, disable, unlock, reset passwords (admins only)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.domain import Role
from core.services import accounts
from ui import context
from ui.errors import attempt, errors_shown
from ui.formatting import when

actor = context.actor()
st.title("Users")
st.caption(
    "Admins configure models, connections and users; trainers edit training data, chat and "
    "compile; managers read everything and follow history, cost and quality."
)

rows = attempt(lambda: accounts.list_users(context.uow(), actor)) or []
st.dataframe(
    pd.DataFrame(
        [
            {
                "E-mail": u.email,
                "Name": u.display_name,
                "Role": u.role.value,
                "Active": "yes" if u.is_active else "no (disabled)",
                "Sign-in": "password" if u.has_password else "single sign-on only",
                "Locked until": when(u.locked_until) if u.locked_until else "not locked",
                "Last sign-in": when(u.last_login_at) if u.last_login_at else "never",
            }
            for u in rows
        ]
    ),
    hide_index=True,
    width="stretch",
)

roles = list(Role)
with st.expander("Add a user", icon=":material/person_add:"):
    with st.form("users_add", clear_on_submit=True):
        email = st.text_input("E-mail")
        name = st.text_input("Display name")
        role = st.selectbox("Role", roles, format_func=lambda r: r.value)
        sso_only = st.checkbox("Single sign-on only (no password)")
        add = st.form_submit_button("Add user", type="primary")
    if add:
        with errors_shown():
            created = accounts.create_user(
                context.uow(), actor, email, name, role, generate_password=not sso_only
            )
            st.success(f"Added {created.user.email} as {created.user.role.value}.")
            if created.generated_password:
                st.info("Their first password is shown once; pass it on securely:")
                st.code(created.generated_password, language=None)

by_id = {u.id: u for u in rows}
picked = st.selectbox(
    "Edit a user", list(by_id), format_func=lambda i: by_id[i].email, index=None, key="users_pick"
)
if picked is not None:
    user = by_id[picked]
    prefix = f"user_{user.id}_v{user.row_version}"
    with st.form(f"{prefix}_form"):
        display_name = st.text_input("Display name", value=user.display_name)
        new_role = st.selectbox(
            "Role", roles, index=roles.index(user.role), format_func=lambda r: r.value
        )
        active = st.checkbox("Active (may sign in)", value=user.is_active)
        save = st.form_submit_button("Save", type="primary")
    if save:
        with errors_shown():
            accounts.update_user(
                context.uow(),
                actor,
                user.id,
                display_name=display_name,
                role=new_role,
                is_active=active,
                expected_version=user.row_version,
            )
            st.toast("Saved.")
            st.rerun()
    c1, c2 = st.columns(2)
    if c1.button("Reset password", key=f"{prefix}_reset"):
        with errors_shown():
            password = accounts.reset_password(context.uow(), actor, user.id)
            st.info("New password, shown once; pass it on securely:")
            st.code(password, language=None)
    if user.locked_until and c2.button("Unlock", key=f"{prefix}_unlock"):
        with errors_shown():
            accounts.unlock_user(context.uow(), actor, user.id)
            st.rerun()

"""A message that survives the rerun after an action ("Saved", "Approved: …"), shown once."""

from __future__ import annotations

from typing import Literal

import streamlit as st

Kind = Literal["success", "info", "warning"]
_KEY = "flash_messages"


def flash(message: str, kind: Kind = "success", scope: str = "") -> None:
    st.session_state.setdefault(_KEY, []).append((scope, kind, message))


def show_flash(scope: str = "") -> None:
    kept = []
    for item_scope, kind, message in st.session_state.get(_KEY, []):
        if item_scope != scope:
            kept.append((item_scope, kind, message))
            continue
        {"success": st.success, "info": st.info, "warning": st.warning}[kind](message)
    st.session_state[_KEY] = kept

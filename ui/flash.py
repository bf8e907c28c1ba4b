"""A message that survives the rerun after an action ("Saved", "Approved: …"), shown once."""

from __future__ import annotations

from typing import Literal

import streamlit as st

Kind = Literal["success", "info", "warning"]
_KEY = "flash_messages"


def flash(message: str, kind: Kind = "success", scope: str = "") -> None:
    st.session_state.setdefault(_KEY, []).append((scope, kind, message))


def show_flash(scope: str = "") -> None:
    """The messages of ``scope``, in a container that is there with or without them: a
    message shown once must not move what follows it in the page's element tree, or
    Streamlit draws that anew on the next run (an open tab fell back to the first one when
    "Rejected." went away)."""
    kept = []
    with st.container():
        for item_scope, kind, message in st.session_state.get(_KEY, []):
            if item_scope != scope:
                kept.append((item_scope, kind, message))
                continue
            {"success": st.success, "info": st.info, "warning": st.warning}[kind](message)
    st.session_state[_KEY] = kept

"""Arbiter Studio's web server: the Streamlit app (``app.py``) plus the one route of our own,
which sets the sign-in cookie so that page scripts cannot read it (ui/session_cookie.py).

    python -m streamlit run server.py      (what `make run` does)
"""

from __future__ import annotations

import streamlit as st

from ui.session_cookie import ROUTES

app = st.App("app.py", routes=ROUTES)

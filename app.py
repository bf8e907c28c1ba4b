"""Arbiter Studio: entry point. Signs users in and shows each role only its pages."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from ui import context, sidebar
from ui.errors import show_error
from ui.navigation import pages_for

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
# A file of our own: a Material icon as page icon is fetched from a font CDN at run time,
# which an intranet without internet access never shows.
ICON = str(Path(__file__).parent / "ui" / "assets" / "icon.png")
st.set_page_config(page_title="Arbiter Studio", page_icon=ICON, layout="wide")
context.start_background_work()

actor = context.current_actor()
if actor is None:
    navigation = st.navigation(
        [st.Page("pages/login.py", title="Sign in", icon=":material/login:")]
    )
else:
    sections: dict[str, list[st.Page]] = {}
    for spec in pages_for(actor):
        sections.setdefault(spec.section, []).append(
            st.Page(spec.path, title=spec.title, icon=spec.icon)
        )
    # Every page in view: an admin's Audit, Notifications and My account hid behind "View more".
    navigation = st.navigation(sections, expanded=True)
    sidebar.render(actor)

context.sync_cookie()
try:
    navigation.run()
except Exception as exc:
    show_error(exc)

"""Links stored by the services as "pages/x.py?key=value", opened through the navigation."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import streamlit as st
from streamlit.errors import StreamlitAPIException


def split_link(link: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(link)
    return parts.path, dict(parse_qsl(parts.query))


def page_link(link: str | None, label: str, *, icon: str | None = None) -> None:
    """A link to another page with its query parameters; plain text when that page is not
    available to this user (or not part of the app yet)."""
    if not link:
        st.markdown(label)
        return
    path, params = split_link(link)
    try:
        st.page_link(path, label=label, icon=icon, query_params=params or None)
    except (StreamlitAPIException, KeyError, ValueError):
        st.markdown(label)

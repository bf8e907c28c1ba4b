"""Links stored by the services as "pages/x.py?key=value", opened through the navigation."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core.training.builder import SourceRef


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


def record_url(ref: SourceRef) -> str | None:
    """A relative URL of the page that shows a training record (for link columns of
    tables), or None for a line of a file."""
    if ref.kind == "qa":
        return f"qas?model={ref.model_id}&qa={ref.record_id}"
    if ref.kind == "conversation":
        return f"conversations?model={ref.model_id}&conversation={ref.record_id}"
    return None


def record_link(ref: SourceRef) -> str | None:
    """The same as a page link ("pages/x.py?...") for ``page_link``."""
    url = record_url(ref)
    if url is None:
        return None
    page, _, query = url.partition("?")
    return f"pages/{page}.py?{query}"

"""A compact pager (Previous · page N of M · Next) for lists paged by the database, in
place of a full-width number input; and opening a row of a table by clicking it."""

from __future__ import annotations

from typing import Any

import streamlit as st


def current(key: str) -> int:
    """The page shown (1-based), as the controls left it."""
    return max(1, int(st.session_state.get(key, 1)))


def reset(key: str) -> None:
    st.session_state[key] = 1


def _go(key: str, page: int) -> None:
    st.session_state[key] = page


def controls(key: str, total: int, size: int) -> None:
    """Previous and Next around "page N of M"; nothing when everything fits on one page."""
    pages = max(1, -(-total // size))
    page = current(key)
    if page > pages:  # the filter shrank the list under the page shown
        st.session_state[key] = pages
        st.rerun()
    if pages == 1:
        return
    with st.container(horizontal=True, vertical_alignment="center", key=f"{key}_pager"):
        st.button(
            "Previous",
            icon=":material/chevron_left:",
            key=f"{key}_prev",
            disabled=page <= 1,
            on_click=_go,
            args=(key, page - 1),
        )
        st.markdown(f"Page **{page:,}** of {pages:,}", width="content")
        st.button(
            "Next",
            icon=":material/chevron_right:",
            key=f"{key}_next",
            disabled=page >= pages,
            on_click=_go,
            args=(key, page + 1),
        )


def picked_row(event: Any, ids: list[int], last_key: str) -> int | None:
    """The id of a row just clicked in an ``st.dataframe(on_select="rerun")``, once: the
    same row still selected on the next run does not open it again (so closing it stays
    closed)."""
    rows = list(getattr(getattr(event, "selection", None), "rows", None) or [])
    chosen = ids[rows[0]] if rows and rows[0] < len(ids) else None
    fresh = chosen is not None and chosen != st.session_state.get(last_key)
    st.session_state[last_key] = chosen
    return chosen if fresh else None

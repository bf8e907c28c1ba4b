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


# A click on any cell opens its row, as a person expects of a list; the row markers (the
# checkboxes on the left) select the row too. Row selection alone opened a row only from
# its checkbox: a click on the title did nothing.
ROW_CLICK: list[Any] = ["single-row", "single-cell"]


def picked_row(event: Any, ids: list[int], last_key: str) -> int | None:
    """The id of a row just clicked in an ``st.dataframe(on_select="rerun",
    selection_mode=ROW_CLICK)`` (its row marker or any of its cells), once: the same click
    still selected on the next run does not open it again (so closing it stays closed)."""
    selection = getattr(event, "selection", None)
    rows = list(getattr(selection, "rows", None) or [])
    cells = list(getattr(selection, "cells", None) or [])
    picked = rows[0] if rows else (int(cells[0][0]) if cells else None)
    chosen = ids[picked] if picked is not None and 0 <= picked < len(ids) else None
    clicked = (tuple(rows), tuple(tuple(c) for c in cells)) if chosen is not None else None
    fresh = clicked is not None and clicked != st.session_state.get(last_key)
    st.session_state[last_key] = clicked
    return chosen if fresh else None

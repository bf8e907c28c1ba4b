"""Charts that can also be downloaded: every chart on a page comes with its data as CSV."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd
import streamlit as st

from core.csv_export import frame_to_csv

AnyChart = alt.Chart | alt.LayerChart | alt.FacetChart | alt.HConcatChart | alt.VConcatChart


def has_figures(frame: pd.DataFrame, values: Sequence[str] = ()) -> bool:
    """Whether a chart would show anything: rows, and in ``values`` something but zeros and
    gaps (26 weeks of zeros is an empty chart that looks like a broken one)."""
    if frame.empty:
        return False
    for column in values:
        numbers = pd.to_numeric(frame[column], errors="coerce").fillna(0)
        if not numbers.abs().sum():
            return False
    return True


def from_first_figure(frame: pd.DataFrame, column: str, by: str) -> pd.DataFrame:
    """The rows from the first ``by`` (a week) where ``column`` is not zero: a chart starts
    where things began instead of with months of nothing."""
    numbers = pd.to_numeric(frame[column], errors="coerce").fillna(0)
    started = frame.loc[numbers != 0, by]
    return frame if started.empty else frame[frame[by] >= started.min()]


def empty_state(text: str) -> None:
    """What will appear here and how to get there, where a chart has nothing to show yet."""
    st.info(text, icon=":material/insights:")


def downloadable(
    chart: AnyChart,
    frame: pd.DataFrame,
    name: str,
    *,
    empty: str = "No data yet.",
    values: Sequence[str] = (),
) -> None:
    """Show a chart and, under it, a button that downloads the figures behind it as CSV;
    where there is nothing to show, say what will appear and how (``empty``)."""
    if not has_figures(frame, values):
        empty_state(empty)
        return
    st.altair_chart(chart, width="stretch")
    st.download_button(
        "Download CSV",
        data=frame_to_csv(frame),
        file_name=f"{name}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"csv_{name}",
        on_click="ignore",
    )

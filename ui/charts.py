"""Charts that can also be downloaded: every chart on a page comes with its data as CSV."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from core.csv_export import frame_to_csv

AnyChart = alt.Chart | alt.LayerChart | alt.FacetChart | alt.HConcatChart | alt.VConcatChart


def downloadable(
    chart: AnyChart, frame: pd.DataFrame, name: str, *, empty: str = "No data yet."
) -> None:
    """Show a chart and, under it, a button that downloads the figures behind it as CSV."""
    if frame.empty:
        st.caption(empty)
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

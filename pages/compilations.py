"""Compilations: live progress of running ones, the history (filtered and paged by the
database, newest first), and one compilation in full."""

from __future__ import annotations

import contextlib
from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from core.domain import CompilationStatus, utcnow
from core.services import history
from core.services.history import HistoryFilter, Progress
from ui import compilation_tabs, context, pager
from ui.errors import attempt
from ui.formatting import duration, money, plural, status_badge, status_label, when
from ui.links import page_link

actor = context.actor()
PAGE_SIZE = 50
SELECTED = "compilations_selected"
WATCHED = "compilations_watched"
ACTIVE_BEFORE = "compilations_active_before"
LIVE_EVERY = "2s"

st.title("Compilations")

if "compilation" in st.query_params:
    with contextlib.suppress(ValueError):
        st.session_state[SELECTED] = int(st.query_params["compilation"])


def _select(compilation_id: int | None) -> None:
    st.session_state[SELECTED] = compilation_id
    if compilation_id is None:
        st.query_params.pop("compilation", None)
    else:
        st.query_params["compilation"] = str(compilation_id)


def _progress_card(p: Progress, *, key: str) -> None:
    with st.container(border=True):
        top, button = st.columns([5, 1])
        top.markdown(f"**{p.model_name}** · compilation #{p.id} · {status_badge(p.status)}")
        if p.is_active:
            st.progress(
                (p.step - 0.5) / p.step_count,
                text=f"Step {p.step} of {p.step_count}: {p.status.value}"
                + (f" (provider: {p.provider_status})" if p.provider_status else "")
                + (" · cancelling…" if p.cancel_requested else ""),
            )
        elif p.outcome:
            st.caption(p.outcome)
        facts = [f"elapsed {duration(p.elapsed_seconds)}"]
        if p.is_active and p.estimated_finish_at:
            left = (p.estimated_finish_at - utcnow()).total_seconds()
            facts.append(
                f"provider's estimated finish {when(p.estimated_finish_at)}"
                + (f" (in {duration(left)})" if left > 0 else "")
            )
        if p.finished_at:
            facts.append(f"finished {when(p.finished_at)}")
        st.caption(" · ".join(facts))
        if p.latest_events:
            st.dataframe(
                pd.DataFrame(
                    [
                        {"Time": when(e.created_at), "Level": e.level, "Event": e.message}
                        for e in p.latest_events[:5]
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
        if button.button("Details", key=f"{key}_open_{p.id}", icon=":material/open_in_new:"):
            _select(p.id)
            st.rerun()


def _live_panel() -> None:
    """Running compilations, refreshed every few seconds without rerunning the page; one that
    has just finished stays with its final status, and the page then refreshes once."""
    watched: list[int] = st.session_state.get(WATCHED, [])
    progress = attempt(lambda: history.compilation_progress(context.uow(), actor, watched))
    if progress is None:
        return
    active = {p.id for p in progress if p.is_active}
    before: set[int] = st.session_state.get(ACTIVE_BEFORE, set())
    st.session_state[WATCHED] = sorted(set(watched) | active)
    st.session_state[ACTIVE_BEFORE] = active
    if not progress:
        st.caption("No compilation is running. New ones appear here as they start.")
    for p in progress:
        _progress_card(p, key="live")
    if progress and not active and st.button("Clear finished", key="live_clear"):
        st.session_state[WATCHED] = []
        st.rerun()
    if before - active:
        # Something finished: refresh the history and the detail below it too.
        st.rerun()


st.subheader("Running now")
st.fragment(run_every=LIVE_EVERY)(_live_panel)()


# --- one compilation in full --------------------------------------------------------------


def _detail_live(compilation_id: int) -> None:
    found = attempt(
        lambda: history.compilation_progress(
            context.uow(), actor, [compilation_id], include_active=False
        )
    )
    if not found:
        return
    _progress_card(found[0], key="detail")
    if not found[0].is_active:
        st.rerun()


def _detail(compilation_id: int) -> None:
    d = attempt(lambda: history.get_compilation(context.uow(), actor, compilation_id))
    if d is None:
        if st.button("Back to all compilations", key="detail_back_missing"):
            _select(None)
            st.rerun()
        return
    head, back = st.columns([5, 1])
    head.subheader(f"Compilation #{d.id} · {d.model_name} · {status_badge(d.status)}")
    if back.button("Close", icon=":material/close:", key="detail_close"):
        _select(None)
        st.rerun()
    page_link(
        f"pages/models.py?model={d.model_id}",
        f"Open model {d.model_name}",
        icon=":material/account_tree:",
    )
    if d.is_active:
        st.fragment(run_every=LIVE_EVERY)(_detail_live)(d.id)
    tabs = st.tabs(
        [
            "Summary",
            "Build log",
            f"Validation report ({len(d.findings)})",
            f"Events ({d.event_count:,})",
            "Training metrics",
            "Dataset",
            "Downloads",
        ]
    )
    with tabs[0]:
        compilation_tabs.summary_tab(d)
    with tabs[1]:
        st.code(d.build_log or "(empty)", language=None, wrap_lines=True)
    with tabs[2]:
        compilation_tabs.findings_tab(d)
    with tabs[3]:
        compilation_tabs.events_tab(actor, d)
    with tabs[4]:
        compilation_tabs.metrics_tab(actor, d)
    with tabs[5]:
        compilation_tabs.dataset_tab(d)
    with tabs[6]:
        compilation_tabs.downloads_tab(actor, d)


# --- the history ---------------------------------------------------------------------------

st.subheader("History")
facets = attempt(lambda: history.history_facets(context.uow(), actor))
models = dict(facets.models) if facets else {}
people = dict(facets.requesters) if facets else {}
f1, f2, f3, f4, f5 = st.columns([2, 2, 2, 1, 1])
model_id = f1.selectbox(
    "Model",
    [None, *models],
    format_func=lambda i: "all models" if i is None else models[i],
    key="hist_model",
)
statuses = f2.multiselect(
    "Status",
    list(CompilationStatus),
    format_func=status_label,
    key="hist_status",
    placeholder="any status",
)
requester = f3.selectbox(
    "Requested by",
    [None, *people],
    format_func=lambda i: "anyone" if i is None else people[i],
    key="hist_requester",
)
since = f4.date_input("From", value=None, key="hist_since")
until = f5.date_input("To", value=None, key="hist_until")
filters = HistoryFilter(
    model_id=model_id,
    statuses=tuple(statuses),
    requested_by_id=requester,
    since=datetime.combine(since, time.min).astimezone() if since else None,
    until=datetime.combine(until + timedelta(days=1), time.min).astimezone() if until else None,
)
page_number = pager.current("hist_page")
result = attempt(
    lambda: history.list_compilations(
        context.uow(), actor, filters, offset=(int(page_number) - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
)
if result is not None:
    pages = max(1, -(-result.total // PAGE_SIZE))
    if page_number > pages:
        st.session_state["hist_page"] = 1
        st.rerun()
    table = pd.DataFrame(
        [
            {
                "#": r.id,
                "Model": r.model_name,
                "Status": status_label(r.status)
                + (" · config-only" if r.config_only else "")
                + (" · forced" if r.forced else ""),
                "Requested by": r.requested_by or "the system",
                "Requested": r.created_at,
                "Duration": duration(r.duration_seconds),
                "Examples": f"{r.example_count:,}" if r.example_count is not None else "",
                "Est. cost": money(r.cost_estimate, missing=""),
                "Score": f"{r.validation_score:.3f}" if r.validation_score is not None else "",
                "Version": f"v{r.version_number}" if r.version_number else "",
                "Outcome": r.outcome,
            }
            for r in result.rows
        ],
        columns=[
            "#",
            "Model",
            "Status",
            "Requested by",
            "Requested",
            "Duration",
            "Examples",
            "Est. cost",
            "Score",
            "Version",
            "Outcome",
        ],
    )
    st.caption(
        f"{plural(result.total, 'compilation')} match; newest first; page {int(page_number)} of {pages}. "
        "Select a row to see it in full."
    )
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode=pager.ROW_CLICK,
        key=f"hist_table_{page_number}",
        column_config={
            "Requested": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )
    # Only a new pick opens a compilation, so that closing it is not undone by the same row.
    chosen = pager.picked_row(event, [int(n) for n in table["#"]], "hist_last_pick")
    if chosen is not None:
        _select(chosen)
    pager.controls("hist_page", result.total, PAGE_SIZE)

selected = st.session_state.get(SELECTED)
if selected is not None:
    st.divider()
    _detail(int(selected))

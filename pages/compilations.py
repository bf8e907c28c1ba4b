"""Compilations: live progress of running ones, the history (filtered and paged by the
database, newest first), and one compilation in full."""

from __future__ import annotations

import contextlib
from datetime import datetime, time, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from core.domain import CompilationStatus, utcnow
from core.services import history
from core.services.history import CompilationDetail, HistoryFilter, Progress
from ui import context
from ui.charts import downloadable
from ui.errors import attempt
from ui.formatting import duration, money, status_label, when
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
        top.markdown(f"**{p.model_name}** · compilation #{p.id} · {status_label(p.status)}")
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


def _status_notice(d: CompilationDetail) -> None:
    if d.status == CompilationStatus.FAILED:
        st.error(
            "This compilation failed; the previous version stays active. The full error:",
            icon=":material/error:",
        )
        st.code(d.error or "(the engine recorded no error text)", language=None, wrap_lines=True)
    elif d.status == CompilationStatus.CANCELLED:
        st.warning(
            "Cancelled; the previous version stays active." + (f" {d.reason}" if d.reason else ""),
            icon=":material/block:",
        )
    elif d.status == CompilationStatus.SKIPPED:
        st.info(f"Skipped: {d.reason or 'nothing changed since the active version.'}")
    elif d.config_only and d.status == CompilationStatus.SUCCEEDED:
        st.info(
            "Config-only version: no training data, so no fine-tuning job ran; the version "
            "answers with the base model and the system message."
            + (f" {d.reason}" if d.reason else "")
        )
    elif d.status == CompilationStatus.SUCCEEDED:
        made = f" It made version {d.version.number}." if d.version else ""
        st.success(f"Succeeded.{made}" + (f" {d.reason}" if d.reason else ""))


def _summary(d: CompilationDetail) -> None:
    _status_notice(d)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Requested by", d.requested_by or "—", help=f"at {when(d.created_at)}")
    c2.metric("Duration", duration(d.duration_seconds))
    c3.metric("Version", f"v{d.version.number}" if d.version else "none")
    c4.metric("Base model", d.base_model or "—")

    st.markdown("**Cost**: estimated before training against what the provider trained")
    k1, k2, k3, k4 = st.columns(4)
    k1.metric(
        "Estimated billed tokens",
        f"{d.billed_tokens_estimate:,}" if d.billed_tokens_estimate else "—",
    )
    trained_delta = (
        d.trained_tokens - d.billed_tokens_estimate
        if d.trained_tokens is not None and d.billed_tokens_estimate
        else None
    )
    k2.metric(
        "Trained tokens",
        f"{d.trained_tokens:,}" if d.trained_tokens is not None else "—",
        delta=f"{trained_delta:+,} vs estimate" if trained_delta is not None else None,
        delta_color="off",
    )
    k3.metric("Estimated cost", money(d.cost_estimate))
    actual = d.actual_cost_or_computed
    cost_delta = (
        actual - d.cost_estimate if actual is not None and d.cost_estimate is not None else None
    )
    k4.metric(
        "Actual cost",
        money(actual),
        delta=f"{cost_delta:+.4f} vs estimate" if cost_delta is not None else None,
        delta_color="inverse",
        help="The provider's cost where it reported one, else the trained tokens at the "
        "connection's price per 1M tokens.",
    )

    st.markdown("**Quality**: validation Q&As asked to the new version")
    q1, q2 = st.columns(2)
    previous = d.previous_version
    q1.metric(
        "Validation score",
        f"{d.validation_score:.3f}" if d.validation_score is not None else "—",
        delta=f"{d.score_change:+.3f} vs v{previous.number}"
        if d.score_change is not None and previous
        else None,
    )
    q2.metric(
        "Previous version's score",
        f"{previous.validation_score:.3f}"
        if previous and previous.validation_score is not None
        else "—",
        help=f"v{previous.number} ({previous.provider_model_id})"
        if previous
        else "no earlier version",
    )
    facts = {
        "Status": d.status.value
        + (f" (provider: {d.provider_status})" if d.provider_status else ""),
        "Requested": when(d.created_at),
        "Started": when(d.started_at),
        "Finished": when(d.finished_at),
        "Forced": "yes" if d.forced else "no",
        "Budget override": "yes" if d.budget_override else "no",
        "Examples": f"{d.example_count:,}" if d.example_count is not None else "—",
        "Tokens": f"{d.token_count:,}" if d.token_count is not None else "—",
        "Dataset hash": d.dataset_hash or "—",
        "Provider file": d.provider_file_id or "—",
        "Provider job": d.provider_job_id or "—",
        "Provider model": d.provider_model or "—",
    }
    st.dataframe(
        pd.DataFrame({"Fact": list(facts), "Value": list(facts.values())}),
        hide_index=True,
        width="stretch",
    )


def _findings(d: CompilationDetail) -> None:
    if not d.findings:
        st.caption(
            "The validation found nothing to report."
            if d.error_count + d.warning_count == 0
            else "The report lists no individual findings."
        )
        return
    st.caption(
        f"{d.error_count:,} error(s) and {d.warning_count:,} warning(s)"
        + (
            " (the first of each kind are listed)."
            if len(d.findings) < d.error_count + d.warning_count
            else "."
        )
    )
    for f in d.findings[:300]:
        icon = "🛑" if f.severity == "error" else "⚠️"
        with st.container(border=True):
            st.markdown(f"{icon} **{f.where}**")
            # The message may quote training text: st.text never renders it as markup.
            st.text(f.message)
            for record in [r for r in f.records if r.link][:5]:
                page_link(record.link, f"Open {record.label}", icon=":material/open_in_new:")
    if len(d.findings) > 300:
        st.caption(f"… and {len(d.findings) - 300:,} more in the downloadable report.")


def _events(d: CompilationDetail) -> None:
    if d.event_count == 0:
        st.caption("No events recorded.")
        return
    pages = max(1, -(-d.event_count // 200))
    number = st.number_input("Page (newest first)", 1, pages, 1, key=f"events_page_{d.id}")
    page = attempt(
        lambda: history.list_events(
            context.uow(), actor, d.id, offset=(int(number) - 1) * 200, limit=200
        )
    )
    if page is None:
        return
    st.caption(f"{page.total:,} events; page {int(number)} of {pages}.")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Time": when(e.created_at),
                    "Level": e.level,
                    "Type": e.event_type,
                    "Message": e.message,
                }
                for e in page.rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )


def _metrics(d: CompilationDetail) -> None:
    frame = attempt(lambda: history.training_metrics(context.uow(), actor, d.id))
    if frame is None:
        return
    if frame.empty:
        st.caption(
            "No training metrics: the provider reported none (the local provider builds a "
            "retrieval index and has no loss; skipped and config-only compilations do not train)."
        )
        return
    for title, word in (("Loss", "loss"), ("Token accuracy", "accuracy")):
        part = frame[frame["metric"].str.contains(word)]
        chart = (
            alt.Chart(part, title=f"{title} per step")
            .mark_line(point=True)
            .encode(
                x=alt.X("step:Q", title="Step"),
                y=alt.Y("value:Q", title=title),
                color=alt.Color("metric:N", title="Metric"),
                tooltip=["step", "metric", alt.Tooltip("value:Q", format=".4f"), "source"],
            )
        )
        downloadable(chart, part, f"compilation-{d.id}-{word}", empty=f"No {word} figures.")


def _dataset(d: CompilationDetail) -> None:
    stats = d.dataset_stats
    m1, m2, m3 = st.columns(3)
    examples = stats.get("examples", d.example_count)
    tokens = stats.get("tokens", d.token_count)
    m1.metric("Examples", f"{examples:,}" if isinstance(examples, int) else "—")
    m2.metric("Tokens", f"{tokens:,}" if isinstance(tokens, int) else "—")
    m3.metric("Epochs", str(stats.get("n_epochs") or stats.get("epochs") or "auto"))
    per_source = history.examples_per_source(stats)
    if not per_source.empty:
        st.markdown("**Examples per source model** (the hierarchy's contribution)")
        chart = (
            alt.Chart(per_source)
            .mark_bar()
            .encode(
                x=alt.X("Examples:Q"),
                y=alt.Y("Source model:N", sort="-x"),
                color=alt.Color("Relation:N"),
                tooltip=list(per_source.columns),
            )
        )
        downloadable(chart, per_source, f"compilation-{d.id}-sources")
    st.markdown("**Against the previous version's training set**")
    diff = d.diff_summary
    if not diff:
        st.caption("No difference was recorded for this compilation.")
        return
    numbers = {k: v for k, v in diff.items() if isinstance(v, int) and not isinstance(v, bool)}
    if numbers:
        for column, (name, value) in zip(st.columns(len(numbers)), numbers.items(), strict=True):
            column.metric(name.replace("_", " ").capitalize(), f"{value:,}")
    named = history.diff_records(diff)
    if named:
        with st.expander(f"The records that changed ({len(named):,} listed)"):
            for change, record in named[:300]:
                left, right = st.columns([1, 4])
                left.markdown(f"**{change}**")
                with right:
                    page_link(record.link, record.label)


def _downloads(d: CompilationDetail) -> None:
    offered = [a for a in d.assets]
    if d.build_log and not any(a.kind == "build_log" for a in offered):
        st.download_button(
            "Build log",
            data=d.build_log.encode("utf-8"),
            file_name=f"compilation-{d.id}-build-log.txt",
            mime="text/plain",
            icon=":material/download:",
            key=f"dl_{d.id}_build_log",
            on_click="ignore",
        )
    if not offered and not d.build_log:
        st.caption("Nothing was stored for this compilation.")
    for asset in offered:
        kind = asset.kind

        def fetch(kind: str = kind) -> bytes:
            return history.get_asset(context.uow(), actor, d.id, kind).content

        label = {
            "training_file": "Training set (JSONL)",
            "build_log": "Build log",
            "validation_report": "Validation report",
            "manifest": "Sources of each line (JSON)",
            "metrics": "Provider's metrics (JSON)",
        }.get(kind, kind.replace("_", " ").capitalize())
        size = f"{asset.size_bytes:,} bytes" + (" compressed" if asset.compressed else "")
        st.download_button(
            f"{label} · {size}",
            data=fetch,
            file_name=asset.filename,
            mime=asset.media_type,
            icon=":material/download:",
            key=f"dl_{d.id}_{kind}",
            on_click="ignore",
        )


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
    head.subheader(f"Compilation #{d.id} · {d.model_name} · {status_label(d.status)}")
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
        _summary(d)
    with tabs[1]:
        st.code(d.build_log or "(empty)", language=None, wrap_lines=True)
    with tabs[2]:
        _findings(d)
    with tabs[3]:
        _events(d)
    with tabs[4]:
        _metrics(d)
    with tabs[5]:
        _dataset(d)
    with tabs[6]:
        _downloads(d)


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
page_number = st.session_state.get("hist_page", 1)
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
                "Requested by": r.requested_by or "—",
                "Requested": r.created_at,
                "Duration": duration(r.duration_seconds),
                "Examples": r.example_count,
                "Est. cost": float(r.cost_estimate) if r.cost_estimate is not None else None,
                "Score": r.validation_score,
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
        f"{result.total:,} compilation(s) match; newest first; page {int(page_number)} of {pages}. "
        "Select a row to see it in full."
    )
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=f"hist_table_{page_number}",
        column_config={
            "Requested": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Est. cost": st.column_config.NumberColumn(format="%.4f"),
            "Score": st.column_config.NumberColumn(format="%.3f"),
        },
    )
    rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
    chosen = int(table.iloc[rows[0]]["#"]) if rows else None
    # Only a new pick opens a compilation, so that closing it is not undone by the same row.
    if chosen is not None and chosen != st.session_state.get("hist_last_pick"):
        _select(chosen)
    st.session_state["hist_last_pick"] = chosen
    if pages > 1:
        st.number_input("Page", min_value=1, max_value=pages, step=1, key="hist_page")

selected = st.session_state.get(SELECTED)
if selected is not None:
    st.divider()
    _detail(int(selected))

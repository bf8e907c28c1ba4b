"""The tabs of one compilation in full on the Compilations page: summary, findings, events,
training metrics, dataset and downloads."""

from __future__ import annotations

from decimal import Decimal

import altair as alt
import pandas as pd
import streamlit as st

from core.domain import CompilationStatus
from core.permissions import Actor
from core.services import history
from core.services.history import CompilationDetail
from ui import context, pager
from ui.charts import downloadable
from ui.errors import attempt
from ui.formatting import duration, money, plural, when
from ui.links import page_link

EVENTS_PAGE = 200  # events a page, newest first


def status_notice(d: CompilationDetail) -> None:
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


def _cost_metrics(d: CompilationDetail) -> None:
    st.markdown("**Cost**: estimated before training against what the provider trained")
    k1, k2, k3, k4 = st.columns(4)
    k1.metric(
        "Estimated billed tokens",
        f"{d.billed_tokens_estimate:,}" if d.billed_tokens_estimate else "—",
    )
    k2.metric("Trained tokens", f"{d.trained_tokens:,}" if d.trained_tokens is not None else "—")
    k3.metric("Estimated cost", money(d.cost_estimate))
    actual = d.actual_cost_or_computed
    cost_delta = (
        actual - d.cost_estimate if actual is not None and d.cost_estimate is not None else None
    )
    # Only a difference worth a cent and 5 % of the estimate is one: "+0.0000" in red read
    # as an overspend that did not happen.
    meaningful = cost_delta is not None and abs(cost_delta) >= max(
        Decimal("0.01"), abs(d.cost_estimate or Decimal(0)) * Decimal("0.05")
    )
    k4.metric(
        "Actual cost",
        money(actual),
        delta=f"{money(cost_delta)} vs estimate" if meaningful and cost_delta is not None else None,
        delta_color="inverse",
        help="The provider's cost where it reported one, else the trained tokens at the "
        "connection's price per 1M tokens.",
    )
    explained = _epochs_note(d)
    if explained:
        st.caption(explained)


def _epochs_note(d: CompilationDetail) -> str | None:
    """Why trained tokens differ from the estimate: providers bill the file once per epoch,
    and with epochs on auto the provider chooses how many."""
    if not d.token_count or d.trained_tokens is None or not d.billed_tokens_estimate:
        return None
    assumed = d.billed_tokens_estimate / d.token_count
    ran = d.trained_tokens / d.token_count
    passes = (
        f"about {ran:,.1f} epochs"
        if ran >= 0.95
        else "less than one pass over the file: this provider counts tokens its own way "
        "(the offline local provider indexes answers and trains nothing)"
    )
    return (
        f"Billed tokens = the {d.token_count:,} tokens of the training file × the number of "
        f"epochs (passes over the file). The estimate assumed {assumed:,.1f} epochs "
        f"({d.billed_tokens_estimate:,} tokens); the provider trained {d.trained_tokens:,} "
        f"tokens, {passes}. With epochs on auto the provider chooses how many."
    )


def summary_tab(d: CompilationDetail) -> None:
    status_notice(d)
    c1, c2, c3 = st.columns(3)
    c1.metric(
        "Requested by",
        d.requested_by or "the system",
        help=f"at {when(d.created_at)}"
        + ("" if d.requested_by else "; no person asked for it (command line or scheduled)"),
    )
    c2.metric("Duration", duration(d.duration_seconds))
    c3.metric("Version", f"v{d.version.number}" if d.version else "none")
    # In full: a metric cuts long names such as gpt-4o-mini-2024-07-18 with an ellipsis.
    st.markdown(f"**Base model**: `{d.base_model}`" if d.base_model else "**Base model**: none")

    _cost_metrics(d)

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
    # A static table shows every row: a scrolling grid cut the facts mid-row.
    st.table(pd.DataFrame({"Fact": list(facts), "Value": list(facts.values())}).set_index("Fact"))


def findings_tab(d: CompilationDetail) -> None:
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
        badge = (
            ":red-badge[:material/error: error]"
            if f.severity == "error"
            else ":orange-badge[:material/warning: warning]"
        )
        with st.container(border=True):
            st.markdown(f"{badge} **{f.where}**")
            # The message may quote training text: st.text never renders it as markup.
            st.text(f.message)
            for record in [r for r in f.records if r.link][:5]:
                page_link(record.link, f"Open {record.label}", icon=":material/open_in_new:")
    if len(d.findings) > 300:
        st.caption(f"… and {len(d.findings) - 300:,} more in the downloadable report.")


def events_tab(actor: Actor, d: CompilationDetail) -> None:
    if d.event_count == 0:
        st.caption("No events recorded.")
        return
    pages = max(1, -(-d.event_count // EVENTS_PAGE))
    key = f"events_page_{d.id}"
    number = min(pager.current(key), pages)
    page = attempt(
        lambda: history.list_events(
            context.uow(), actor, d.id, offset=(number - 1) * EVENTS_PAGE, limit=EVENTS_PAGE
        )
    )
    if page is None:
        return
    st.caption(f"{plural(page.total, 'event')}, newest first; page {number:,} of {pages:,}.")
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
    pager.controls(key, page.total, EVENTS_PAGE)


def metrics_tab(actor: Actor, d: CompilationDetail) -> None:
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


def dataset_tab(d: CompilationDetail) -> None:
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


def downloads_tab(actor: Actor, d: CompilationDetail) -> None:
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

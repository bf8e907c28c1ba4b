"""The managers' dashboard: compilations, success, duration, cost against budgets, training
data and quality over time, and the deprecation radar. Every chart downloads as CSV."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from core.domain import ProviderType
from core.permissions import Permission
from core.services import catalog, history
from core.services.catalog import RETIREMENT_WINDOW_DAYS
from ui import context
from ui.charts import downloadable, empty_state, from_first_figure, has_figures
from ui.errors import attempt
from ui.formatting import currency as currency_name
from ui.formatting import duration, money
from ui.retirement import base_model_admin, wind_down_notice

actor = context.actor()
sees_costs = actor.can(Permission.VIEW_CONNECTIONS)
STATUS_COLOURS = {
    "succeeded": "#2e7d32",
    "failed": "#c62828",
    "cancelled": "#9e9e9e",
    "skipped": "#90caf9",
    "queued": "#ffb74d",
    "validating": "#ffa726",
    "uploading": "#fb8c00",
    "training": "#ef6c00",
}

# One band per week, labelled with its Monday: a time axis would place the bars between
# its own ticks, and stretch a single week across the whole chart. The weeks are UTC dates.
WEEK_AXIS = alt.X("week:O", timeUnit="utcyearmonthdate", title="Week")

st.title("Dashboard")
weeks = st.selectbox(
    "Period",
    [12, 26, 52, 104],
    index=1,
    format_func=lambda w: f"last {w} weeks",
    key="dashboard_weeks",
)

# --- deprecation flags first: they need action --------------------------------------------
in_use = attempt(lambda: catalog.base_models_in_use(context.uow(), actor)) or []
for row in in_use:
    if not row.flagged:
        continue
    deadlines = []
    if row.fine_tuning_ends is not None and row.fine_tuning_days_left is not None:
        ends = f"{row.fine_tuning_ends:%Y-%m-%d}"
        deadlines.append(
            f"takes no new fine-tuning jobs since {ends}"
            if row.fine_tuning_days_left < 0
            else f"takes new fine-tuning jobs until {ends} ({row.fine_tuning_days_left} days left)"
        )
    if row.shutdown_date is not None and row.days_left is not None:
        deadlines.append(
            f"was retired on {row.shutdown_date:%Y-%m-%d}"
            if row.days_left < 0
            else f"retires on {row.shutdown_date:%Y-%m-%d}, in {row.days_left} days"
        )
    if deadlines:
        st.warning(
            f"Base model **{row.base_model}** ({row.provider_type.value}) "
            f"{' and '.join(deadlines)}. Models on it: {', '.join(row.models)}. Move them to "
            "another connection (Models → Settings → Move) and compile before then.",
            icon=":material/event_busy:",
        )

# --- headline figures ---------------------------------------------------------------------
summary = attempt(lambda: history.dashboard_summary(context.uow(), actor, weeks))
if summary is not None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Compilations", f"{summary.total:,}", help=f"requested in the last {weeks} weeks")
    c2.metric(
        "Success rate",
        f"{summary.success_rate:.0%}" if summary.success_rate is not None else "none yet",
        help="Succeeded out of succeeded + failed; skipped and cancelled ones are left out.",
    )
    c3.metric(
        "Median duration",
        duration(summary.median_duration_seconds)
        if summary.median_duration_seconds is not None
        else "none yet",
        help="of successful ones",
    )
    running = sum(
        summary.by_status.get(s, 0) for s in ("queued", "validating", "uploading", "training")
    )
    c4.metric("Running now", f"{running:,}")

left, right = st.columns(2)
with left:
    st.subheader("Compilations per week")
    per_week = attempt(lambda: history.compilations_per_week(context.uow(), actor, weeks))
    if per_week is not None:
        per_week = from_first_figure(per_week, "compilations", "week")
        chart = (
            alt.Chart(per_week)
            .mark_bar()
            .encode(
                x=WEEK_AXIS,
                y=alt.Y(
                    "compilations:Q",
                    title="Compilations",
                    stack=True,
                    axis=alt.Axis(format="d", tickMinStep=1),
                ),
                color=alt.Color(
                    "status:N",
                    scale=alt.Scale(
                        domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values())
                    ),
                ),
                tooltip=["week:T", "status", "compilations"],
            )
        )
        downloadable(
            chart,
            per_week,
            "compilations-per-week",
            values=("compilations",),
            empty="Each week's compilations by outcome appear here once a trainer compiles a "
            "model (Models page, Compile tab).",
        )

with right:
    st.subheader("Success rate and median duration")
    outcomes = attempt(lambda: history.weekly_outcomes(context.uow(), actor, weeks))
    if outcomes is not None:
        # Local compilations take seconds: minutes would read 0.0000-0.0012.
        short = bool(outcomes["median_minutes"].dropna().max() < 2) if len(outcomes) else True
        unit = "seconds" if short else "minutes"
        outcomes = outcomes.assign(median=outcomes["median_minutes"] * (60 if short else 1)).round(
            {"median": 1}
        )
        base = alt.Chart(outcomes).encode(x=WEEK_AXIS)
        chart = alt.layer(
            base.mark_bar(opacity=0.35, color="#5c6bc0").encode(
                y=alt.Y(
                    "median:Q",
                    title=f"Median {unit} (successful)",
                    axis=alt.Axis(
                        format=".1f" if short else ",.0f", tickMinStep=0.1 if short else 1
                    ),
                ),
                tooltip=["week:T", alt.Tooltip("median:Q", format=".1f", title=unit)],
            ),
            base.mark_line(point=True, color="#2e7d32").encode(
                y=alt.Y(
                    "success_rate:Q",
                    title="Success rate",
                    axis=alt.Axis(format="%"),
                    scale=alt.Scale(domain=[0, 1]),
                ),
                tooltip=[
                    "week:T",
                    alt.Tooltip("success_rate:Q", format=".0%"),
                    "succeeded",
                    "failed",
                ],
            ),
        ).resolve_scale(y="independent")
        downloadable(
            chart,
            outcomes.drop(columns=["median"]),
            "success-and-duration",
            empty="The share of compilations that succeed, and how long they take, appear here "
            "once a compilation has succeeded or failed.",
        )

left, right = st.columns(2)
with left:
    st.subheader("Cost per month against the budget")
    if not sees_costs:
        st.caption("Costs and budgets are shown to managers and admins.")
    else:
        costs = attempt(lambda: history.cost_per_month(context.uow(), actor))
        billed = costs is not None and (
            has_figures(costs, ("cost",)) or bool(costs["budget"].notna().any())
        )
        if costs is not None and not billed:
            empty_state(
                "What compilations cost per month, against each connection's budget, appears "
                "here once a model compiles on a priced connection such as OpenAI (prices and "
                "budgets are set on the Connections page). The offline local connection is free."
            )
        elif costs is not None:
            currency = currency_name()
            base = alt.Chart(costs).encode(
                x=alt.X("yearmonth(month):O", title="Month"),
                xOffset="connection:N",
                color=alt.Color("connection:N", title="Connection"),
            )
            chart = alt.layer(
                base.mark_bar().encode(
                    y=alt.Y(
                        "cost:Q",
                        title=f"Cost ({currency})",
                        axis=alt.Axis(format=",.2f", tickMinStep=0.01),
                    ),
                    tooltip=[
                        "yearmonth(month):O",
                        "connection",
                        alt.Tooltip("cost:Q", format=",.2f", title=f"cost ({currency})"),
                        alt.Tooltip("budget:Q", format=",.2f", title=f"budget ({currency})"),
                    ],
                ),
                base.mark_tick(thickness=3, color="#c62828").encode(
                    y="budget:Q",
                    tooltip=["connection", alt.Tooltip("budget:Q", title="monthly budget")],
                ),
            )
            downloadable(chart, costs, "cost-per-month")
            st.caption(
                f"Bars: what the compilations cost, in {currency}; red marks: the connection's "
                "monthly budget. A month appears once a connection compiled in it; failed, "
                "cancelled and skipped compilations cost nothing, so such a month shows 0. "
                "Months are UTC."
            )
        hosting = attempt(lambda: history.hosting_cost_per_month(context.uow(), actor))
        deployed = attempt(lambda: history.hosting_now(context.uow(), actor))
        if hosting is not None and deployed is not None and (deployed.deployments or len(hosting)):
            st.markdown("**Hosting of deployed models** (billed per hour while deployed)")
            st.metric(
                "Deployments now",
                f"{deployed.deployments} · {money(deployed.per_hour)}/hour",
                help="Remove the ones no version answers from on a model's Versions tab.",
            )
            chart = (
                alt.Chart(hosting)
                .mark_bar()
                .encode(
                    x=alt.X("yearmonth(month):O", title="Month (UTC)"),
                    xOffset="connection:N",
                    y=alt.Y("cost:Q", title="Hosting cost (USD)"),
                    color=alt.Color("connection:N", title="Connection"),
                    tooltip=["yearmonth(month):O", "connection", "hours", "cost"],
                )
            )
            downloadable(chart, hosting, "hosting-per-month", empty="No deployment yet.")

with right:
    st.subheader("Validation score per model over versions")
    scores = attempt(lambda: history.validation_scores(context.uow(), actor))
    if scores is not None:
        chart = (
            alt.Chart(scores)
            .mark_line(point=True)
            .encode(
                x=alt.X("version:O", title="Version"),
                y=alt.Y("score:Q", title="Validation score", scale=alt.Scale(domain=[0, 1])),
                color=alt.Color("model:N", title="Model"),
                tooltip=["model", "version", alt.Tooltip("score:Q", format=".3f"), "active"],
            )
        )
        downloadable(
            chart,
            scores,
            "validation-scores",
            empty="Each version's validation score (0 to 1) appears here once a model with "
            "validation Q&As compiles (add Q&As of type validation on the Q&As page).",
        )

st.subheader("Training data per model")
growth = attempt(lambda: history.training_data_growth(context.uow(), actor, weeks))
if growth is not None:
    chart = (
        alt.Chart(growth)
        .mark_line()
        .encode(
            x=alt.X("week:T", title="Week"),
            y=alt.Y("count:Q", title="Records"),
            color=alt.Color("model:N", title="Model"),
            strokeDash=alt.StrokeDash("series:N", title="Kind"),
            tooltip=["week:T", "model", "series", "count"],
        )
    )
    downloadable(
        chart,
        growth,
        "training-data-growth",
        values=("count",),
        empty="How many training Q&As and ready conversations each model has, week by week, "
        "appears here once trainers add them (Q&As and Training conversations pages).",
    )
    st.caption("Active training Q&As and ready conversations at the end of each week.")

# --- deprecation radar --------------------------------------------------------------------
st.divider()
st.subheader("Deprecation radar")
if any(r.provider_type == ProviderType.OPENAI for r in in_use):
    wind_down_notice(actor, key="dashboard_export_sets")
radar = pd.DataFrame(
    [
        {
            "Base model": r.base_model,
            "Provider": r.provider_type.value,
            "New jobs until": f"{r.fine_tuning_ends:%Y-%m-%d}"
            if r.fine_tuning_ends
            else "no end known",
            "Days left to fine-tune": f"{r.fine_tuning_days_left:,}"
            if r.fine_tuning_days_left is not None
            else "",
            "Shutdown date": f"{r.shutdown_date:%Y-%m-%d}" if r.shutdown_date else "not announced",
            "Days left": f"{r.days_left:,}" if r.days_left is not None else "",
            "Date from": {
                "provider": "provider's model list",
                "admin": "admin's table",
                "catalogue": "the catalogue file",
            }.get((r.source or "").split(":")[0], r.source or "unknown"),
            f"Within {RETIREMENT_WINDOW_DAYS} days": "yes" if r.flagged else "no",
            "Models": ", ".join(r.models) or "none",
            "Connections": ", ".join(r.connections) or "none",
        }
        for r in in_use
    ]
)
if radar.empty:
    empty_state(
        "Base models in use, with the date their provider retires them, appear here once a "
        "model has a connection and a base model (Models page)."
    )
else:
    st.dataframe(radar, hide_index=True, width="stretch")
if actor.can(Permission.MANAGE_CONNECTIONS):
    base_model_admin(actor)

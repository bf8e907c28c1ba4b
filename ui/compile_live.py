"""The running compilation as it happens on the Compile tab: the steps as one line (each
step stays visible after it passed, however fast), the figures once they are known, the
loss chart filling in as the provider reports metrics, and the build log."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from core.domain import CompilationStatus
from core.permissions import Actor
from core.services import compilation, history
from core.services.compilation import CompilationView
from ui import context
from ui.errors import attempt
from ui.formatting import local_time, money, plural, zone_label

STEPS = (
    CompilationStatus.QUEUED,
    CompilationStatus.VALIDATING,
    CompilationStatus.UPLOADING,
    CompilationStatus.TRAINING,
)
_ENDS = {
    CompilationStatus.SUCCEEDED: ("green", "check_circle"),
    CompilationStatus.FAILED: ("red", "error"),
    CompilationStatus.CANCELLED: ("gray", "block"),
    CompilationStatus.SKIPPED: ("violet", "skip_next"),
}


def _reached(view: CompilationView) -> int:
    """How many steps a compilation got through (an ended one: judged by what it left)."""
    if view.status in STEPS:
        return STEPS.index(view.status)
    if view.status == CompilationStatus.SUCCEEDED:
        return len(STEPS)
    if view.provider_job_id:
        return 3
    if view.provider_file_id:
        return 2
    return 1 if view.example_count is not None or view.finished else 0


def step_line(view: CompilationView) -> str:
    """queued → validating → uploading → training → outcome, as Markdown badges: done in
    green with a tick, the current one in blue, those to come in grey."""
    reached = _reached(view)
    parts = []
    for index, step in enumerate(STEPS):
        if index < reached or (view.finished and index == reached and view.status in _ENDS):
            done = index < reached
            colour, icon = ("green", "check") if done else ("gray", "radio_button_unchecked")
        elif index == reached and not view.finished:
            colour, icon = "blue", "progress_activity"
        else:
            colour, icon = "gray", "radio_button_unchecked"
        parts.append(f":{colour}-badge[:material/{icon}: {step.value}]")
    colour, icon = _ENDS.get(view.status, ("gray", "flag"))
    parts.append(
        f":{colour}-badge[:material/{icon}: {view.status.value}]"
        if view.finished
        else ":gray-badge[:material/flag: done]"
    )
    return " → ".join(parts)


def figures(view: CompilationView) -> None:
    """Examples, tokens, cost and score once they are known; until then, when they come."""
    known = [
        ("Examples", f"{view.example_count:,}" if view.example_count is not None else None),
        ("Tokens", f"{view.token_count:,}" if view.token_count is not None else None),
        (
            "Cost" if view.actual_cost is not None else "Estimated cost",
            money(view.actual_cost if view.actual_cost is not None else view.cost_estimate)
            if (view.actual_cost is not None or view.cost_estimate is not None)
            else None,
        ),
        (
            "Validation score",
            f"{view.validation_score:.3f}" if view.validation_score is not None else None,
        ),
    ]
    shown = [(label, value) for label, value in known if value is not None]
    if shown:
        for column, (label, value) in zip(st.columns(len(shown)), shown, strict=True):
            column.metric(label, value)
    if not view.finished and view.example_count is None:
        st.caption(
            "Examples, tokens and the cost estimate appear once the training set is checked."
        )
    elif not view.finished and view.validation_score is None:
        st.caption("The validation score appears after training, when the new version is asked.")


def loss_chart(actor: Actor, view: CompilationView) -> None:
    """The training loss per step, growing as the provider's metric events arrive."""
    frame = attempt(lambda: history.training_metrics(context.uow(), actor, view.id))
    loss = frame[frame["metric"].str.contains("loss")] if frame is not None and len(frame) else None
    if loss is None or loss.empty:
        if view.status == CompilationStatus.TRAINING:
            st.caption("The loss chart fills in as the provider reports training steps.")
        return
    chart = (
        alt.Chart(loss, title="Training loss per step")
        .mark_line(point=True)
        .encode(
            x=alt.X("step:Q", title="Step"),
            y=alt.Y("value:Q", title="Loss"),
            color=alt.Color("metric:N", title="Metric"),
            tooltip=["step", "metric", alt.Tooltip("value:Q", format=".4f")],
        )
    )
    st.altair_chart(chart, width="stretch")
    latest = loss.sort_values("step").iloc[-1]
    st.caption(
        f"{plural(int(loss['step'].nunique()), 'training step')} reported so far; "
        f"latest {latest['metric']} {float(latest['value']):.4f} at step {int(latest['step'])}."
    )


def build_log(actor: Actor, view: CompilationView) -> None:
    events = attempt(lambda: compilation.compilation_events(context.uow(), actor, view.id)) or []
    with st.expander("Build log and provider events", expanded=not view.finished):
        if not events:
            st.caption(
                "Nothing logged yet: a worker picks the compilation up within seconds, and "
                "each step it takes appears here."
            )
            return
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        f"Time ({zone_label()})": local_time(e.created_at),
                        "Source": "worker" if e.event_type == "status" else "provider",
                        "Level": e.level,
                        "Message": e.message,
                    }
                    for e in events[-200:]
                ]
            ),
            hide_index=True,
            width="stretch",
        )

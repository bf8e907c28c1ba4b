"""The Compile tab of the Models page: pre-flight, compile, and the running compilation
(refreshed in place while it runs), with cancel."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.domain import CompilationStatus, ModelKind, ProviderType
from core.permissions import Actor, Permission
from core.services import compilation
from core.services.catalog import ModelDetail
from core.services.compilation import CompilationView, Preflight
from core.training.builder import SourceRef
from core.training.findings import Finding
from ui import compile_live, context
from ui.errors import attempt, errors_shown
from ui.formatting import duration, money, plural, when
from ui.links import record_url

REFRESH_SECONDS = 2
_STATUS_ICON = {
    CompilationStatus.QUEUED: ":material/schedule:",
    CompilationStatus.VALIDATING: ":material/fact_check:",
    CompilationStatus.UPLOADING: ":material/upload:",
    CompilationStatus.TRAINING: ":material/model_training:",
    CompilationStatus.SUCCEEDED: ":material/check_circle:",
    CompilationStatus.FAILED: ":material/error:",
    CompilationStatus.CANCELLED: ":material/cancel:",
    CompilationStatus.SKIPPED: ":material/skip_next:",
}


def render(model: ModelDetail, actor: Actor) -> None:
    if model.kind == ModelKind.ASSISTANT:
        st.info("Build assistants are not fine-tuned, so they are never compiled.")
        return
    latest = attempt(lambda: compilation.latest_compilation(context.uow(), actor, model.id))
    if latest is not None and not latest.finished:
        st.fragment(run_every=REFRESH_SECONDS)(_live_status)(model.id, actor, latest.id)
    elif latest is not None:
        _status(latest, actor)
    if not actor.can(Permission.COMPILE):
        return
    st.divider()
    _preflight_section(model, actor)
    st.divider()
    _compile_section(model, actor, running=latest is not None and not latest.finished)


def _live_status(model_id: int, actor: Actor, compilation_id: int) -> None:
    view = attempt(lambda: compilation.get_compilation(context.uow(), actor, compilation_id))
    if view is None:
        return
    _status(view, actor)
    if view.finished:
        # The outcome changes the rest of the page (versions, buttons): refresh it all.
        st.rerun(scope="app")


def _status(view: CompilationView, actor: Actor) -> None:
    icon = _STATUS_ICON[view.status]
    st.subheader(f"Compilation #{view.id}: {view.status.value}")
    st.markdown(compile_live.step_line(view))
    who = f" by {view.requested_by}" if view.requested_by else ""
    st.caption(
        f"Requested{who} at {when(view.created_at)}"
        + (" · forced" if view.forced else "")
        + (" · budget overridden" if view.budget_override else "")
    )
    if view.status == CompilationStatus.SUCCEEDED:
        st.success(view.reason or "Succeeded.", icon=icon)
    elif view.status == CompilationStatus.FAILED:
        st.error(f"Failed: {view.error or view.reason}", icon=icon)
        st.caption("The previous version stays active.")
    elif view.status in (CompilationStatus.CANCELLED, CompilationStatus.SKIPPED):
        st.info(view.reason or view.status.value, icon=icon)
    else:
        provider = f" · provider: {view.provider_status}" if view.provider_status else ""
        if provider:
            st.caption(provider.removeprefix(" · "))
        if view.cancel_requested:
            st.warning("Cancelling…")
        elif actor.can(Permission.COMPILE) and st.button(
            "Cancel compilation", icon=":material/cancel:", key=f"cancel_{view.id}"
        ):
            with errors_shown():
                compilation.cancel_compilation(context.uow(), actor, view.id)
                st.toast(f"Cancel requested for compilation #{view.id}.")
    compile_live.figures(view)
    compile_live.loss_chart(actor, view)
    if view.findings:
        with st.expander(
            f"Findings ({len(view.findings)})", expanded=view.status == CompilationStatus.FAILED
        ):
            _findings_table(view.findings, f"findings_{view.id}")
    compile_live.build_log(actor, view)


def _where(ref: SourceRef) -> str:
    return ref.describe()


def _findings_table(findings: list[Finding], key: str) -> None:
    rows = []
    for finding in findings:
        ref = finding.sources[0] if finding.sources else None
        rows.append(
            {
                "Severity": finding.severity,
                "Finding": finding.message,
                "Where": finding.where,
                "Open": record_url(ref) if ref else None,
            }
        )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        key=key,
        column_config={
            "Open": st.column_config.LinkColumn("Open", display_text="open record"),
        },
    )


def _preflight_section(model: ModelDetail, actor: Actor) -> None:
    key = f"preflight_{model.id}"
    st.subheader("Pre-flight")
    st.caption(
        "Builds and checks the training set and estimates the cost, without starting anything."
    )
    dpo = st.checkbox(
        "Supervised, then preference training (DPO) on Train AI's corrections",
        key=f"compile_dpo_{model.id}",
        help="After the supervised job, a second job trains its result to prefer each "
        "correction over the answer the model gave (OpenAI and open-weights connections).",
    )
    if st.button("Run pre-flight", icon=":material/flight_takeoff:", key=f"{key}_run"):
        result = attempt(
            lambda: compilation.preflight(context.uow(), actor, model.id, preference=dpo)
        )
        if result is not None:
            st.session_state[key] = result
    result = st.session_state.get(key)
    if isinstance(result, Preflight):
        _preflight_result(result)


def _preflight_result(result: Preflight) -> None:
    dpo_refused = result.preference is not None and result.preference.refusal
    if result.refusal or result.errors or dpo_refused:
        st.error(result.outcome)
    elif result.unchanged or result.budget.would_exceed:
        st.warning(result.outcome)
    else:
        st.success(result.outcome)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Examples", f"{result.example_count:,}")
    c2.metric("Tokens", f"{result.total_tokens:,}")
    c3.metric("Billed tokens (est.)", f"{result.estimate.billed_tokens:,}")
    c4.metric("Estimated cost", money(result.estimate.cost))
    st.caption(
        f"{result.sources} · base model {result.base_model or '—'} · "
        f"{result.estimate.describe()} · {result.budget.describe()} · "
        f"{result.duplicates_removed:,} identical examples kept once · "
        f"checked in {result.seconds:.1f} s"
    )
    if result.preference is not None:
        st.caption(f"Then DPO: {result.preference.describe()}")
    if result.provider_type == ProviderType.OPEN_WEIGHTS:
        st.caption(_training_time(result.training_seconds))
    if result.diff is None:
        st.caption("No active version to compare with yet.")
    else:
        d1, d2, d3, d4 = st.columns(4)
        d1.metric("Added", f"{result.diff.added:,}")
        d2.metric("Removed", f"{result.diff.removed:,}")
        d3.metric("Changed", f"{result.diff.changed:,}")
        d4.metric("Unchanged", f"{result.diff.unchanged:,}")
        if result.config_changed:
            st.caption("The configuration (base model, system message or hyperparameters) changed.")
        changes = (
            [("added", ref) for ref in result.diff.added_records]
            + [("removed", ref) for ref in result.diff.removed_records]
            + [("changed", ref) for ref in result.diff.changed_records]
        )
        if changes:
            with st.expander("Changed records"):
                st.dataframe(
                    pd.DataFrame(
                        [
                            {"Change": what, "Record": _where(ref), "Open": record_url(ref)}
                            for what, ref in changes
                        ]
                    ),
                    hide_index=True,
                    width="stretch",
                    column_config={
                        "Open": st.column_config.LinkColumn("Open", display_text="open record")
                    },
                )
    if result.findings:
        counts = ", ".join(
            f"{n:,} {code.replace('_', ' ')}" for _, code, n in result.finding_counts
        )
        st.markdown(
            f"**Findings:** {plural(result.errors, 'error')}, {plural(result.warnings, 'warning')} ({counts})"
        )
        _findings_table(result.findings, f"preflight_findings_{result.model_id}")


def _training_time(seconds: float | None) -> str:
    if seconds is None:
        return (
            "Training runs on this machine; its time is estimated once it has trained here "
            "once (the first training measures its speed)."
        )
    return (
        f"Training on this machine: about {duration(seconds)} (at the speed of its last "
        "training, with loading the model)."
    )


def _compile_section(model: ModelDetail, actor: Actor, *, running: bool) -> None:
    st.subheader("Compile")
    if running:
        st.caption("A compilation of this model is running; one runs per model at a time.")
    force = st.checkbox("Force (compile even if nothing changed)", key=f"compile_force_{model.id}")
    dpo = bool(st.session_state.get(f"compile_dpo_{model.id}"))
    if dpo:
        st.caption("Supervised, then preference training (DPO), as chosen above.")
    override = False
    if actor.can(Permission.OVERRIDE_BUDGET):
        override = st.checkbox("Override the monthly budget", key=f"compile_override_{model.id}")
    if st.button(
        "Compile",
        type="primary",
        icon=":material/play_arrow:",
        key=f"compile_{model.id}",
        disabled=running,
        help="One compilation runs per model at a time: wait for this one or cancel it."
        if running
        else None,
    ):
        with errors_shown():
            queued = compilation.request_compilation(
                context.uow(),
                actor,
                model.id,
                force=force,
                override_budget=override,
                preference=dpo,
            )
            st.session_state.pop(f"preflight_{model.id}", None)
            st.toast(f"Compilation #{queued.id} queued.")
            st.rerun()

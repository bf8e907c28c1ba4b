"""The Versions tab of the Models page: every version with its compilation, provider model,
training-set hash and validation score; admins roll back or activate one, with a reason."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.permissions import Actor, Permission
from core.services import compilation
from core.services.catalog import ModelDetail
from core.services.compilation import VersionView
from ui import context
from ui.errors import attempt, errors_shown
from ui.formatting import money


def render(model: ModelDetail, actor: Actor) -> None:
    listed = attempt(lambda: compilation.list_versions(context.uow(), actor, model.id))
    if not listed:
        st.info("No versions yet: the first successful compilation creates v1.")
        return
    answering = attempt(lambda: compilation.answering_version(context.uow(), actor, model.id))
    if answering is not None:
        how = "pinned" if answering.pinned else "active"
        st.caption(f"Chat answers with v{answering.number} ({how}).")
    st.dataframe(
        pd.DataFrame([_row(v) for v in listed]),
        hide_index=True,
        width="stretch",
        column_config={
            "Validation score": st.column_config.NumberColumn(
                format="%.3f", help="Mean token-overlap F1 against the validation Q&As"
            )
        },
    )
    held = [v for v in listed if v.held_back]
    for version in held:
        st.warning(
            f"v{version.number} is held back: its validation score is lower than the active "
            "version's (the model's activation gate)."
            + (" An admin can activate it below." if actor.can(Permission.MANAGE_VERSIONS) else "")
        )
    for version in listed:
        if version.validation_error:
            st.warning(f"v{version.number} has no validation score: {version.validation_error}")
    if actor.can(Permission.COMPILE):
        _revalidate(model, actor, listed)
    if any(v.deployment_state for v in listed):
        _deployments(model, actor, listed)
    if actor.can(Permission.MANAGE_VERSIONS):
        _switch_form(model, actor, listed)
    if actor.can(Permission.MANAGE_MODELS) and not model.auto_update_to_latest:
        _pin_form(model, actor, listed)


def _row(v: VersionView) -> dict[str, object]:
    state = "active" if v.is_active else ("held back" if v.held_back else "")
    return {
        "Version": f"v{v.number}",
        "State": state + (" · pinned" if v.is_pinned else ""),
        "Compilation": f"#{v.compilation_id}" if v.compilation_id else "—",
        "Provider model": v.provider_model_id + (" (configuration only)" if v.config_only else ""),
        "Training set hash": (v.dataset_hash or "")[:12] or "—",
        "Examples": v.example_count,
        "Validation score": v.validation_score,
        "Deployment": _deployment(v),
        "Created": v.created_at,
    }


def _revalidate(model: ModelDetail, actor: Actor, listed: list[VersionView]) -> None:
    c1, c2 = st.columns([2, 1])
    version_id = c1.selectbox(
        "Run the validation Q&As again for",
        [v.id for v in listed],
        format_func=lambda i: next(f"v{v.number}" for v in listed if v.id == i),
        key=f"versions_revalidate_pick_{model.id}",
    )
    c2.write("")
    if c2.button("Run validation", key=f"versions_revalidate_{model.id}", icon=":material/replay:"):
        with st.spinner("Asking the validation Q&As…"), errors_shown():
            again = compilation.revalidate_version(context.uow(), actor, int(version_id))
            if again.validation_error:
                st.error(again.validation_error)
            else:
                st.toast(f"v{again.number}: validation score {again.validation_score:.3f}.")
                st.rerun()


DEPLOYMENT_STATES = {
    "ready": "ready",
    "creating": "being deployed",
    "failed": "deployment failed",
    "removed": "removed (deployed again on rollback)",
    "manual": "to be deployed by an admin",
}


def _deployment(v: VersionView) -> str:
    if not v.deployment_state:
        return "not needed"
    state = DEPLOYMENT_STATES.get(v.deployment_state, v.deployment_state)
    price = f", {money(v.hosting_price_per_hour)}/hour" if v.hosting_price_per_hour else ""
    return f"{v.deployment_name or 'unnamed'}: {state}{price}"


def _deployments(model: ModelDetail, actor: Actor, listed: list[VersionView]) -> None:
    """Deployments are billed per hour while they exist: say what runs, and let admins remove
    those no version answers from, or name one they deployed by hand."""
    billed = [v for v in listed if v.deployment_state in ("ready", "creating")]
    in_use = {v.id for v in listed if v.is_active or v.is_pinned}
    unused = [v for v in billed if v.id not in in_use]
    hourly = sum((v.hosting_price_per_hour or 0) for v in billed)
    st.caption(
        f"{len(billed)} deployment(s) exist for {model.name}"
        + (f", {money(hourly)}/hour together" if hourly else "")
        + (f"; {len(unused)} of them serve no active or pinned version." if unused else ".")
    )
    if not actor.can(Permission.MANAGE_VERSIONS):
        return
    if unused and st.button(
        f"Remove the {len(unused)} unused deployment(s) (of every model)",
        key=f"versions_remove_deployments_{model.id}",
        icon=":material/delete_sweep:",
    ):
        with errors_shown():
            report = compilation.remove_unused_deployments(context.uow(), actor)
            for problem in report.problems:
                st.error(problem)
            st.toast(f"Removed {len(report.removed)} deployment(s).")
    manual = [v for v in listed if v.deployment_state == "manual"]
    if manual:
        _name_form(model, actor, manual)


def _name_form(model: ModelDetail, actor: Actor, manual: list[VersionView]) -> None:
    st.markdown("**Name a deployment you made at the provider**")
    with st.form(f"versions_name_deployment_{model.id}"):
        version_id = st.selectbox(
            "Version",
            [v.id for v in manual],
            format_func=lambda i: next(
                f"v{v.number} ({v.provider_model_id})" for v in manual if v.id == i
            ),
            key=f"versions_deploy_version_{model.id}",
        )
        name = st.text_input("Deployment name", key=f"versions_deploy_name_{model.id}")
        submitted = st.form_submit_button("Save deployment name")
    if submitted and version_id is not None:
        with errors_shown():
            row = compilation.name_deployment(context.uow(), actor, int(version_id), name)
            st.toast(f"v{row.version_number} answers through {row.deployment_name} once active.")
            st.rerun()


def _switch_form(model: ModelDetail, actor: Actor, listed: list[VersionView]) -> None:
    candidates = [v for v in listed if not v.is_active]
    if not candidates:
        return
    st.markdown("**Roll back or activate a version**")
    with st.form(f"versions_switch_{model.id}"):
        chosen = st.selectbox(
            "Version",
            [v.id for v in candidates],
            key=f"versions_choice_{model.id}",
            format_func=lambda i: next(
                f"v{v.number}" + (" (held back)" if v.held_back else "")
                for v in candidates
                if v.id == i
            ),
        )
        reason = st.text_input(
            "Reason (kept in the audit trail)", key=f"versions_reason_{model.id}"
        )
        submitted = st.form_submit_button("Make it the active version", type="primary")
    if submitted and chosen is not None:
        version = next(v for v in candidates if v.id == chosen)
        with errors_shown():
            if version.held_back:
                compilation.activate_version(context.uow(), actor, version.id, reason)
            else:
                compilation.rollback(context.uow(), actor, version.id, reason)
            st.toast(f"v{version.number} is now the active version of {model.name}.")
            st.rerun()


def _pin_form(model: ModelDetail, actor: Actor, listed: list[VersionView]) -> None:
    st.markdown("**Pinned version** (the model does not follow the latest version)")
    options: list[int | None] = [None, *[v.id for v in listed]]
    current = next((v.id for v in listed if v.is_pinned), None)
    chosen = st.selectbox(
        "Chat answers with",
        options,
        index=options.index(current),
        format_func=lambda i: (
            "the active version" if i is None else next(f"v{v.number}" for v in listed if v.id == i)
        ),
        key=f"versions_pin_{model.id}",
    )
    if chosen != current and st.button("Save pinned version", key=f"versions_pin_save_{model.id}"):
        with errors_shown():
            compilation.pin_version(context.uow(), actor, model.id, chosen)
            st.toast("Pinned version saved.")
            st.rerun()

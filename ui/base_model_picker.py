"""Choosing a base model from the catalogue (with what it costs and until when new jobs are
taken on it), and moving a model to another connection with its pre-flight there first."""

from __future__ import annotations

import streamlit as st

from core.permissions import Actor
from core.services import catalog, compilation
from core.services.catalog import BaseModelRow, ConnectionView, ModelDetail, MoveTarget
from ui import context
from ui.errors import attempt, errors_shown
from ui.formatting import money


def _label(row: BaseModelRow | None, name: str) -> str:
    if row is None:
        return name
    facts = [row.provider_type.value]
    if row.training_price_per_million is not None:
        facts.append(f"{money(row.training_price_per_million)}/1M training tokens")
    if row.hosting_price_per_hour is not None:
        facts.append(f"{money(row.hosting_price_per_hour)}/hour hosted")
    if row.fine_tuning_ends is not None:
        facts.append(f"new jobs until {row.fine_tuning_ends.isoformat()}")
    if not row.fine_tunable:
        facts.append("not fine-tunable")
    return f"{name} ({', '.join(facts)})"


def base_model_choice(
    actor: Actor, prefix: str, current: str | None, connections: list[ConnectionView]
) -> str | None:
    """A pick from the catalogue of the connections' providers; an unknown name may be typed
    in (saving refuses it with the reason, so a typo is caught before any upload)."""
    providers = {c.provider_type for c in connections}
    rows = attempt(lambda: catalog.list_base_models(context.uow(), actor)) or []
    known = {r.name: r for r in rows if r.provider_type in providers and r.fine_tunable}
    options: list[str] = ["", *sorted(known)]
    if current and current not in options:
        options.append(current)
    chosen = st.selectbox(
        "Base model",
        options,
        index=options.index(current or ""),
        format_func=lambda n: "— the connection's default —" if not n else _label(known.get(n), n),
        accept_new_options=True,
        key=f"{prefix}_base_model",
        help="From the base-model catalogue of the connections' providers.",
    )
    return chosen or None


def move_section(actor: Actor, model: ModelDetail, connections: list[ConnectionView]) -> None:
    """Move to another connection, e.g. off a provider that takes no new fine-tuning jobs."""
    others = [c for c in connections if c.id != model.connection_id]
    if not others:
        return
    with st.expander("Move to another connection"):
        st.caption(
            "The active version keeps answering from where it was trained until a compilation "
            "on the new connection succeeds; the history keeps both."
        )
        labels = {c.id: f"{c.name} ({c.provider_type.value})" for c in others}
        key = f"move_{model.id}"
        target_id = st.selectbox(
            "Connection", list(labels), format_func=labels.__getitem__, key=f"{key}_to"
        )
        target = next(c for c in others if c.id == target_id)
        base_model = base_model_choice(actor, f"{key}_{target_id}", None, [target])
        # The pre-flight reads the whole training set: only when asked, kept for this choice.
        choice = (model.id, target_id, base_model)
        if st.button("Check the pre-flight there", key=f"{key}_check"):
            found = attempt(
                lambda: compilation.preflight(
                    context.uow(), actor, model.id, MoveTarget(target_id, base_model)
                )
            )
            st.session_state[f"{key}_seen"] = (choice, found)
        kept = st.session_state.get(f"{key}_seen")
        seen = kept[1] if kept and kept[0] == choice else None
        if seen is None:
            return
        cost = seen.estimate.describe() if seen.estimate else "no estimate"
        st.write(
            f"There: base model {seen.base_model or '—'}, {seen.example_count:,} examples, "
            f"{seen.total_tokens:,} tokens; {cost}."
        )
        if seen.refusal or seen.errors:
            st.error(seen.refusal or f"{seen.errors} error(s) in the training set there.")
            return
        compile_after = st.checkbox("Compile there right away", key=f"{key}_compile")
        if st.button("Move", type="primary", key=f"{key}_go", icon=":material/move_item:"):
            with errors_shown():
                moved = catalog.move_model(
                    context.uow(), actor, model.id, target_id, base_model, model.row_version
                )
                message = f"{moved.name} now uses {moved.connection_name}."
                if compile_after:
                    queued = compilation.request_compilation(context.uow(), actor, moved.id)
                    message += f" Compilation #{queued.id} queued."
                st.toast(message)
                st.rerun()

"""Models: the hierarchy, each model's settings, system message and training-set preview."""

from __future__ import annotations

import contextlib

import pandas as pd
import streamlit as st

from core.domain import ModelKind
from core.permissions import Permission
from core.services import catalog
from core.services.catalog import ModelDetail, ModelInput
from core.training.text import RECOMMENDED_SYSTEM_SENTENCES, sentence_count, system_message_advice
from ui import compile_panel, context, evaluation_panel, retirement, versions_panel
from ui.base_model_picker import base_model_choice, move_section
from ui.errors import attempt, errors_shown

actor = context.actor()
can_manage = actor.can(Permission.MANAGE_MODELS)
SELECTED = "models_selected_id"
CREATING = "models_creating"

st.title("Models")
st.caption(
    "Arbiters are fine-tuned on their system message, Q&As and training conversations; a child "
    "model can inherit its parent's training, and a parent can aggregate its children's."
)

summaries = attempt(lambda: catalog.list_models(context.uow(), actor)) or []
# Connection settings are for admins and managers only; a model shows its connection's name.
conns = (
    attempt(lambda: catalog.list_connections(context.uow(), actor)) or []
    if actor.can(Permission.VIEW_CONNECTIONS)
    else []
)
names = {m.id: m.name for m in summaries}
at_risk = retirement.models_at_risk(actor)

if "model" in st.query_params and SELECTED not in st.session_state:
    with contextlib.suppress(ValueError):
        st.session_state[SELECTED] = int(st.query_params["model"])

if summaries:
    # What to do next (last compilation, changes pending) comes right after the name, and
    # the counts share one column, so nothing that matters hides behind scrolling at 1440 px.
    tree = pd.DataFrame(
        [
            {
                "Model": ("\u2003" * m.depth) + ("└ " if m.depth else "") + m.name,
                "Active version": f"v{m.active_version_number}"
                if m.active_version_number
                else "none",
                "Last compilation": m.last_compilation_status or "never",
                "Changes pending": {True: "yes", False: "no", None: "n/a"}[m.changes_pending],
                "Training data": (
                    f"{m.training_qas:,} Q&As · {m.validation_qas:,} validation · "
                    f"{m.ready_conversations:,} conversations"
                ),
                "Kind": "arbiter" if m.kind == ModelKind.ARBITER else "assistant",
                "Connection": m.connection_name or "none",
                "Base model": m.base_model or "connection default",
            }
            for m in summaries
        ]
    )
    st.dataframe(
        tree,
        hide_index=True,
        width="stretch",
        column_config={
            "Model": st.column_config.TextColumn(width="medium"),
            "Active version": st.column_config.TextColumn("Active", width="small"),
            "Kind": st.column_config.TextColumn(
                width="small", help="Assistants are not fine-tuned"
            ),
        },
    )
    retirement.flags_banner(at_risk)
    if attempt(lambda: catalog.uses_openai(context.uow(), actor)):
        with st.expander(
            "OpenAI starts no new fine-tuning jobs from early 2027: export the training sets",
            icon=":material/campaign:",
        ):
            retirement.wind_down_notice(actor, key="models_export_sets")
else:
    st.info("No models yet." + (" Create the first one below." if can_manage else ""))

left, right = st.columns([3, 1])
with left:
    ids = [m.id for m in summaries]
    current = st.session_state.get(SELECTED)
    selected = st.selectbox(
        "Open a model",
        ids,
        index=ids.index(current) if current in ids else (0 if ids else None),
        format_func=lambda i: names.get(i, str(i)),
        key="models_pick",
    )
    if selected is not None:
        st.session_state[SELECTED] = selected
with right:
    if can_manage:
        st.write("")
        if st.button("New model", icon=":material/add:", key="models_new"):
            st.session_state[CREATING] = True


def _connection_choice(prefix: str, current: int | None) -> int | None:
    options: list[int | None] = [None, *[c.id for c in conns]]
    labels = {c.id: f"{c.name} ({c.provider_type.value})" for c in conns}
    return st.selectbox(
        "Provider connection",
        options,
        index=options.index(current) if current in options else 0,
        format_func=lambda i: "— use the parent's —" if i is None else labels.get(i, str(i)),
        key=f"{prefix}_connection",
    )


def _hyperparameter_fields(
    prefix: str, model: ModelDetail | None
) -> tuple[float | None, float | None, float | None]:
    """Epochs, batch size and learning-rate multiplier; empty means auto."""
    st.markdown("**Hyperparameters** (leave empty for auto)")
    h1, h2, h3 = st.columns(3)
    epochs = h1.number_input(
        "Epochs",
        min_value=1,
        max_value=50,
        value=model.n_epochs if model else None,
        step=1,
        placeholder="auto",
        key=f"{prefix}_epochs",
    )
    batch = h2.number_input(
        "Batch size",
        min_value=1,
        max_value=256,
        value=model.batch_size if model else None,
        step=1,
        placeholder="auto",
        key=f"{prefix}_batch",
    )
    lr = h3.number_input(
        "Learning-rate multiplier",
        min_value=0.01,
        max_value=10.0,
        value=model.learning_rate_multiplier if model else None,
        step=0.1,
        placeholder="auto",
        key=f"{prefix}_lr",
    )
    return epochs, batch, lr


def _option_fields(prefix: str, model: ModelDetail | None) -> tuple[bool, bool, bool]:
    """Default model, answer with the latest version, activation gate."""
    o1, o2, o3 = st.columns(3)
    is_default = o1.checkbox(
        "Default model", value=model.is_default if model else False, key=f"{prefix}_default"
    )
    auto_update = o2.checkbox(
        "Answer with the latest version",
        value=model.auto_update_to_latest if model else True,
        help="Off: chat keeps using the pinned version until you change it.",
        key=f"{prefix}_auto_update",
    )
    gate = o3.checkbox(
        "Activate only if not worse",
        value=model.activation_gate if model else False,
        help="Hold back a new version whose validation score is lower than the active one's.",
        key=f"{prefix}_gate",
    )
    return is_default, auto_update, gate


def _settings_fields(prefix: str, model: ModelDetail | None) -> ModelInput:
    """The settings form's widgets; returns what they hold."""
    kinds = [ModelKind.ARBITER, ModelKind.ASSISTANT]
    name = st.text_input("Name", value=model.name if model else "", key=f"{prefix}_name")
    kind = st.radio(
        "Kind",
        kinds,
        index=kinds.index(model.kind) if model else 0,
        format_func=lambda k: (
            "Arbiter (fine-tuned)" if k == ModelKind.ARBITER else "Build assistant (not fine-tuned)"
        ),
        horizontal=True,
        key=f"{prefix}_kind",
    )
    parent_options: list[int | None] = [
        None,
        *[m.id for m in summaries if not model or m.id != model.id],
    ]
    parent_id = st.selectbox(
        "Parent",
        parent_options,
        index=parent_options.index(model.parent_id)
        if model and model.parent_id in parent_options
        else 0,
        format_func=lambda i: "— none (top level) —" if i is None else names.get(i, str(i)),
        key=f"{prefix}_parent",
    )
    connection_id = _connection_choice(
        prefix, model.connection_id if model else (conns[0].id if conns else None)
    )
    base_model = base_model_choice(actor, prefix, model.base_model if model else None, conns)
    c1, c2 = st.columns(2)
    inherit = c1.checkbox(
        "Inherit the parent's training",
        value=model.inherit_parent_training if model else False,
        help="Also train on the Q&As and conversations of every ancestor.",
        key=f"{prefix}_inherit",
    )
    aggregate = c2.checkbox(
        "Aggregate the children's training",
        value=model.aggregate_children_training if model else False,
        help="Also train on the Q&As and conversations of every descendant.",
        key=f"{prefix}_aggregate",
    )
    epochs, batch, lr = _hyperparameter_fields(prefix, model)
    is_default, auto_update, gate = _option_fields(prefix, model)
    notes = st.text_area(
        "Notes", value=model.notes if model else "", key=f"{prefix}_notes", height=80
    )
    return ModelInput(
        name=name,
        kind=kind,
        notes=notes,
        connection_id=connection_id,
        base_model=base_model,
        system_message=model.system_message if model else "",
        parent_id=parent_id,
        inherit_parent_training=inherit,
        aggregate_children_training=aggregate,
        n_epochs=int(epochs) if epochs is not None else None,
        batch_size=int(batch) if batch is not None else None,
        learning_rate_multiplier=float(lr) if lr is not None else None,
        is_default=is_default,
        auto_update_to_latest=auto_update,
        activation_gate=gate,
    )


def _system_message_counts(text: str) -> None:
    sentences = sentence_count(text)
    st.caption(
        f"{len(text):,} characters · {sentences} sentence{'s' if sentences != 1 else ''} · "
        f"keep it to 5–{RECOMMENDED_SYSTEM_SENTENCES} sentences: role, tone, language, constraints."
    )
    advice = system_message_advice(text)
    if advice:
        st.warning(advice)


if can_manage and st.session_state.get(CREATING):
    with st.container(border=True):
        st.subheader("New model")
        with st.form("models_create_form"):
            data = _settings_fields("create", None)
            system_message = st.text_area("System message", key="create_system_message", height=140)
            create = st.form_submit_button("Create model", type="primary")
            cancel = st.form_submit_button("Cancel")
        if cancel:
            st.session_state[CREATING] = False
            st.rerun()
        if create:
            with errors_shown():
                created = catalog.create_model(
                    context.uow(),
                    actor,
                    ModelInput(**{**data.__dict__, "system_message": system_message}),
                )
                st.session_state[CREATING] = False
                st.session_state[SELECTED] = created.id
                st.session_state.pop("models_pick", None)
                st.toast(f"Created {created.name}.")
                st.rerun()

model_id: int = st.session_state.get(SELECTED, 0)
loaded = (
    attempt(lambda: catalog.get_model(context.uow(), actor, model_id))
    if model_id in names
    else None
)
if loaded is None:
    st.stop()
assert loaded is not None
model: ModelDetail = loaded

seen_key = f"model_{model.id}_seen_version"
st.session_state.setdefault(seen_key, model.row_version)
seen_version = st.session_state[seen_key]
prefix = f"m{model.id}v{seen_version}"

st.header(model.name)
retirement.model_flag(at_risk, model.id)
path = attempt(lambda: catalog.model_ancestry(context.uow(), actor, model_id)) or []
if len(path) > 1:
    st.caption(" › ".join(path))
if model.kind == ModelKind.ASSISTANT:
    st.info(
        "This is a build assistant: it answers with its base model and system message and is "
        "**not fine-tuned**. Compiling it is refused; only arbiters are fine-tuned.",
        icon=":material/info:",
    )
if model.row_version != seen_version:
    st.warning(
        "Someone else changed this model since you opened it. Saving now would be refused; "
        "reload to see their changes."
    )
    if st.button("Reload the latest", key=f"{prefix}_reload"):
        st.session_state[seen_key] = model.row_version
        st.rerun()

tabs = st.tabs(
    [
        "Settings",
        "System message",
        "Training set",
        "Compile",
        "Versions",
        "Evaluate",
        *(["Delete"] if can_manage else []),
    ]
)
settings_tab, system_tab, preview_tab, compile_tab, versions_tab, evaluate_tab, *admin_tabs = tabs

with settings_tab:
    if can_manage:
        with st.form(f"{prefix}_settings_form"):
            edited = _settings_fields(prefix, model)
            save = st.form_submit_button("Save settings", type="primary")
        if save:
            with errors_shown():
                saved = catalog.update_model(
                    context.uow(), actor, model.id, edited, expected_version=seen_version
                )
                st.session_state[seen_key] = saved.row_version
                st.toast("Settings saved.")
                st.rerun()
        move_section(actor, model, conns)
    else:
        facts = {
            "Kind": model.kind.value,
            "Parent": model.parent_name or "—",
            "Connection": model.connection_name or "(the parent's)",
            "Base model": model.effective_base_model or "—",
            "Inherits parent's training": "yes" if model.inherit_parent_training else "no",
            "Aggregates children's training": "yes" if model.aggregate_children_training else "no",
            "Epochs": model.n_epochs or "auto",
            "Batch size": model.batch_size or "auto",
            "Learning-rate multiplier": model.learning_rate_multiplier or "auto",
            "Active version": f"v{model.active_version_number}"
            if model.active_version_number
            else "—",
            "Notes": model.notes or "—",
        }
        st.dataframe(
            pd.DataFrame({"Setting": list(facts), "Value": [str(v) for v in facts.values()]}),
            hide_index=True,
        )

with system_tab:
    st.caption(
        "High-level instructions that apply to every answer. It is put first in every training "
        "example, so that training and use agree."
    )
    if can_manage:
        text = st.text_area(
            "System message", value=model.system_message, height=180, key=f"{prefix}_system"
        )
        _system_message_counts(text)
        if st.button("Save system message", type="primary", key=f"{prefix}_save_system"):
            with errors_shown():
                saved = catalog.update_model(
                    context.uow(),
                    actor,
                    model.id,
                    model.as_input(system_message=text),
                    expected_version=seen_version,
                )
                st.session_state[seen_key] = saved.row_version
                st.toast("System message saved.")
                st.rerun()
    else:
        st.text(model.system_message or "(empty)")
        _system_message_counts(model.system_message)

with preview_tab:
    sources = attempt(lambda: catalog.training_set_preview(context.uow(), actor, model_id)) or []
    relation_label = {
        "own": "own",
        "inherited": "inherited from ancestor",
        "aggregated": "aggregated from child",
    }
    preview = pd.DataFrame(
        [
            {
                "Source model": s.model_name,
                "Relation": relation_label[s.relation.value],
                "Training Q&As": s.training_qas,
                "Ready conversations": s.ready_conversations,
                "Validation Q&As (kept out)": s.validation_qas,
            }
            for s in sources
        ]
    )
    if not preview.empty:
        total_examples = int(preview["Training Q&As"].sum() + preview["Ready conversations"].sum())
        st.metric(
            "Examples in the next compilation (before removing duplicates)", f"{total_examples:,}"
        )
        st.dataframe(preview, hide_index=True, width="stretch")
    if model.kind == ModelKind.ASSISTANT:
        st.caption("Assistants are not fine-tuned; this data would only be used by arbiters.")

with compile_tab:
    compile_panel.render(model, actor)

with versions_tab:
    versions_panel.render(model, actor)

with evaluate_tab:
    evaluation_panel.render(model, actor, conns)

if admin_tabs:
    with admin_tabs[0]:
        impact = attempt(lambda: catalog.deletion_impact(context.uow(), actor, model_id))
        if impact is not None:
            if impact.children:
                st.warning(
                    f"{model.name} has child models ({', '.join(impact.children)}). Move them to "
                    "another parent or delete them first."
                )
            else:
                if impact.has_data:
                    st.error(
                        f"Deleting {model.name} also deletes {', '.join(impact.losses)}. This cannot be undone."
                    )
                    confirm = st.text_input(
                        "Type the model's name to confirm", key=f"{prefix}_confirm_delete"
                    )
                else:
                    st.caption("This model holds no data.")
                    confirm = model.name
                if st.button(
                    "Delete model", type="primary", key=f"{prefix}_delete", icon=":material/delete:"
                ):
                    with errors_shown():
                        catalog.delete_model(context.uow(), actor, model.id, confirm_name=confirm)
                        st.session_state.pop(SELECTED, None)
                        st.session_state.pop("models_pick", None)
                        st.toast(f"Deleted {model.name}.")
                        st.rerun()

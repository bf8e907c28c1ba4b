"""Provider connections: where models are trained, at what price, within what budget."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.domain import ProviderType
from core.permissions import Permission
from core.services import catalog
from core.services.catalog import ConnectionView
from ui import context
from ui.connection_form import TYPE_LABELS, connection_fields, type_picker
from ui.errors import attempt, errors_shown
from ui.formatting import money, plural

actor = context.actor()
can_manage = actor.can(Permission.MANAGE_CONNECTIONS)

st.title("Provider connections")
st.caption(
    "A connection names the environment variable or secret that holds its API key; the key "
    "itself is never stored, shown or logged. `local` runs offline with no key."
)


def _key_variable(c: ConnectionView) -> str:
    if c.provider_type == ProviderType.OPEN_WEIGHTS:
        return (c.api_key_env or "none needed") if c.base_url else "none needed"
    if c.provider_type == ProviderType.LOCAL or c.entra_id:
        return "none needed"
    return c.api_key_env or registry_default(c)


def registry_default(c: ConnectionView) -> str:
    return (
        "AZURE_OPENAI_API_KEY" if c.provider_type == ProviderType.AZURE_OPENAI else "OPENAI_API_KEY"
    )


rows = attempt(lambda: catalog.list_connections(context.uow(), actor)) or []
if rows:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Name": c.name,
                    "Type": TYPE_LABELS[c.provider_type],
                    "Base URL": c.base_url
                    or (
                        "in-process" if c.provider_type == ProviderType.OPEN_WEIGHTS else "default"
                    ),
                    "Key variable": _key_variable(c),
                    "Key": "Entra ID"
                    if c.entra_id
                    else ("present" if c.key_present else "MISSING"),
                    "Default base model": c.default_base_model or "the catalogue's",
                    "Price / 1M tokens": money(c.price_per_million_tokens),
                    "Hosting / hour": money(c.hosting_price_per_hour, missing="the catalogue's"),
                    "Monthly budget": money(c.monthly_budget, missing="no budget"),
                    "Models": c.model_count,
                }
                for c in rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("No connections yet.")


by_id = {c.id: c for c in rows}
# A connection just created is picked on the next run (a widget's key cannot be set after
# the widget was drawn).
if "connections_pick_next" in st.session_state:
    st.session_state["connections_pick"] = st.session_state.pop("connections_pick_next")
choice = st.selectbox(
    "Connection",
    [None, *by_id] if can_manage else list(by_id),
    format_func=lambda i: "➕ New connection" if i is None else by_id[i].name,
    key="connections_pick",
)
current = by_id.get(choice) if choice is not None else None
prefix = f"conn_{current.id}_v{current.row_version}" if current else "conn_new"

if current is not None:
    left, right = st.columns([1, 3])
    if left.button("Test connection", icon=":material/network_check:", key=f"{prefix}_test"):
        with right, st.spinner("Asking the provider for its models…"), errors_shown():
            models = catalog.test_connection(context.uow(), actor, current.id)
            st.success(f"Connected: {plural(len(models), 'model')} available.")
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Model": m.id,
                            "Fine-tunable": m.fine_tunable,
                            "Shutdown date": m.shutdown_date.isoformat() if m.shutdown_date else "",
                            "Owner": m.owned_by,
                        }
                        for m in models
                    ]
                ),
                hide_index=True,
            )
    if not current.key_present and not current.entra_id:
        st.warning(
            f"The API key is missing: set {_key_variable(current)} in the server's "
            "environment or .streamlit/secrets.toml."
        )

if can_manage:
    provider_type = type_picker(prefix, current)
    with st.form(f"{prefix}_form"):
        data = connection_fields(prefix, current, provider_type)
        saved = st.form_submit_button("Save" if current else "Create connection", type="primary")
    if saved:
        with errors_shown():
            if current is None:
                created = catalog.create_connection(context.uow(), actor, data)
                st.session_state["connections_pick_next"] = created.id
            else:
                catalog.update_connection(
                    context.uow(), actor, current.id, data, expected_version=current.row_version
                )
            st.toast("Connection saved.")
            st.rerun()
    deletable = current is not None and current.model_count == 0
    if deletable and st.button(
        "Delete this connection", key=f"{prefix}_delete", icon=":material/delete:"
    ):
        assert current is not None
        with errors_shown():
            catalog.delete_connection(context.uow(), actor, current.id)
            st.session_state.pop("connections_pick", None)
            st.rerun()

"""Provider connections: where models are trained, at what price, within what budget."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from core.domain import ProviderType
from core.permissions import Permission
from core.services import catalog
from core.services.catalog import ConnectionInput, ConnectionView
from ui import context
from ui.errors import attempt, errors_shown
from ui.formatting import money, plural

actor = context.actor()
can_manage = actor.can(Permission.MANAGE_CONNECTIONS)

st.title("Provider connections")
st.caption(
    "A connection names the environment variable or secret that holds its API key; the key "
    "itself is never stored, shown or logged. `local` runs offline with no key."
)

rows = attempt(lambda: catalog.list_connections(context.uow(), actor)) or []
if rows:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Name": c.name,
                    "Type": c.provider_type.value,
                    "Base URL": c.base_url or "default",
                    "Key variable": c.api_key_env
                    or (
                        "none needed" if c.provider_type == ProviderType.LOCAL else "OPENAI_API_KEY"
                    ),
                    "Key": "present" if c.key_present else "MISSING",
                    "Default base model": c.default_base_model or "none",
                    "Price / 1M tokens": money(c.price_per_million_tokens),
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


def _fields(prefix: str, current: ConnectionView | None) -> ConnectionInput:
    types = [ProviderType.OPENAI, ProviderType.LOCAL]
    name = st.text_input("Name", value=current.name if current else "", key=f"{prefix}_name")
    provider_type = st.radio(
        "Type",
        types,
        index=types.index(current.provider_type) if current else 0,
        format_func=lambda t: t.value,
        horizontal=True,
        key=f"{prefix}_type",
    )
    base_url = st.text_input(
        "Base URL (optional)",
        value=(current.base_url or "") if current else "",
        placeholder="https://api.openai.com/v1",
        key=f"{prefix}_url",
    )
    key_env = st.text_input(
        "Name of the environment variable or secret holding the API key",
        value=(current.api_key_env or "") if current else "OPENAI_API_KEY",
        help="For example OPENAI_API_KEY. Set its value in the environment or in "
        ".streamlit/secrets.toml on the server; never here.",
        key=f"{prefix}_key_env",
    )
    base_model = st.text_input(
        "Default base model",
        value=(current.default_base_model or "") if current else "",
        placeholder="gpt-4o-mini-2024-07-18",
        key=f"{prefix}_base_model",
    )
    c1, c2 = st.columns(2)
    price = c1.number_input(
        "Price per 1M training tokens",
        min_value=0.0,
        value=float(current.price_per_million_tokens) if current else 0.0,
        step=0.5,
        key=f"{prefix}_price",
    )
    budget = c2.number_input(
        "Monthly budget (empty: none)",
        min_value=0.0,
        value=float(current.monthly_budget)
        if current and current.monthly_budget is not None
        else None,
        step=10.0,
        key=f"{prefix}_budget",
    )
    notes = st.text_area(
        "Notes", value=current.notes if current else "", key=f"{prefix}_notes", height=68
    )
    return ConnectionInput(
        name=name,
        provider_type=provider_type,
        base_url=base_url,
        api_key_env=key_env,
        default_base_model=base_model,
        price_per_million_tokens=Decimal(str(price)),
        monthly_budget=Decimal(str(budget)) if budget is not None else None,
        notes=notes,
    )


by_id = {c.id: c for c in rows}
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
    if not current.key_present:
        st.warning(
            f"The API key is missing: set {current.api_key_env or 'OPENAI_API_KEY'} in the server's "
            "environment or .streamlit/secrets.toml."
        )

if can_manage:
    with st.form(f"{prefix}_form"):
        data = _fields(prefix, current)
        saved = st.form_submit_button("Save" if current else "Create connection", type="primary")
    if saved:
        with errors_shown():
            if current is None:
                created = catalog.create_connection(context.uow(), actor, data)
                st.session_state["connections_pick"] = created.id
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

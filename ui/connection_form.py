"""The fields of a provider connection, by type: OpenAI (a base URL and a key variable),
Azure OpenAI (the resource's endpoint, API version, a key variable or Microsoft Entra ID,
and where Resource Manager finds the resource to deploy trained models), open-weights (LoRA
rank, and where it serves: in-process or an OpenAI-compatible server), local (nothing)."""

from __future__ import annotations

from decimal import Decimal

import streamlit as st

from core.domain import ProviderType
from core.services.catalog import ConnectionInput, ConnectionView

TYPES = (
    ProviderType.OPENAI,
    ProviderType.AZURE_OPENAI,
    ProviderType.OPEN_WEIGHTS,
    ProviderType.LOCAL,
)
TYPE_LABELS = {
    ProviderType.OPENAI: "OpenAI",
    ProviderType.AZURE_OPENAI: "Azure OpenAI",
    ProviderType.OPEN_WEIGHTS: "Open-weights (LoRA, trains on this machine)",
    ProviderType.LOCAL: "Local retrieval (offline, learns nothing)",
}
BUNDLED_BASE_MODEL = "SmolLM2-135M-Instruct"
KEY_RULE = (
    "Only variables meant for keys can be named: OPENAI_…, AZURE_… or ARBITER_KEY_… "
    "(capital letters, digits and _). Set the value in the server's environment or "
    ".streamlit/secrets.toml; never here."
)


def type_picker(prefix: str, current: ConnectionView | None) -> ProviderType:
    # Outside the form, so that the fields below change with the type at once.
    chosen: ProviderType = st.radio(
        "Type",
        TYPES,
        index=TYPES.index(current.provider_type) if current else 0,
        format_func=TYPE_LABELS.__getitem__,
        horizontal=True,
        key=f"{prefix}_type",
        disabled=current is not None and current.model_count > 0,
        help="A connection that models use keeps its type: move the models first.",
    )
    return chosen


def _text(
    label: str, value: str | None, key: str, placeholder: str | None = None, help: str | None = None
) -> str:
    return (
        st.text_input(label, value=value or "", key=key, placeholder=placeholder, help=help) or ""
    )


def _access_fields(
    prefix: str, current: ConnectionView | None, provider_type: ProviderType
) -> tuple[str | None, str | None, bool]:
    """Where a cloud provider answers and how the studio signs in there: (base URL or
    endpoint, key variable, Entra ID). The offline types need none of it."""
    azure = provider_type == ProviderType.AZURE_OPENAI
    base_url: str | None = None
    key_env: str | None = None
    entra_id = False
    if azure:
        base_url = _text(
            "Endpoint",
            current.base_url if current else "",
            f"{prefix}_url",
            placeholder="https://YOUR-RESOURCE.openai.azure.com",
        )
        entra_id = st.toggle(
            "Sign in with Microsoft Entra ID (managed identity) instead of a key",
            value=current.entra_id if current else False,
            key=f"{prefix}_entra",
        )
    elif provider_type == ProviderType.OPENAI:
        base_url = _text(
            "Base URL (optional)",
            current.base_url if current else "",
            f"{prefix}_url",
            placeholder="https://api.openai.com/v1",
        )
    elif provider_type == ProviderType.OPEN_WEIGHTS:
        return _serving_fields(prefix, current)
    if provider_type in (ProviderType.OPENAI, ProviderType.AZURE_OPENAI) and not entra_id:
        default_env = "AZURE_OPENAI_API_KEY" if azure else "OPENAI_API_KEY"
        key_env = _text(
            "Name of the environment variable or secret holding the API key",
            current.api_key_env if current else default_env,
            f"{prefix}_key_env",
            help=KEY_RULE,
        )
    return base_url, key_env, entra_id


def _serving_fields(
    prefix: str, current: ConnectionView | None
) -> tuple[str | None, str | None, bool]:
    """Open-weights: chat in this process (no URL), or through an OpenAI-compatible server
    (vLLM with LoRA adapters) to which the worker publishes each trained adapter."""
    base_url = _text(
        "Serve through an OpenAI-compatible server (empty: in this process)",
        current.base_url if current else "",
        f"{prefix}_serve_url",
        placeholder="http://gpu-host:8000/v1",
        help="vLLM started with `vllm serve BASE --enable-lora --max-lora-rank R`; it must "
        "read the shared adapter directory (see README, Serving open-weights models).",
    )
    key_env = _text(
        "Name of the environment variable or secret holding the server's key (empty: none)",
        current.api_key_env if current else "",
        f"{prefix}_serve_key_env",
        placeholder="ARBITER_KEY_VLLM",
        help=KEY_RULE + " Only for a server started with --api-key.",
    )
    return base_url, key_env, False


def connection_fields(
    prefix: str, current: ConnectionView | None, provider_type: ProviderType
) -> ConnectionInput:
    name = _text("Name", current.name if current else "", f"{prefix}_name")
    azure = provider_type == ProviderType.AZURE_OPENAI
    base_url, key_env, entra_id = _access_fields(prefix, current, provider_type)
    open_weights = provider_type == ProviderType.OPEN_WEIGHTS
    base_model = _text(
        "Default base model",
        current.default_base_model if current else (BUNDLED_BASE_MODEL if open_weights else ""),
        # Its own key: the field starts with the bundled model, not what another type held.
        f"{prefix}_base_model" + ("_open_weights" if open_weights else ""),
        placeholder=BUNDLED_BASE_MODEL if open_weights else "gpt-4o-mini-2024-07-18",
        help="The bundled SmolLM2-135M-Instruct, or the path of a Hugging Face model folder "
        "on this server (never downloaded)"
        if open_weights
        else "One the base-model catalogue knows (Dashboard → Deprecation radar lists them).",
    )
    extra: dict[str, object] = _azure_fields(prefix, current) if azure else {}
    if open_weights:
        rank = st.number_input(
            "LoRA rank",
            min_value=1,
            max_value=256,
            value=(current.lora_rank or 16) if current else 16,
            step=1,
            key=f"{prefix}_lora_rank",
            help="Higher learns more and trains slower; 16 suits a few hundred examples.",
        )
        extra["lora_rank"] = int(rank)
    c1, c2 = st.columns(2)
    price = c1.number_input(
        "Price per 1M training tokens, USD (0: the catalogue's)",
        min_value=0.0,
        value=float(current.price_per_million_tokens) if current else 0.0,
        step=0.5,
        key=f"{prefix}_price",
    )
    budget = c2.number_input(
        "Monthly budget, USD (empty: none)",
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
        entra_id=entra_id,
        **extra,  # type: ignore[arg-type]
    )


def _azure_fields(prefix: str, current: ConnectionView | None) -> dict[str, object]:
    api_version = _text(
        "API version (empty: the newest stable one)",
        current.api_version if current else "",
        f"{prefix}_api_version",
        placeholder="2024-10-21",
    )
    manual = st.toggle(
        "I deploy trained models myself at Azure (then I name each deployment on the model's "
        "Versions tab)",
        value=current.manual_deployments if current else False,
        key=f"{prefix}_manual",
    )
    fields: dict[str, object] = {"api_version": api_version, "manual_deployments": manual}
    if not manual:
        st.caption(
            "Automatic deployments go through Azure Resource Manager with Microsoft Entra ID "
            "(a role that may create deployments on the resource)."
        )
        c1, c2, c3 = st.columns(3)
        fields["azure_subscription_id"] = c1.text_input(
            "Subscription id",
            value=(current.azure_subscription_id or "") if current else "",
            key=f"{prefix}_subscription",
        )
        fields["azure_resource_group"] = c2.text_input(
            "Resource group",
            value=(current.azure_resource_group or "") if current else "",
            key=f"{prefix}_group",
        )
        fields["azure_account_name"] = c3.text_input(
            "Resource name",
            value=(current.azure_account_name or "") if current else "",
            key=f"{prefix}_resource",
        )
    hosting = st.number_input(
        "Hosting price per hour of a deployment, USD (empty: the catalogue's)",
        min_value=0.0,
        value=float(current.hosting_price_per_hour)
        if current and current.hosting_price_per_hour is not None
        else None,
        step=0.1,
        key=f"{prefix}_hosting",
    )
    fields["hosting_price_per_hour"] = Decimal(str(hosting)) if hosting is not None else None
    return fields

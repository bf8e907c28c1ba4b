"""What a provider connection may hold: the checks of its form, per provider type.

The key itself never enters the database: a connection names the environment variable or
secret that holds it, and only names meant for keys qualify (``OPENAI_*``, ``AZURE_*``,
``ARBITER_KEY_*``), so that no setting can make the studio send another secret of the server
(a database password, say) to a URL as a bearer token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from core.domain import NAME_MAX, ProviderType
from core.errors import Problem, ValidationFailed
from core.providers.registry import DEFAULT_AZURE_API_VERSION, KEY_VARIABLE

# Something that looks like a key rather than the name of a variable holding one.
_LOOKS_LIKE_KEY = re.compile(r"^(sk-|sess-)|[a-z0-9]{32,}", re.IGNORECASE)
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
_AZURE_NAME = re.compile(r"^[A-Za-z0-9._()-]{1,90}$")
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
_CLOUD = (ProviderType.OPENAI, ProviderType.AZURE_OPENAI)


@dataclass(frozen=True)
class ConnectionInput:
    name: str
    provider_type: ProviderType
    base_url: str | None = None
    api_key_env: str | None = None
    default_base_model: str | None = None
    price_per_million_tokens: Decimal | str | float = Decimal("0")
    monthly_budget: Decimal | str | float | None = None
    notes: str = ""
    # Azure OpenAI (``base_url`` is then the resource's endpoint)
    api_version: str | None = None
    entra_id: bool = False
    azure_subscription_id: str | None = None
    azure_resource_group: str | None = None
    azure_account_name: str | None = None
    manual_deployments: bool = False
    hosting_price_per_hour: Decimal | str | float | None = None
    lora_rank: int | None = None  # open-weights; None keeps the stored rank


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _decimal(value: object, field: str, problems: list[Problem]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        problems.append(Problem(field, "enter a number"))
        return None
    if number < 0 or not number.is_finite():
        problems.append(Problem(field, "must be zero or more"))
        return None
    return number


def _key_problem(key_env: str) -> Problem | None:
    if _LOOKS_LIKE_KEY.search(key_env) and not key_env.isupper():
        return Problem(
            "API key variable",
            "enter the NAME of the environment variable or secret that holds the key "
            "(e.g. OPENAI_API_KEY), never the key itself",
        )
    if not KEY_VARIABLE.match(key_env):
        # Named back only when it is a plain variable name: never echo what may be a secret.
        named = f"{key_env} is not a variable meant for keys: " if key_env.isidentifier() else ""
        return Problem(
            "API key variable",
            f"{named}only variables meant for keys can be used, a name starting with "
            "OPENAI_, AZURE_ or ARBITER_KEY_ (capital letters, digits and _), e.g. "
            "OPENAI_API_KEY",
        )
    return None


def _azure(data: ConnectionInput, problems: list[Problem]) -> dict[str, Any]:
    coordinates = [
        _text(data.azure_subscription_id),
        _text(data.azure_resource_group),
        _text(data.azure_account_name),
    ]
    if not _text(data.base_url):
        problems.append(
            Problem("endpoint", "enter the resource's endpoint, e.g. https://NAME.openai.azure.com")
        )
    version = _text(data.api_version) or DEFAULT_AZURE_API_VERSION
    if not _API_VERSION.match(version):
        problems.append(Problem("API version", "a date like 2024-10-21 (or …-preview)"))
    if data.manual_deployments:
        coordinates = [None, None, None]
    elif not all(coordinates):
        problems.append(
            Problem(
                "deployments",
                "give the subscription, resource group and resource name (deployments are "
                "then made automatically), or choose that deployments are made by hand",
            )
        )
    for label, value in zip(
        ("subscription", "resource group", "resource"), coordinates, strict=True
    ):
        if value and not _AZURE_NAME.match(value):
            problems.append(Problem(label, "letters, digits and . _ ( ) - only"))
    return {
        "api_version": version,
        "entra_id": bool(data.entra_id),
        "azure_subscription_id": coordinates[0],
        "azure_resource_group": coordinates[1],
        "azure_account_name": coordinates[2],
        "manual_deployments": bool(data.manual_deployments),
        "hosting_price_per_hour": _decimal(data.hosting_price_per_hour, "hosting price", problems),
    }


def checked_connection(data: ConnectionInput) -> dict[str, Any]:
    """The connection's stored values, or ValidationFailed naming every bad field."""
    problems: list[Problem] = []
    name = data.name.strip()
    if not name:
        problems.append(Problem("name", "must not be empty"))
    elif len(name) > NAME_MAX:
        problems.append(Problem("name", f"use at most {NAME_MAX} characters"))
    try:
        provider_type = ProviderType(data.provider_type)
    except ValueError:
        problems.append(Problem("type", "choose one of " + ", ".join(ProviderType)))
        provider_type = ProviderType.LOCAL
    key_env = _text(data.api_key_env)
    if provider_type == ProviderType.AZURE_OPENAI and data.entra_id:
        key_env = None  # signs in with Microsoft Entra ID, no key
    if key_env is not None and (problem := _key_problem(key_env)):
        problems.append(problem)
    base_url = _text(data.base_url)
    if base_url and not _URL.match(base_url):
        problems.append(Problem("base URL", "enter an http(s) URL, e.g. https://api.openai.com/v1"))
    azure = (
        _azure(data, problems)
        if provider_type == ProviderType.AZURE_OPENAI
        else {
            "api_version": None,
            "entra_id": False,
            "azure_subscription_id": None,
            "azure_resource_group": None,
            "azure_account_name": None,
            "manual_deployments": False,
            "hosting_price_per_hour": None,
        }
    )
    # Open-weights with a base URL: served through an OpenAI-compatible server (vLLM).
    served = provider_type == ProviderType.OPEN_WEIGHTS and base_url is not None
    price = _decimal(data.price_per_million_tokens, "price per 1M tokens", problems)
    budget = _decimal(data.monthly_budget, "monthly budget", problems)
    if data.lora_rank is not None and not 1 <= data.lora_rank <= 256:
        problems.append(Problem("LoRA rank", "between 1 and 256, e.g. 16"))
    if problems:
        raise ValidationFailed("The connection cannot be saved.", problems)
    # Only when given: a form that does not show the rank never clears it.
    rank = {"lora_rank": data.lora_rank} if data.lora_rank is not None else {}
    return rank | {
        "name": name,
        "provider_type": provider_type,
        "base_url": base_url,
        "api_key_env": key_env if provider_type in _CLOUD or served else None,
        "default_base_model": _text(data.default_base_model),
        "price_per_million_tokens": price or Decimal("0"),
        "monthly_budget": budget,
        "notes": data.notes.strip(),
        **azure,
    }

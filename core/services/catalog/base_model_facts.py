"""What the catalogue knows of each base model: the catalogue file's facts (core/providers/
catalogue.toml) under the stored ones (an admin's, a provider's), fact by fact, each with its
source."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.domain import CATALOGUED_PROVIDERS, ProviderType
from core.models import BaseModelInfo
from core.providers import catalogue

# The facts a row can hold beside the file's (and so that an admin or a provider can set):
# the same facts the catalogue file holds.
ROW_FACTS = catalogue.FACTS


@dataclass(frozen=True)
class BaseModelRow:
    """A base model as the catalogue knows it. ``id`` is None for one only the catalogue
    file names (nothing stored); ``sources`` says per fact where it comes from
    ("catalogue: …", "admin", "provider")."""

    id: int | None
    provider_type: ProviderType
    name: str
    fine_tunable: bool
    context_tokens: int | None
    shutdown_date: date | None
    source: str | None  # of the shutdown date: "catalogue", "admin" or "provider"
    notes: str
    example_token_limit: int | None = None
    training_price_per_million: Decimal | None = None
    hosting_price_per_hour: Decimal | None = None
    fine_tuning_ends: date | None = None
    sources: dict[str, str] = field(default_factory=dict)


def _from_file(e: catalogue.CatalogueEntry) -> BaseModelRow:
    sources = {fact: f"catalogue: {text}" for fact, text in e.sources.items()}
    for fact in ROW_FACTS:
        if getattr(e, fact) is not None:
            sources.setdefault(fact, "catalogue")
    return BaseModelRow(
        id=None,
        provider_type=ProviderType(e.provider),
        name=e.id,
        fine_tunable=e.fine_tunable,
        context_tokens=e.context_tokens,
        shutdown_date=e.shutdown_date,
        source="catalogue" if e.shutdown_date else None,
        notes="",
        example_token_limit=e.example_token_limit,
        training_price_per_million=e.training_price_per_million,
        hosting_price_per_hour=e.hosting_price_per_hour,
        fine_tuning_ends=e.fine_tuning_ends,
        sources=sources,
    )


def _row_sources(b: BaseModelInfo) -> dict[str, str]:
    found = {str(k): str(v) for k, v in (b.sources or {}).items()}
    if b.shutdown_date is not None and "shutdown_date" not in found:
        found["shutdown_date"] = b.shutdown_source or "admin"  # rows from before the sources
    return found


def _merged(file_row: BaseModelRow | None, b: BaseModelInfo) -> BaseModelRow:
    """The stored row over the file's facts: a stored fact wins where it has a value."""
    sources = _row_sources(b)
    base = file_row or BaseModelRow(
        None, b.provider_type, b.name, b.fine_tunable, None, None, None, ""
    )
    changes: dict[str, Any] = {"id": b.id, "notes": b.notes}
    merged_sources = dict(base.sources)
    for fact in ROW_FACTS:
        value = getattr(b, fact)
        stored = fact in sources or (fact == "fine_tunable" and file_row is None)
        if value is not None and (stored or file_row is None):
            changes[fact] = value
            merged_sources[fact] = sources.get(fact, "provider")
    shutdown_source = merged_sources.get("shutdown_date")
    changes["source"] = shutdown_source.split(":")[0] if shutdown_source else None
    return replace(base, sources=merged_sources, **changes)


def catalogue_rows(session: Session) -> dict[tuple[str, str], BaseModelRow]:
    """Every base model known, by (provider type, name): the file's and the stored ones."""
    rows: dict[tuple[str, str], BaseModelRow] = {}
    for e in catalogue.load():
        if e.provider in ProviderType._value2member_map_:
            rows[(e.provider, e.id)] = _from_file(e)
    for b in session.scalars(select(BaseModelInfo)):
        key = (b.provider_type.value, b.name)
        rows[key] = _merged(rows.get(key), b)
    return rows


def base_model_facts(
    session: Session, provider_type: ProviderType | str, name: str | None
) -> BaseModelRow | None:
    """What the catalogue knows of one base model (None: nothing)."""
    if not name:
        return None
    return catalogue_rows(session).get((ProviderType(provider_type).value, name))


def base_model_refusal(
    provider_type: ProviderType, base_model: str | None, facts: BaseModelRow | None
) -> str | None:
    """Why a base model cannot be used on a connection of this type, if it cannot: not in
    the catalogue (a typo is caught here, not after an upload), or not fine-tunable."""
    if provider_type in CATALOGUED_PROVIDERS and facts is None:
        return (
            f"The base model {base_model!r} is not in the catalogue of {provider_type.value} "
            "models: choose one from the list on the model's settings, or an admin adds it "
            "on the Connections page (or refreshes the list from the provider)."
        )
    if facts is not None and not facts.fine_tunable:
        return f"The base model {base_model} cannot be fine-tuned at {provider_type.value}."
    return None

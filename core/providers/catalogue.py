"""The base-model catalogue file (``catalogue.toml`` beside this module): per provider and
base model, what the providers' APIs do not say reliably, each fact with its source.

Pure data and a reader; the database's admin edits and provider reports are joined with it
in ``core.services.catalog.base_models``.
"""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).resolve().parent / "catalogue.toml"
CATALOGUE_ENV = "ARBITER_CATALOGUE"
FACTS = (
    "fine_tunable",
    "context_tokens",
    "example_token_limit",
    "training_price_per_million",
    "hosting_price_per_hour",
    "shutdown_date",
    "fine_tuning_ends",
)


@dataclass(frozen=True)
class CatalogueEntry:
    provider: str
    id: str
    fine_tunable: bool = True
    context_tokens: int | None = None
    example_token_limit: int | None = None
    training_price_per_million: Decimal | None = None
    hosting_price_per_hour: Decimal | None = None
    shutdown_date: date | None = None
    fine_tuning_ends: date | None = None
    # fact name -> where it comes from (a sentence naming the document)
    sources: dict[str, str] = field(default_factory=dict)


class CatalogueError(ValueError):
    """The catalogue file does not fit: the message names the entry."""


def _entry(raw: dict[str, Any], named_sources: dict[str, str], number: int) -> CatalogueEntry:
    where = f"{catalogue_path().name}, model {number}"
    unknown = set(raw) - {"provider", "id", "sources", *FACTS}
    if unknown or "provider" not in raw or "id" not in raw:
        raise CatalogueError(f"{where}: needs provider and id; unknown keys {sorted(unknown)}")
    values = dict(raw)
    sources = {
        fact: named_sources.get(source, source)
        for fact, source in values.pop("sources", {}).items()
    }
    for price in ("training_price_per_million", "hosting_price_per_hour"):
        if values.get(price) is not None:
            values[price] = Decimal(str(values[price]))
    for day in ("shutdown_date", "fine_tuning_ends"):
        if values.get(day) is not None and not isinstance(values[day], date):
            raise CatalogueError(f"{where}: {day} must be a date (YYYY-MM-DD)")
    return CatalogueEntry(sources=sources, **values)


def catalogue_path() -> Path:
    """The shipped file, or an operator's own (ARBITER_CATALOGUE), e.g. with a provider's
    new dates before the project ships them."""
    return Path(os.environ.get(CATALOGUE_ENV) or CATALOGUE)


@functools.cache
def load() -> tuple[CatalogueEntry, ...]:
    path = catalogue_path()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"{path.name}: {exc}") from None
    named = {str(k): str(v) for k, v in raw.get("sources", {}).items()}
    return tuple(_entry(m, named, i) for i, m in enumerate(raw.get("models", []), 1))


def entry(provider: str, model_id: str) -> CatalogueEntry | None:
    return next((e for e in load() if e.provider == provider and e.id == model_id), None)

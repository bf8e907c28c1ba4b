"""The deprecation radar: which base models are in use, when each retires, and which models
must move before then. Shutdown dates come from the base-model catalogue
(``core.services.catalog.base_models``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from core.domain import ProviderType, utcnow
from core.models import BaseModelInfo
from core.permissions import Actor, Permission, requires
from core.services.catalog.usage import model_usage
from core.uow import UnitOfWork

RETIREMENT_WINDOW_DAYS = 90


OPENAI_WIND_DOWN_NOTICE = (
    "OpenAI is winding down self-serve fine-tuning: from early 2027 it no longer starts new "
    "fine-tuning jobs, and base models such as gpt-4o-mini retire soon after. Models already "
    "trained keep answering until their base model's shutdown date. Export every model's "
    "training set as JSONL to train it elsewhere (another cloud or a self-hosted trainer)."
)


@dataclass(frozen=True)
class BaseModelInUse:
    provider_type: ProviderType
    base_model: str
    connections: list[str]
    models: list[str]
    model_ids: list[int]
    shutdown_date: date | None
    source: str | None
    days_left: int | None
    flagged: bool


@dataclass(frozen=True)
class RetirementFlag:
    model_id: int
    model_name: str
    base_model: str
    shutdown_date: date
    days_left: int

    @property
    def text(self) -> str:
        when = self.shutdown_date.isoformat()
        if self.days_left < 0:
            return f"Its base model {self.base_model} was retired on {when}."
        return f"Its base model {self.base_model} retires on {when} (in {self.days_left} days)."


def _today(today: date | None) -> date:
    return today or utcnow().date()


def _in_use(uow: UnitOfWork, today: date, within_days: int) -> list[BaseModelInUse]:
    s = uow.session
    known = {(b.provider_type, b.name): b for b in s.scalars(select(BaseModelInfo))}
    groups: dict[tuple[ProviderType, str], dict[str, Any]] = {}
    for usage in sorted(model_usage(s).values(), key=lambda u: u.model_name.lower()):
        if usage.connection is None or not usage.base_model:
            continue
        key = (usage.connection.provider_type, usage.base_model)
        group = groups.setdefault(key, {"connections": [], "models": [], "ids": []})
        if usage.connection.name not in group["connections"]:
            group["connections"].append(usage.connection.name)
        group["models"].append(usage.model_name)
        group["ids"].append(usage.model_id)
    result = []
    for (provider_type, name), group in groups.items():
        info = known.get((provider_type, name))
        shutdown = info.shutdown_date if info else None
        days_left = (shutdown - today).days if shutdown else None
        result.append(
            BaseModelInUse(
                provider_type=provider_type,
                base_model=name,
                connections=group["connections"],
                models=group["models"],
                model_ids=group["ids"],
                shutdown_date=shutdown,
                source=info.shutdown_source if info and shutdown else None,
                days_left=days_left,
                flagged=days_left is not None and days_left <= within_days,
            )
        )
    # Soonest retirement first; unknown dates last.
    return sorted(
        result, key=lambda r: (r.shutdown_date is None, r.shutdown_date or date.max, r.base_model)
    )


@requires(Permission.READ)
def base_models_in_use(
    uow: UnitOfWork,
    actor: Actor,
    *,
    today: date | None = None,
    within_days: int = RETIREMENT_WINDOW_DAYS,
) -> list[BaseModelInUse]:
    """Every base model some model uses, with its shutdown date where known."""
    with uow:
        return _in_use(uow, _today(today), within_days)


@requires(Permission.READ)
def models_at_risk(
    uow: UnitOfWork,
    actor: Actor,
    *,
    today: date | None = None,
    within_days: int = RETIREMENT_WINDOW_DAYS,
) -> dict[int, RetirementFlag]:
    """Models whose base model retires within the window (or already has), by model id."""
    with uow:
        flags: dict[int, RetirementFlag] = {}
        for row in _in_use(uow, _today(today), within_days):
            if not row.flagged or row.shutdown_date is None or row.days_left is None:
                continue
            for model_id, model_name in zip(row.model_ids, row.models, strict=True):
                flags[model_id] = RetirementFlag(
                    model_id, model_name, row.base_model, row.shutdown_date, row.days_left
                )
        return flags


@requires(Permission.READ)
def uses_openai(uow: UnitOfWork, actor: Actor) -> bool:
    """Whether any model trains at OpenAI (and so needs the wind-down notice)."""
    with uow:
        return any(
            u.connection is not None and u.connection.provider_type == ProviderType.OPENAI
            for u in model_usage(uow.session).values()
        )

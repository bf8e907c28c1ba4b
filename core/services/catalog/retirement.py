"""The deprecation radar: which base models are in use, when each retires, until when new
fine-tuning jobs are taken on it, and which models must move before then. The dates come from
the base-model catalogue (``core.services.catalog.base_models``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from core.domain import ProviderType, utcnow
from core.permissions import Actor, Permission, requires
from core.services.catalog.base_model_facts import catalogue_rows
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
    # The last day the provider takes new fine-tuning jobs on it, and the days until then.
    fine_tuning_ends: date | None = None
    fine_tuning_days_left: int | None = None


@dataclass(frozen=True)
class RetirementFlag:
    model_id: int
    model_name: str
    base_model: str
    shutdown_date: date | None
    days_left: int | None
    fine_tuning_ends: date | None = None
    fine_tuning_days_left: int | None = None

    @property
    def text(self) -> str:
        parts = []
        if self.fine_tuning_ends is not None and self.fine_tuning_days_left is not None:
            ends = self.fine_tuning_ends.isoformat()
            if self.fine_tuning_days_left < 0:
                parts.append(
                    f"Its provider takes no new fine-tuning jobs on {self.base_model} since "
                    f"{ends}: move it to another connection to compile it again."
                )
            else:
                parts.append(
                    f"New fine-tuning jobs on {self.base_model} are taken until {ends} "
                    f"({self.fine_tuning_days_left} days left)."
                )
        if self.shutdown_date is not None and self.days_left is not None:
            when = self.shutdown_date.isoformat()
            if self.days_left < 0:
                parts.append(f"Its base model {self.base_model} was retired on {when}.")
            else:
                parts.append(
                    f"Its base model {self.base_model} retires on {when} "
                    f"(in {self.days_left} days)."
                )
        return " ".join(parts)


def _today(today: date | None) -> date:
    return today or utcnow().date()


def _in_use(uow: UnitOfWork, today: date, within_days: int) -> list[BaseModelInUse]:
    s = uow.session
    known = catalogue_rows(s)
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
        info = known.get((provider_type.value, name))
        shutdown = info.shutdown_date if info else None
        days_left = (shutdown - today).days if shutdown else None
        ends = info.fine_tuning_ends if info else None
        ends_left = (ends - today).days if ends else None
        result.append(
            BaseModelInUse(
                provider_type=provider_type,
                base_model=name,
                connections=group["connections"],
                models=group["models"],
                model_ids=group["ids"],
                shutdown_date=shutdown,
                source=info.source if info and shutdown else None,
                days_left=days_left,
                flagged=any(d is not None and d <= within_days for d in (days_left, ends_left)),
                fine_tuning_ends=ends,
                fine_tuning_days_left=ends_left,
            )
        )
    # Soonest deadline first; unknown dates last.
    return sorted(
        result, key=lambda r: (_deadline(r) is None, _deadline(r) or date.max, r.base_model)
    )


def _deadline(row: BaseModelInUse) -> date | None:
    return min((d for d in (row.fine_tuning_ends, row.shutdown_date) if d), default=None)


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
            if not row.flagged:
                continue
            for model_id, model_name in zip(row.model_ids, row.models, strict=True):
                flags[model_id] = RetirementFlag(
                    model_id,
                    model_name,
                    row.base_model,
                    row.shutdown_date,
                    row.days_left,
                    row.fine_tuning_ends,
                    row.fine_tuning_days_left,
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

"""The base-model catalogue: per provider, the base models a connection can use and what is
known of each (fine-tunable, context and per-example token limits, training and hosting
prices, shutdown date, last day for new fine-tuning jobs), each fact with its source.

Three layers, the later winning fact by fact: the catalogue file the project keeps
(``core/providers/catalogue.toml``), what an admin typed in (audited), and what a provider's
model list reports (``refresh_from_providers``, also run by the worker once a day). A
provider's shutdown date replaces a typed-in one at the next refresh.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from core.domain import NOTES_MAX, ProviderType
from core.errors import Problem, ProviderError, ValidationFailed
from core.models import BaseModelInfo
from core.permissions import Actor, Permission, public, requires
from core.providers.base import BaseModel
from core.providers.registry import ConnectionSettings, key_is_present, provider_for
from core.services.accounts.audit import record_audit
from core.services.catalog.base_model_facts import ROW_FACTS, BaseModelRow, catalogue_rows
from core.services.catalog.usage import connection_facts, model_usage
from core.services.shared import BASE_MODEL_LIST_LOCK, get_or_404, one_at_a_time, snapshot
from core.uow import UnitOfWork

log = logging.getLogger("arbiter.deprecation")

REFRESH_EVERY_SECONDS = 24 * 3600
_AUDITED = ("provider_type", "name", *ROW_FACTS, "notes")


@dataclass(frozen=True)
class BaseModelInput:
    provider_type: ProviderType
    name: str
    shutdown_date: date | None = None
    notes: str = ""
    fine_tunable: bool = True
    context_tokens: int | None = None
    example_token_limit: int | None = None
    training_price_per_million: Decimal | None = None
    hosting_price_per_hour: Decimal | None = None
    fine_tuning_ends: date | None = None


@dataclass(frozen=True)
class RefreshReport:
    connections_asked: int
    dates_found: int
    rows_written: int
    problems: list[str] = field(default_factory=list)


@requires(Permission.READ)
def list_base_models(uow: UnitOfWork, actor: Actor) -> list[BaseModelRow]:
    with uow:
        rows = catalogue_rows(uow.session).values()
        return sorted(rows, key=lambda r: (r.provider_type.value, r.name))


def _clean(data: BaseModelInput) -> dict[str, Any]:
    problems = []
    name = data.name.strip()
    if not name:
        problems.append(Problem("name", "must not be empty"))
    elif len(name) > 200:
        problems.append(Problem("name", "use at most 200 characters"))
    try:
        provider_type = ProviderType(data.provider_type)
    except ValueError:
        problems.append(Problem("provider", "choose one of " + ", ".join(ProviderType)))
        provider_type = ProviderType.OPENAI
    if len(data.notes) > NOTES_MAX:
        problems.append(Problem("notes", f"use at most {NOTES_MAX:,} characters"))
    for label, number in (
        ("context tokens", data.context_tokens),
        ("tokens per example", data.example_token_limit),
    ):
        if number is not None and number <= 0:
            problems.append(Problem(label, "must be a positive number"))
    for label, price in (
        ("training price", data.training_price_per_million),
        ("hosting price", data.hosting_price_per_hour),
    ):
        if price is not None and Decimal(price) < 0:
            problems.append(Problem(label, "must not be negative"))
    if problems:
        raise ValidationFailed("The base model cannot be saved.", problems)
    values = {fact: getattr(data, fact) for fact in ROW_FACTS}
    return {"provider_type": provider_type, "name": name, "notes": data.notes.strip(), **values}


@requires(Permission.MANAGE_CONNECTIONS)
def save_base_model(uow: UnitOfWork, actor: Actor, data: BaseModelInput) -> BaseModelRow:
    """Set what is known of a base model (audited); each fact given is the admin's now."""
    values = _clean(data)
    with uow:
        s = uow.session
        row = s.scalar(
            select(BaseModelInfo).where(
                BaseModelInfo.provider_type == values["provider_type"],
                BaseModelInfo.name == values["name"],
            )
        )
        before = snapshot(row, _AUDITED) if row is not None else None
        if row is None:
            row = BaseModelInfo(provider_type=values["provider_type"], name=values["name"])
            s.add(row)
        sources = dict(row.sources or {})
        for fact in ROW_FACTS:
            setattr(row, fact, values[fact])
            if values[fact] is None:
                sources.pop(fact, None)  # the catalogue file's fact applies again
            else:
                sources[fact] = "admin"
        row.notes = values["notes"]
        row.sources = sources
        row.shutdown_source = "admin" if row.shutdown_date else None
        s.flush()
        after = snapshot(row, _AUDITED)
        if after != before:
            record_audit(
                s,
                actor,
                "create" if before is None else "update",
                "base_model",
                row.id,
                f"{'added' if before is None else 'changed'} base model {row.name}"
                + (f" (shutdown {row.shutdown_date.isoformat()})" if row.shutdown_date else ""),
                before=before,
                after=after,
            )
        uow.commit()
        return catalogue_rows(s)[(row.provider_type.value, row.name)]


@requires(Permission.MANAGE_CONNECTIONS)
def delete_base_model(uow: UnitOfWork, actor: Actor, base_model_id: int) -> None:
    """Forget what was stored of a base model (the catalogue file's facts remain)."""
    with uow:
        row = get_or_404(uow.session, BaseModelInfo, base_model_id, "Base model")
        record_audit(
            uow.session,
            actor,
            "delete",
            "base_model",
            row.id,
            f"removed base model {row.name}",
            before=snapshot(row, _AUDITED),
        )
        uow.session.delete(row)
        uow.commit()


def _store_provider_list(
    uow: UnitOfWork, provider_type: ProviderType, offered: list[BaseModel], in_use: set[str]
) -> tuple[int, int]:
    """Upsert what the provider says: every fine-tunable model, and any model in use."""
    dates = written = 0
    with uow:
        s = uow.session
        # Workers started together all refresh at once: without this, each would insert the
        # models none had seen and all but one would fail on the unique name.
        one_at_a_time(s, BASE_MODEL_LIST_LOCK)
        known = {
            b.name: b
            for b in s.scalars(
                select(BaseModelInfo).where(BaseModelInfo.provider_type == provider_type)
            )
        }
        for model in offered:
            if not (model.fine_tunable or model.id in in_use or model.shutdown_date):
                continue
            row = known.get(model.id)
            if row is None:
                row = BaseModelInfo(provider_type=provider_type, name=model.id[:200])
                s.add(row)
            sources = dict(row.sources or {})
            row.fine_tunable = model.fine_tunable
            sources["fine_tunable"] = "provider"
            if model.context_tokens:
                row.context_tokens = model.context_tokens
                sources["context_tokens"] = "provider"
            if model.shutdown_date is not None:
                dates += 1
                row.shutdown_date = model.shutdown_date
                row.shutdown_source = "provider"
                sources["shutdown_date"] = "provider"
            if model.fine_tuning_ends is not None:
                row.fine_tuning_ends = model.fine_tuning_ends
                sources["fine_tuning_ends"] = "provider"
            row.sources = sources
            written += 1
        uow.commit()
    return dates, written


def _refresh(uow: UnitOfWork, *, only_with_keys: bool) -> RefreshReport:
    with uow:
        usage = model_usage(uow.session)
        conns = connection_facts(uow.session)
    # Connections that reach the same provider account are asked once.
    targets: dict[ConnectionSettings, tuple[str, set[str]]] = {}
    for conn in conns.values():
        if only_with_keys and not key_is_present(conn.settings):
            continue
        in_use = {
            u.base_model
            for u in usage.values()
            if u.connection is not None and u.connection.id == conn.id and u.base_model
        }
        name, models = targets.get(conn.settings, (conn.name, set()))
        targets[conn.settings] = (name, models | in_use)
    problems: list[str] = []
    dates = written = 0
    for settings, (name, in_use) in targets.items():
        # Outside any transaction: a slow provider must not hold the database.
        try:
            offered = provider_for(settings).list_base_models()
        except ProviderError as exc:
            problems.append(f"{name}: {exc.message}")
            continue
        found, stored = _store_provider_list(uow, settings.provider_type, offered, in_use)
        dates += found
        written += stored
    return RefreshReport(len(targets), dates, written, problems)


@requires(Permission.MANAGE_CONNECTIONS)
def refresh_from_providers(uow: UnitOfWork, actor: Actor) -> RefreshReport:
    """Ask every connection's provider for its base models and their shutdown dates."""
    return _refresh(uow, only_with_keys=False)


_last_refresh: dict[str, float] = {}


@public
def refresh_shutdown_dates_task(uow: UnitOfWork, worker_name: str) -> bool:
    """Worker task: refresh the dates once a day per process, from connections whose key is
    configured (a missing key is the admin's business, not a daily error)."""
    now = time.monotonic()
    last = _last_refresh.get("all")
    if last is not None and now - last < REFRESH_EVERY_SECONDS:
        return False
    _last_refresh["all"] = now
    report = _refresh(uow, only_with_keys=True)
    for problem in report.problems:
        log.warning("base-model refresh: %s", problem)
    return False

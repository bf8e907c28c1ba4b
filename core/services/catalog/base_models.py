"""The base-model catalogue: the models each provider offers, with their shutdown dates.

Shutdown dates come from the provider's model list where it gives them (``refresh_from_
providers``, also run by the worker once a day) and otherwise from the base-model table that
admins edit (audited). A provider's date replaces a typed-in one at the next refresh.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from core.domain import NOTES_MAX, ProviderType
from core.errors import Problem, ProviderError, ValidationFailed
from core.models import BaseModelInfo
from core.permissions import Actor, Permission, public, requires
from core.providers.base import BaseModel
from core.providers.registry import ConnectionSettings, key_is_present, provider_for
from core.services.accounts.audit import record_audit
from core.services.catalog.usage import connection_facts, model_usage
from core.services.shared import BASE_MODEL_LIST_LOCK, get_or_404, one_at_a_time, snapshot
from core.uow import UnitOfWork

log = logging.getLogger("arbiter.deprecation")

REFRESH_EVERY_SECONDS = 24 * 3600
_AUDITED = ("provider_type", "name", "fine_tunable", "context_tokens", "shutdown_date", "notes")


@dataclass(frozen=True)
class BaseModelRow:
    id: int
    provider_type: ProviderType
    name: str
    fine_tunable: bool
    context_tokens: int | None
    shutdown_date: date | None
    source: str | None
    notes: str


@dataclass(frozen=True)
class BaseModelInput:
    provider_type: ProviderType
    name: str
    shutdown_date: date | None = None
    notes: str = ""
    fine_tunable: bool = True
    context_tokens: int | None = None


@dataclass(frozen=True)
class RefreshReport:
    connections_asked: int
    dates_found: int
    rows_written: int
    problems: list[str] = field(default_factory=list)


def _row(b: BaseModelInfo) -> BaseModelRow:
    return BaseModelRow(
        b.id,
        b.provider_type,
        b.name,
        b.fine_tunable,
        b.context_tokens,
        b.shutdown_date,
        b.shutdown_source,
        b.notes,
    )


@requires(Permission.READ)
def list_base_models(uow: UnitOfWork, actor: Actor) -> list[BaseModelRow]:
    with uow:
        rows = uow.session.scalars(
            select(BaseModelInfo).order_by(BaseModelInfo.provider_type, BaseModelInfo.name)
        )
        return [_row(b) for b in rows]


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
        problems.append(Problem("provider", "choose openai or local"))
        provider_type = ProviderType.OPENAI
    if len(data.notes) > NOTES_MAX:
        problems.append(Problem("notes", f"use at most {NOTES_MAX:,} characters"))
    if data.context_tokens is not None and data.context_tokens <= 0:
        problems.append(Problem("context tokens", "must be a positive number"))
    if problems:
        raise ValidationFailed("The base model cannot be saved.", problems)
    return {
        "provider_type": provider_type,
        "name": name,
        "shutdown_date": data.shutdown_date,
        "notes": data.notes.strip(),
        "fine_tunable": data.fine_tunable,
        "context_tokens": data.context_tokens,
    }


@requires(Permission.MANAGE_CONNECTIONS)
def save_base_model(uow: UnitOfWork, actor: Actor, data: BaseModelInput) -> BaseModelRow:
    """Add a base model or change its shutdown date and notes (audited)."""
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
            row = BaseModelInfo(**values)
            s.add(row)
        else:
            for key, value in values.items():
                setattr(row, key, value)
        if (
            before is None
            or before.get("shutdown_date") != snapshot(row, ["shutdown_date"])["shutdown_date"]
        ):
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
        return _row(row)


@requires(Permission.MANAGE_CONNECTIONS)
def delete_base_model(uow: UnitOfWork, actor: Actor, base_model_id: int) -> None:
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
            row.fine_tunable = model.fine_tunable
            if model.context_tokens:
                row.context_tokens = model.context_tokens
            if model.shutdown_date is not None:
                dates += 1
                row.shutdown_date = model.shutdown_date
                row.shutdown_source = "provider"
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

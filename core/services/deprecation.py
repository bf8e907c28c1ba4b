"""The deprecation radar: which base models are in use, when each retires, and which models
must move before then.

Shutdown dates come from the provider's model list where it gives them (``refresh_from_
providers``, also run by the worker once a day) and otherwise from the base-model table that
admins edit (audited). A provider's date replaces a typed-in one at the next refresh.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from core.domain import NOTES_MAX, ModelKind, ProviderType, utcnow
from core.errors import Problem, ProviderError, ValidationFailed
from core.models import AIModel, BaseModelInfo
from core.permissions import Actor, Permission, public, requires
from core.providers.base import BaseModel
from core.providers.registry import ConnectionSettings, key_is_present, provider_for
from core.services import _training_data as training_data
from core.services._common import (
    BASE_MODEL_LIST_LOCK,
    get_or_404,
    one_at_a_time,
    record_audit,
    snapshot,
)
from core.services._usage import connections, model_usage
from core.uow import UnitOfWork

log = logging.getLogger("arbiter.deprecation")

RETIREMENT_WINDOW_DAYS = 90
REFRESH_EVERY_SECONDS = 24 * 3600
OPENAI_WIND_DOWN_NOTICE = (
    "OpenAI is winding down self-serve fine-tuning: from early 2027 it no longer starts new "
    "fine-tuning jobs, and base models such as gpt-4o-mini retire soon after. Models already "
    "trained keep answering until their base model's shutdown date. Export every model's "
    "training set as JSONL to train it elsewhere (another cloud or a self-hosted trainer)."
)
_AUDITED = ("provider_type", "name", "fine_tunable", "context_tokens", "shutdown_date", "notes")


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
        conns = connections(uow.session)
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


# --- taking the training data elsewhere -----------------------------------------------------


@dataclass(frozen=True)
class ExportedTrainingSet:
    model_id: int
    model_name: str
    filename: str
    parent_name: str | None
    base_model: str | None
    provider_type: str | None
    examples: int
    sha256: str
    content: bytes

    def manifest_entry(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "model": self.model_name,
            "parent": self.parent_name,
            "file": self.filename if self.examples else None,
            "examples": self.examples,
            "sha256": self.sha256 if self.examples else None,
            "base_model": self.base_model,
            "provider": self.provider_type,
        }


@dataclass(frozen=True)
class TrainingSetsExport:
    """Every fine-tunable model's training set as provider-neutral chat JSONL, one file per
    model, with a manifest naming each file's model, base model and example count."""

    made_at: datetime
    sets: list[ExportedTrainingSet]

    @property
    def filename(self) -> str:
        return f"arbiter-training-sets-{self.made_at:%Y-%m-%d}.zip"

    @property
    def examples(self) -> int:
        return sum(s.examples for s in self.sets)

    @property
    def files(self) -> dict[str, bytes]:
        """What the export holds, by file name: the non-empty sets and the manifest."""
        manifest = {
            "made_at": self.made_at.isoformat(),
            "format": 'chat JSONL: one {"messages": [...]} example per line, system message '
            "first; assistant messages may carry a weight",
            "models": [s.manifest_entry() for s in self.sets],
        }
        files = {s.filename: s.content for s in self.sets if s.examples}
        files["manifest.json"] = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
        return files

    def as_zip(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in self.files.items():
                archive.writestr(name, content)
        return buffer.getvalue()


def _file_name(model_id: int, name: str) -> str:
    # Model names are free text; the id keeps two names that fold alike apart.
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "model"
    return f"{model_id:04d}-{slug}.jsonl"


@requires(Permission.READ)
def export_training_sets(uow: UnitOfWork, actor: Actor) -> TrainingSetsExport:
    """Every arbiter's training set as it stands (the hierarchy applied, as a compilation
    would build it), for training it elsewhere once the provider stops fine-tuning."""
    with uow:
        s = uow.session
        models = list(
            s.scalars(
                select(AIModel).where(AIModel.kind == ModelKind.ARBITER).order_by(AIModel.name)
            )
        )
        names = {r.id: r.name for r in s.execute(select(AIModel.id, AIModel.name))}
        sets = []
        for model in models:
            inputs = training_data.model_inputs(s, model)
            built = training_data.load_training_set(s, inputs)
            sets.append(
                ExportedTrainingSet(
                    model_id=model.id,
                    model_name=model.name,
                    filename=_file_name(model.id, model.name),
                    parent_name=names.get(model.parent_id) if model.parent_id else None,
                    base_model=inputs.base_model,
                    provider_type=inputs.connection.provider_type.value
                    if inputs.connection
                    else None,
                    examples=built.size,
                    sha256=built.sha256,
                    content=built.content,
                )
            )
        return TrainingSetsExport(utcnow(), sets)

"""Compilation history (read side): the paged list, one compilation in full, live progress,
training metrics and downloads.

The compilation engine (``core.services.compilations``) writes; this module only reads. The
JSON columns the engine fills (validation report, dataset statistics, diff) are read
tolerantly: a key that an older compilation lacks shows as "not recorded", never as an error.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlencode

import pandas as pd
from sqlalchemy import Select, func, select

from core.domain import ACTIVE_COMPILATION_STATUSES, CompilationStatus, utcnow
from core.errors import NotFound
from core.models import (
    AIModel,
    Compilation,
    CompilationAsset,
    CompilationEvent,
    ModelVersion,
    User,
)
from core.permissions import Actor, Permission, public, requires
from core.services._common import Page, get_or_404
from core.services._usage import as_utc, model_usage
from core.uow import UnitOfWork

_Q = TypeVar("_Q", bound=Select[*tuple[Any, ...]])
# The steps a compilation walks through, in order, for "step 2 of 4".
STEPS: tuple[CompilationStatus, ...] = (
    CompilationStatus.QUEUED,
    CompilationStatus.VALIDATING,
    CompilationStatus.UPLOADING,
    CompilationStatus.TRAINING,
)
MAX_PAGE = 500
LATEST_EVENTS = 8
# Provider metric names as OpenAI reports them in metric events and checkpoints.
METRIC_NAMES = (
    "train_loss",
    "valid_loss",
    "full_valid_loss",
    "train_mean_token_accuracy",
    "valid_mean_token_accuracy",
    "full_valid_mean_token_accuracy",
)


@dataclass(frozen=True)
class HistoryFilter:
    model_id: int | None = None
    statuses: tuple[CompilationStatus, ...] = ()
    requested_by_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class CompilationRow:
    id: int
    model_id: int
    model_name: str
    status: CompilationStatus
    requested_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    forced: bool
    config_only: bool
    example_count: int | None
    token_count: int | None
    cost_estimate: Decimal | None
    actual_cost: Decimal | None
    validation_score: float | None
    version_number: int | None
    # Why it was skipped or held back, or the first line of its error.
    outcome: str


@dataclass(frozen=True)
class Facets:
    models: list[tuple[int, str]]
    requesters: list[tuple[int, str]]


@dataclass(frozen=True)
class EventView:
    id: int
    created_at: datetime
    level: str
    event_type: str
    message: str
    data: dict[str, Any] | None


@dataclass(frozen=True)
class Progress:
    id: int
    model_id: int
    model_name: str
    status: CompilationStatus
    provider_status: str | None
    step: int
    step_count: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    elapsed_seconds: float
    estimated_finish_at: datetime | None
    cancel_requested: bool
    latest_events: list[EventView]
    outcome: str

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_COMPILATION_STATUSES


@dataclass(frozen=True)
class RecordRef:
    """A record a finding or a diff names: a Q&A or conversation of a model, or a file line."""

    kind: str  # "qa", "conversation" or "line"
    record_id: int
    model_id: int | None = None
    model_name: str = ""
    relation: str = ""

    @property
    def label(self) -> str:
        if self.kind == "line":
            return f"line {self.record_id}"
        what = "Q&A" if self.kind == "qa" else self.kind
        return f"{what} #{self.record_id} of {self.model_name or f'model #{self.model_id}'}"

    @property
    def link(self) -> str | None:
        if self.kind == "qa":
            return record_link(self.model_id, qa_id=self.record_id)
        if self.kind == "conversation":
            return record_link(self.model_id, conversation_id=self.record_id)
        return None


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" or "warning"
    code: str
    message: str
    line: int | None
    records: tuple[RecordRef, ...] = ()

    @property
    def where(self) -> str:
        named = [r for r in self.records if r.kind != "line"]
        if named:
            text = ", ".join(r.label for r in named[:3])
            more = f" and {len(named) - 3} more" if len(named) > 3 else ""
            return text + more + (f" (line {self.line})" if self.line else "")
        return f"line {self.line}" if self.line else "training set"


@dataclass(frozen=True)
class AssetInfo:
    kind: str
    filename: str  # as it downloads
    media_type: str  # as it downloads
    size_bytes: int  # as stored
    compressed: bool = False  # stored gzipped; it downloads uncompressed


@dataclass(frozen=True)
class AssetFile:
    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class VersionFacts:
    id: int
    number: int
    provider_model_id: str
    dataset_hash: str | None
    validation_score: float | None


@dataclass(frozen=True)
class CompilationDetail:
    id: int
    model_id: int
    model_name: str
    status: CompilationStatus
    provider_status: str | None
    requested_by: str | None
    forced: bool
    config_only: bool
    budget_override: bool
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    estimated_finish_at: datetime | None
    base_model: str | None
    provider_file_id: str | None
    provider_job_id: str | None
    provider_model: str | None
    dataset_hash: str | None
    example_count: int | None
    token_count: int | None
    billed_tokens_estimate: int | None
    cost_estimate: Decimal | None
    trained_tokens: int | None
    actual_cost: Decimal | None
    price_per_million_tokens: Decimal | None
    validation_score: float | None
    error: str | None
    reason: str | None
    build_log: str
    findings: list[Finding]
    error_count: int
    warning_count: int
    dataset_stats: dict[str, Any]
    diff_summary: dict[str, Any]
    version: VersionFacts | None
    previous_version: VersionFacts | None
    event_count: int
    assets: list[AssetInfo] = field(default_factory=list)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_COMPILATION_STATUSES

    @property
    def actual_cost_or_computed(self) -> Decimal | None:
        """The provider's cost, else what the trained tokens cost at the connection's price."""
        if self.actual_cost is not None:
            return self.actual_cost
        if self.trained_tokens is not None and self.price_per_million_tokens is not None:
            return (
                Decimal(self.trained_tokens) * self.price_per_million_tokens / 1_000_000
            ).quantize(Decimal("0.0001"))
        return None

    @property
    def score_change(self) -> float | None:
        previous = self.previous_version.validation_score if self.previous_version else None
        if self.validation_score is None or previous is None:
            return None
        return self.validation_score - previous


# --- links to the records a finding names -------------------------------------------------


@public
def record_link(
    model_id: int | None, *, qa_id: int | None = None, conversation_id: int | None = None
) -> str | None:
    """The page that opens one Q&A or training conversation (or the model itself)."""
    if model_id is None:
        return None
    if qa_id is not None:
        return f"pages/qas.py?{urlencode({'model': model_id, 'qa': qa_id})}"
    if conversation_id is not None:
        return f"pages/conversations.py?{urlencode({'model': model_id, 'conversation': conversation_id})}"
    return f"pages/models.py?{urlencode({'model': model_id})}"


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _record_ref(raw: Any) -> RecordRef | None:
    """A record as the engine stores it: ``[kind, id, model id, model name, relation]``."""
    if isinstance(raw, Sequence) and not isinstance(raw, str) and len(raw) >= 2:
        record_id = _int(raw[1])
        if record_id is None:
            return None
        return RecordRef(
            kind=str(raw[0]),
            record_id=record_id,
            model_id=_int(raw[2]) if len(raw) > 2 else None,
            model_name=str(raw[3] or "") if len(raw) > 3 else "",
            relation=str(raw[4] or "") if len(raw) > 4 else "",
        )
    return None


def _finding(raw: Any) -> Finding:
    if not isinstance(raw, Mapping):
        return Finding("warning", "", str(raw), None)
    severity = "error" if str(raw.get("severity", "")).lower().startswith("err") else "warning"
    records = tuple(r for r in map(_record_ref, raw.get("sources") or []) if r is not None)
    return Finding(
        severity,
        str(raw.get("code") or ""),
        str(raw.get("message") or ""),
        _int(raw.get("line")),
        records,
    )


@public
def findings_from_report(report: Mapping[str, Any] | None) -> list[Finding]:
    """The validator's findings, errors first, each naming its records (with links)."""
    if not report or not isinstance(report.get("findings"), list):
        return []
    found = [_finding(r) for r in report["findings"]]
    return sorted(found, key=lambda f: f.severity != "error")


def _totals(report: Mapping[str, Any] | None, findings: Sequence[Finding]) -> tuple[int, int]:
    """Errors and warnings in full: the report lists only the first few of each kind."""
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    if report:
        errors = _int(report.get("errors")) or errors
        warnings = _int(report.get("warnings")) or warnings
    return errors, warnings


@public
def diff_records(diff: Mapping[str, Any]) -> list[tuple[str, RecordRef]]:
    """The records the difference names, as (change, record): added, removed, changed."""
    named = []
    for change in ("added", "removed", "changed"):
        for raw in diff.get(f"{change}_records") or []:
            ref = _record_ref(raw)
            if ref is not None:
                named.append((change, ref))
    return named


# --- the list -----------------------------------------------------------------------------


def _filtered(query: _Q, filters: HistoryFilter) -> _Q:
    if filters.model_id is not None:
        query = query.where(Compilation.model_id == filters.model_id)
    if filters.statuses:
        query = query.where(Compilation.status.in_(list(filters.statuses)))
    if filters.requested_by_id is not None:
        query = query.where(Compilation.requested_by_id == filters.requested_by_id)
    if filters.since is not None:
        query = query.where(Compilation.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Compilation.created_at < filters.until)
    return query


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    start, end = as_utc(start), as_utc(end)
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _outcome(status: CompilationStatus, reason: str | None, error: str | None) -> str:
    if error and status == CompilationStatus.FAILED:
        return error.strip().splitlines()[0][:300] if error.strip() else ""
    return (reason or "").strip().splitlines()[0][:300] if reason and reason.strip() else ""


@requires(Permission.READ)
def list_compilations(
    uow: UnitOfWork,
    actor: Actor,
    filters: HistoryFilter | None = None,
    *,
    offset: int = 0,
    limit: int = 50,
) -> Page[CompilationRow]:
    """Compilations newest first, filtered and paged by the database."""
    filters = filters or HistoryFilter()
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    # Only the narrow columns a list needs: build logs and reports stay in the database.
    query = _filtered(
        select(
            Compilation.id,
            Compilation.model_id,
            AIModel.name.label("model_name"),
            Compilation.status,
            User.display_name.label("requester"),
            Compilation.created_at,
            Compilation.started_at,
            Compilation.finished_at,
            Compilation.forced,
            Compilation.config_only,
            Compilation.example_count,
            Compilation.token_count,
            Compilation.cost_estimate,
            Compilation.actual_cost,
            Compilation.validation_score,
            ModelVersion.number.label("version_number"),
            func.substr(Compilation.reason, 1, 300).label("reason"),
            func.substr(Compilation.error, 1, 300).label("error"),
        )
        .join(AIModel, AIModel.id == Compilation.model_id)
        .outerjoin(User, User.id == Compilation.requested_by_id)
        .outerjoin(ModelVersion, ModelVersion.id == Compilation.version_id),
        filters,
    )
    counted = _filtered(select(func.count(Compilation.id)), filters)
    with uow:
        total = uow.session.scalar(counted) or 0
        rows = uow.session.execute(
            query.order_by(Compilation.created_at.desc(), Compilation.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
        return Page(
            rows=[
                CompilationRow(
                    id=r.id,
                    model_id=r.model_id,
                    model_name=r.model_name,
                    status=r.status,
                    requested_by=r.requester,
                    created_at=as_utc(r.created_at) or r.created_at,
                    started_at=as_utc(r.started_at),
                    finished_at=as_utc(r.finished_at),
                    duration_seconds=_seconds(r.started_at, r.finished_at),
                    forced=r.forced,
                    config_only=r.config_only,
                    example_count=r.example_count,
                    token_count=r.token_count,
                    cost_estimate=r.cost_estimate,
                    actual_cost=r.actual_cost,
                    validation_score=r.validation_score,
                    version_number=r.version_number,
                    outcome=_outcome(r.status, r.reason, r.error),
                )
                for r in rows
            ],
            total=total,
            offset=offset,
            limit=limit,
        )


@requires(Permission.READ)
def history_facets(uow: UnitOfWork, actor: Actor) -> Facets:
    """The models and the people that can be chosen in the history's filters."""
    with uow:
        models = [
            (r.id, r.name)
            for r in uow.session.execute(select(AIModel.id, AIModel.name).order_by(AIModel.name))
        ]
        requester_ids = select(Compilation.requested_by_id).distinct().scalar_subquery()
        requesters = [
            (r.id, r.display_name or r.email)
            for r in uow.session.execute(
                select(User.id, User.display_name, User.email)
                .where(User.id.in_(requester_ids))
                .order_by(User.display_name)
            )
        ]
        return Facets(models=models, requesters=requesters)


# --- progress of running compilations ----------------------------------------------------


def _event_view(e: CompilationEvent) -> EventView:
    return EventView(
        id=e.id,
        created_at=as_utc(e.created_at) or e.created_at,
        level=e.level,
        event_type=e.event_type,
        message=e.message,
        data=e.data,
    )


def _latest_events(uow: UnitOfWork, compilation_id: int, limit: int) -> list[EventView]:
    rows = uow.session.scalars(
        select(CompilationEvent)
        .where(CompilationEvent.compilation_id == compilation_id)
        .order_by(CompilationEvent.id.desc())
        .limit(limit)
    )
    return [_event_view(e) for e in rows]


def _progress_of(uow: UnitOfWork, ids: Iterable[int]) -> list[Progress]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    now = utcnow()
    rows = uow.session.execute(
        select(
            Compilation.id,
            Compilation.model_id,
            AIModel.name.label("model_name"),
            Compilation.status,
            Compilation.provider_status,
            Compilation.created_at,
            Compilation.started_at,
            Compilation.finished_at,
            Compilation.estimated_finish_at,
            Compilation.cancel_requested,
            func.substr(Compilation.reason, 1, 300).label("reason"),
            func.substr(Compilation.error, 1, 300).label("error"),
        )
        .join(AIModel, AIModel.id == Compilation.model_id)
        .where(Compilation.id.in_(wanted))
        .order_by(Compilation.created_at.desc(), Compilation.id.desc())
    ).all()
    result = []
    for c in rows:
        model_name = c.model_name
        started = as_utc(c.started_at)
        finished = as_utc(c.finished_at)
        created = as_utc(c.created_at) or c.created_at
        step = STEPS.index(c.status) + 1 if c.status in STEPS else len(STEPS)
        result.append(
            Progress(
                id=c.id,
                model_id=c.model_id,
                model_name=model_name,
                status=c.status,
                provider_status=c.provider_status,
                step=step,
                step_count=len(STEPS),
                created_at=created,
                started_at=started,
                finished_at=finished,
                elapsed_seconds=_seconds(started or created, finished or now) or 0.0,
                estimated_finish_at=as_utc(c.estimated_finish_at),
                cancel_requested=c.cancel_requested,
                latest_events=_latest_events(uow, c.id, LATEST_EVENTS),
                outcome=_outcome(c.status, c.reason, c.error),
            )
        )
    return result


@requires(Permission.READ)
def compilation_progress(
    uow: UnitOfWork,
    actor: Actor,
    compilation_ids: Sequence[int] = (),
    *,
    include_active: bool = True,
) -> list[Progress]:
    """Progress of the given compilations and (by default) of every running one, newest
    first: what a live panel refreshes every few seconds, so it reads little."""
    with uow:
        ids = set(compilation_ids)
        if include_active:
            ids.update(
                uow.session.scalars(
                    select(Compilation.id).where(
                        Compilation.status.in_(list(ACTIVE_COMPILATION_STATUSES))
                    )
                )
            )
        return _progress_of(uow, ids)


# --- one compilation in full -------------------------------------------------------------


def _version_facts(v: ModelVersion | None) -> VersionFacts | None:
    if v is None:
        return None
    return VersionFacts(v.id, v.number, v.provider_model_id, v.dataset_hash, v.validation_score)


def _previous_version(
    uow: UnitOfWork, c: Compilation, own: ModelVersion | None
) -> ModelVersion | None:
    """The version this compilation is compared with: the one before its own, or (if it made
    none) the newest that existed when it was requested."""
    query = select(ModelVersion).where(ModelVersion.model_id == c.model_id)
    if own is not None:
        query = query.where(ModelVersion.number < own.number)
    else:
        query = query.where(ModelVersion.created_at <= c.created_at)
    return uow.session.scalar(query.order_by(ModelVersion.number.desc()).limit(1))


@requires(Permission.READ)
def get_compilation(uow: UnitOfWork, actor: Actor, compilation_id: int) -> CompilationDetail:
    with uow:
        s = uow.session
        c = get_or_404(s, Compilation, compilation_id, "Compilation")
        usage = model_usage(s)
        model = usage.get(c.model_id)
        requester = s.get(User, c.requested_by_id) if c.requested_by_id else None
        own = s.get(ModelVersion, c.version_id) if c.version_id else None
        previous = _previous_version(uow, c, own)
        event_count = (
            s.scalar(
                select(func.count(CompilationEvent.id)).where(
                    CompilationEvent.compilation_id == c.id
                )
            )
            or 0
        )
        assets = [
            AssetInfo(
                a.kind,
                *_download_name(c.id, a.filename, a.media_type),
                a.size_bytes,
                compressed=_is_gzip(a.filename, a.media_type),
            )
            for a in s.execute(
                select(
                    CompilationAsset.kind,
                    CompilationAsset.filename,
                    CompilationAsset.media_type,
                    CompilationAsset.size_bytes,
                )
                .where(CompilationAsset.compilation_id == c.id)
                .order_by(CompilationAsset.kind)
            )
        ]
        names = {mid: u.model_name for mid, u in usage.items()}
        findings = findings_from_report(c.validation_report)
        errors, warnings = _totals(c.validation_report, findings)
        return CompilationDetail(
            id=c.id,
            model_id=c.model_id,
            model_name=names.get(c.model_id, f"model #{c.model_id}"),
            status=c.status,
            provider_status=c.provider_status,
            requested_by=(requester.display_name or requester.email) if requester else None,
            forced=c.forced,
            config_only=c.config_only,
            budget_override=c.budget_override,
            cancel_requested=c.cancel_requested,
            created_at=as_utc(c.created_at) or c.created_at,
            started_at=as_utc(c.started_at),
            finished_at=as_utc(c.finished_at),
            duration_seconds=_seconds(c.started_at, c.finished_at),
            estimated_finish_at=as_utc(c.estimated_finish_at),
            base_model=c.base_model,
            provider_file_id=c.provider_file_id,
            provider_job_id=c.provider_job_id,
            provider_model=c.provider_model,
            dataset_hash=c.dataset_hash,
            example_count=c.example_count,
            token_count=c.token_count,
            billed_tokens_estimate=c.billed_tokens_estimate,
            cost_estimate=c.cost_estimate,
            trained_tokens=c.trained_tokens,
            actual_cost=c.actual_cost,
            price_per_million_tokens=model.connection.price_per_million_tokens
            if model and model.connection
            else None,
            validation_score=c.validation_score,
            error=c.error,
            reason=c.reason,
            build_log=c.build_log or "",
            findings=findings,
            error_count=errors,
            warning_count=warnings,
            dataset_stats=dict(c.dataset_stats or {}),
            diff_summary=dict(c.diff_summary or {}),
            version=_version_facts(own),
            previous_version=_version_facts(previous),
            event_count=event_count,
            assets=assets,
        )


@requires(Permission.READ)
def list_events(
    uow: UnitOfWork, actor: Actor, compilation_id: int, *, offset: int = 0, limit: int = 200
) -> Page[EventView]:
    """A compilation's events, newest first (a long training run has thousands)."""
    limit = max(1, min(limit, MAX_PAGE))
    with uow:
        get_or_404(uow.session, Compilation, compilation_id, "Compilation")
        total = (
            uow.session.scalar(
                select(func.count(CompilationEvent.id)).where(
                    CompilationEvent.compilation_id == compilation_id
                )
            )
            or 0
        )
        rows = uow.session.scalars(
            select(CompilationEvent)
            .where(CompilationEvent.compilation_id == compilation_id)
            .order_by(CompilationEvent.id.desc())
            .offset(max(0, offset))
            .limit(limit)
        )
        return Page([_event_view(e) for e in rows], total, offset, limit)


# --- training metrics --------------------------------------------------------------------


def _metric_rows(step: Any, values: Mapping[str, Any], source: str) -> list[dict[str, Any]]:
    number = _int(step)
    if number is None:
        return []
    rows = []
    for name in METRIC_NAMES:
        value = values.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            rows.append({"step": number, "metric": name, "value": float(value), "source": source})
    return rows


def _checkpoint_records(content: bytes) -> list[Mapping[str, Any]]:
    """Checkpoints stored as a JSON list, or one JSON object per line."""
    text = content.decode("utf-8", errors="replace").strip()
    if not text:
        return []
    try:
        parsed = json.loads(text)
        items = parsed if isinstance(parsed, list) else parsed.get("checkpoints", [parsed])
    except (json.JSONDecodeError, AttributeError):
        items = []
        for line in text.splitlines():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return [i for i in items if isinstance(i, Mapping)]


def _event_metrics(picked: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """Long format from (step, metric, ...) rows: JSON numbers come back as numbers or as
    text depending on the database, and anything that is not a number is left out."""
    # Plain tuples: pandas probes each SQLAlchemy row for namedtuple fields, slowly.
    wide = pd.DataFrame([tuple(r) for r in picked], columns=["step", *METRIC_NAMES], dtype=object)
    wide = wide.apply(pd.to_numeric, errors="coerce")
    wide = wide[wide["step"].notna() & (wide["step"] % 1 == 0)]
    long = wide.melt(id_vars="step", var_name="metric", value_name="value").dropna()
    long["step"] = long["step"].astype(int)
    long["value"] = long["value"].astype(float)
    long["source"] = "event"
    picked_columns: pd.DataFrame = long[["step", "metric", "value", "source"]]
    return picked_columns


@requires(Permission.READ)
def training_metrics(uow: UnitOfWork, actor: Actor, compilation_id: int) -> pd.DataFrame:
    """Loss and token accuracy per step (long format: step, metric, value, source), from the
    provider's metric events and its checkpoints; a checkpoint's figure wins for its step."""
    with uow:
        get_or_404(uow.session, Compilation, compilation_id, "Compilation")
        # A long run has tens of thousands of metric events: the database picks the figures
        # out of their JSON, so that no event's data is decoded here.
        data = CompilationEvent.data
        picked = uow.session.execute(
            select(*(data[name].as_string() for name in ("step", *METRIC_NAMES))).where(
                CompilationEvent.compilation_id == compilation_id,
                CompilationEvent.event_type == "metrics",
            )
        ).all()
        asset = uow.session.scalar(
            select(CompilationAsset.content).where(
                CompilationAsset.compilation_id == compilation_id,
                CompilationAsset.kind.in_(["checkpoints", "metrics"]),
            )
        )
    rows: list[dict[str, Any]] = []
    for record in _checkpoint_records(asset or b""):
        metrics = record.get("metrics")
        values = metrics if isinstance(metrics, Mapping) else record
        rows += _metric_rows(record.get("step") or record.get("step_number"), values, "checkpoint")
    columns = ["step", "metric", "value", "source"]
    parts = [f for f in (_event_metrics(picked), pd.DataFrame(rows, columns=columns)) if len(f)]
    if not parts:
        return pd.DataFrame(columns=columns)
    # Checkpoints come last, so that theirs is the figure kept for a step both report.
    return (
        pd.concat(parts, ignore_index=True)
        .drop_duplicates(["step", "metric"], keep="last")
        .sort_values(["step", "metric"])
        .reset_index(drop=True)
    )


# --- dataset statistics ------------------------------------------------------------------


@public
def examples_per_source(stats: Mapping[str, Any]) -> pd.DataFrame:
    """Examples per source model of the hierarchy, from the engine's dataset statistics."""
    raw = stats.get("per_source") or stats.get("sources") or stats.get("per_model") or []
    rows: list[dict[str, Any]] = []
    if isinstance(raw, Mapping):
        raw = [
            {"model_name": name, **(v if isinstance(v, Mapping) else {"examples": v})}
            for name, v in raw.items()
        ]
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, Mapping):
            continue
        qas = _int(item.get("qas") or item.get("training_qas")) or 0
        conversations = _int(item.get("conversations") or item.get("ready_conversations")) or 0
        examples = _int(item.get("examples"))
        rows.append(
            {
                "Source model": str(
                    item.get("model_name") or item.get("model") or item.get("model_id") or "?"
                ),
                "Relation": str(item.get("relation") or ""),
                "Q&As": qas,
                "Conversations": conversations,
                "Examples": examples if examples is not None else qas + conversations,
            }
        )
    return pd.DataFrame(
        rows, columns=["Source model", "Relation", "Q&As", "Conversations", "Examples"]
    )


# --- downloads ---------------------------------------------------------------------------


_MEDIA_TYPES = {".jsonl": "application/jsonl", ".json": "application/json", ".txt": "text/plain"}


def _is_gzip(filename: str, media_type: str) -> bool:
    return media_type == "application/gzip" and filename.endswith(".gz")


def _download_name(compilation_id: int, filename: str, media_type: str) -> tuple[str, str]:
    """The name and type a stored file downloads as: uncompressed, and named after its
    compilation, so that the files of several compilations do not overwrite each other."""
    if _is_gzip(filename, media_type):
        filename = filename.removesuffix(".gz")
        media_type = _MEDIA_TYPES.get(filename[filename.rfind(".") :], "application/octet-stream")
    prefix = f"compilation-{compilation_id}"
    return (filename if filename.startswith(prefix) else f"{prefix}-{filename}"), media_type


@requires(Permission.READ)
def get_asset(uow: UnitOfWork, actor: Actor, compilation_id: int, kind: str) -> AssetFile:
    """A stored file of a compilation, uncompressed; the build log is also served from the
    log itself when no file of it was stored."""
    with uow:
        c = get_or_404(uow.session, Compilation, compilation_id, "Compilation")
        asset = uow.session.scalar(
            select(CompilationAsset).where(
                CompilationAsset.compilation_id == compilation_id, CompilationAsset.kind == kind
            )
        )
        if asset is not None:
            content = bytes(asset.content)
            if _is_gzip(asset.filename, asset.media_type):
                content = gzip.decompress(content)
            return AssetFile(
                *_download_name(compilation_id, asset.filename, asset.media_type), content
            )
        if kind == "build_log" and c.build_log:
            return AssetFile(
                f"compilation-{c.id}-build-log.txt", "text/plain", c.build_log.encode("utf-8")
            )
        raise NotFound(f"Compilation #{compilation_id} has no {kind.replace('_', ' ')} stored.")

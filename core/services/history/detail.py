"""One compilation in full: facts, findings with links to the records they name, the diff,
the versions before and after, and its events.

The JSON columns the engine fills (validation report, dataset statistics, diff) are read
tolerantly: a key that an older compilation lacks shows as "not recorded", never as an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.domain import ACTIVE_COMPILATION_STATUSES, CompilationStatus, as_utc
from core.models import Compilation, CompilationAsset, CompilationEvent, ModelVersion, User
from core.permissions import Actor, Permission, public, requires
from core.services.catalog.usage import model_usage
from core.services.compilation import EventView
from core.services.compilation.records import event_view
from core.services.history.compilations import MAX_PAGE, duration_seconds
from core.services.history.downloads import download_name, is_gzip
from core.services.shared import Page, get_or_404
from core.uow import UnitOfWork


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


def optional_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _record_ref(raw: Any) -> RecordRef | None:
    """A record as the engine stores it: ``[kind, id, model id, model name, relation]``."""
    if isinstance(raw, Sequence) and not isinstance(raw, str) and len(raw) >= 2:
        record_id = optional_int(raw[1])
        if record_id is None:
            return None
        return RecordRef(
            kind=str(raw[0]),
            record_id=record_id,
            model_id=optional_int(raw[2]) if len(raw) > 2 else None,
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
        optional_int(raw.get("line")),
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
        errors = optional_int(report.get("errors")) or errors
        warnings = optional_int(report.get("warnings")) or warnings
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


def _assets(session: Session, compilation_id: int) -> list[AssetInfo]:
    """The compilation's stored files, as their downloads will be named (without content)."""
    rows = session.execute(
        select(
            CompilationAsset.kind,
            CompilationAsset.filename,
            CompilationAsset.media_type,
            CompilationAsset.size_bytes,
        )
        .where(CompilationAsset.compilation_id == compilation_id)
        .order_by(CompilationAsset.kind)
    )
    return [
        AssetInfo(
            a.kind,
            *download_name(compilation_id, a.filename, a.media_type),
            a.size_bytes,
            compressed=is_gzip(a.filename, a.media_type),
        )
        for a in rows
    ]


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
        assets = _assets(s, c.id)
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
            duration_seconds=duration_seconds(c.started_at, c.finished_at),
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
            price_per_million_tokens=model.training_price if model and model.connection else None,
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
        return Page([event_view(e) for e in rows], total, offset, limit)

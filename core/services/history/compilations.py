"""Compilation history (read side): the paged, filtered list and the live progress of
running compilations. One compilation in full is ``detail``, its training curves
``metrics``, its files ``downloads``.

The compilation services (``core.services.compilation``) write; this package only reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, func, select

from core.domain import ACTIVE_COMPILATION_STATUSES, CompilationStatus, as_utc, utcnow
from core.models import (
    AIModel,
    Compilation,
    CompilationEvent,
    ModelVersion,
    User,
)
from core.permissions import Actor, Permission, requires
from core.services.compilation import EventView
from core.services.compilation.records import event_view
from core.services.shared import Page
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


def duration_seconds(start: datetime | None, end: datetime | None) -> float | None:
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
                    duration_seconds=duration_seconds(r.started_at, r.finished_at),
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


def _latest_events(uow: UnitOfWork, compilation_id: int, limit: int) -> list[EventView]:
    rows = uow.session.scalars(
        select(CompilationEvent)
        .where(CompilationEvent.compilation_id == compilation_id)
        .order_by(CompilationEvent.id.desc())
        .limit(limit)
    )
    return [event_view(e) for e in rows]


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
                elapsed_seconds=duration_seconds(started or created, finished or now) or 0.0,
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

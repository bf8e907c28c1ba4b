"""The audit trail: who changed what, when, with the values before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from core.domain import control_character
from core.models import AuditEntry
from core.permissions import Actor, Permission, requires
from core.services.shared import Page
from core.uow import UnitOfWork


@dataclass(frozen=True)
class AuditFilter:
    actor_email: str | None = None
    entity_type: str | None = None
    entity_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    actor_email: str
    action: str
    entity_type: str
    entity_id: int | None
    summary: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@requires(Permission.VIEW_AUDIT)
def list_audit_entries(
    uow: UnitOfWork, actor: Actor, filters: AuditFilter, *, offset: int = 0, limit: int = 100
) -> Page[AuditView]:
    query = select(AuditEntry)
    if filters.actor_email:
        query = query.where(AuditEntry.actor_email == filters.actor_email)
    if filters.entity_type:
        query = query.where(AuditEntry.entity_type == filters.entity_type)
    if filters.entity_id is not None:
        query = query.where(AuditEntry.entity_id == filters.entity_id)
    if filters.since:
        query = query.where(AuditEntry.at >= filters.since)
    if filters.until:
        query = query.where(AuditEntry.at < filters.until)
    if filters.text and control_character(filters.text):
        query = query.where(false())  # no stored text holds one; PostgreSQL refuses NUL
    elif filters.text:
        # The user's % and _ are text, not wildcards.
        escaped = filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(AuditEntry.summary.ilike(f"%{escaped}%", escape="\\"))
    limit = max(1, min(limit, 500))
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.scalars(
            query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset(offset).limit(limit)
        )
        return Page(
            rows=[
                AuditView(
                    id=r.id,
                    at=r.at,
                    actor_email=r.actor_email,
                    action=r.action,
                    entity_type=r.entity_type,
                    entity_id=r.entity_id,
                    summary=r.summary,
                    before=r.before,
                    after=r.after,
                )
                for r in rows
            ],
            total=total,
            offset=offset,
            limit=limit,
        )


@requires(Permission.VIEW_AUDIT)
def audit_facets(uow: UnitOfWork, actor: Actor) -> tuple[list[str], list[str]]:
    """The users and entity types that appear in the trail, for filter choices."""
    with uow:
        actors = list(
            uow.session.scalars(
                select(AuditEntry.actor_email).distinct().order_by(AuditEntry.actor_email)
            )
        )
        entities = list(
            uow.session.scalars(
                select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type)
            )
        )
        return actors, entities


def record_audit(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | None,
    summary: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor.user_id,
            actor_email=actor.email,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            summary=summary,
            before=before,
            after=after,
        )
    )

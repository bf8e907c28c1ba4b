"""What deployments cost while they exist (Azure OpenAI bills a deployed fine-tuned model per
hour, whether it answers or not): per month and connection, and what runs right now."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pandas as pd
from sqlalchemy import select

from core.domain import as_utc, utcnow
from core.models import AIModel, ModelVersion, ProviderConnection
from core.permissions import Actor, Permission, requires
from core.services.catalog.usage import month_start, next_month
from core.uow import UnitOfWork

DEFAULT_MONTHS = 6


@dataclass(frozen=True)
class HostingNow:
    deployments: int
    per_hour: Decimal  # together, in USD


def hours_per_month(start: datetime, end: datetime) -> Iterator[tuple[datetime, float]]:
    """The hours of [start, end) in each UTC month it touches, as (month start, hours)."""
    month = month_start(start)
    while month < end:
        following = next_month(month)
        overlap = min(end, following) - max(start, month)
        if overlap > timedelta(0):
            yield month, overlap.total_seconds() / 3600
        month = following


Deployed = tuple[str, str, datetime, datetime | None, Decimal]


def _deployed(uow: UnitOfWork) -> list[Deployed]:
    rows = uow.session.execute(
        select(
            ProviderConnection.name,
            AIModel.name,
            ModelVersion.number,
            ModelVersion.deployed_at,
            ModelVersion.deployment_removed_at,
            ModelVersion.hosting_price_per_hour,
        )
        .join(AIModel, AIModel.id == ModelVersion.model_id)
        .join(ProviderConnection, ProviderConnection.id == ModelVersion.connection_id)
        .where(
            ModelVersion.deployed_at.is_not(None),
            ModelVersion.hosting_price_per_hour.is_not(None),
        )
    ).all()
    return [
        (connection, f"{model} v{number}", as_utc(since), as_utc(until), Decimal(price))
        for connection, model, number, since, until, price in rows
        if since is not None and price is not None
    ]


@requires(Permission.VIEW_CONNECTIONS)
def hosting_cost_per_month(
    uow: UnitOfWork, actor: Actor, months: int = DEFAULT_MONTHS
) -> pd.DataFrame:
    """month, connection, hours, cost: the deployments' hours and hourly charges per UTC
    month (a deployment still running counts until now)."""
    now = utcnow()
    first = month_start(now)
    for _ in range(max(1, months) - 1):
        first = month_start(first - timedelta(days=1))
    with uow:
        deployed = _deployed(uow)
    records = [
        {
            "month": month,
            "connection": connection,
            "hours": hours,
            "cost": float(Decimal(str(hours)) * price),
        }
        for connection, _, since, until, price in deployed
        for month, hours in hours_per_month(max(since, first), until or now)
    ]
    columns = ["month", "connection", "hours", "cost"]
    if not records:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(records).groupby(["month", "connection"], as_index=False).sum()
    frame["month"] = pd.to_datetime(frame["month"]).dt.tz_localize(None).dt.date
    frame["hours"] = frame["hours"].round(1)
    frame["cost"] = frame["cost"].round(2)
    return frame.sort_values(["month", "connection"]).reset_index(drop=True)[columns]


@requires(Permission.VIEW_CONNECTIONS)
def hosting_now(uow: UnitOfWork, actor: Actor) -> HostingNow:
    """The deployments that exist now and what they cost per hour together."""
    with uow:
        running = [d for d in _deployed(uow) if d[3] is None]
    return HostingNow(len(running), sum((d[4] for d in running), Decimal(0)))

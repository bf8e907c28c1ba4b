"""Which connection and base model each model uses, and what compilations cost.

Shared by the dashboard, the budget notifications and the deprecation radar, so that they
agree with each other: a model without a connection uses its nearest ancestor's, and a
model without a base model uses its connection's default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from core.domain import CompilationStatus, ModelKind, ProviderType, as_utc
from core.models import AIModel, Compilation, EvaluationRun, ProviderConnection
from core.providers.registry import ConnectionSettings
from core.services.catalog.base_model_facts import BaseModelRow, catalogue_rows


@dataclass(frozen=True)
class ConnectionFacts:
    id: int
    name: str
    provider_type: ProviderType
    default_base_model: str | None
    price_per_million_tokens: Decimal
    monthly_budget: Decimal | None
    settings: ConnectionSettings


@dataclass(frozen=True)
class ModelUsage:
    model_id: int
    model_name: str
    kind: ModelKind
    connection: ConnectionFacts | None
    base_model: str | None
    # Per 1M trained tokens: the connection's price where an admin set one, else the
    # catalogue's for the base model (0 when neither knows).
    training_price: Decimal = Decimal(0)
    hosting_price_per_hour: Decimal | None = None


def connection_facts(session: Session) -> dict[int, ConnectionFacts]:
    return {
        c.id: ConnectionFacts(
            id=c.id,
            name=c.name,
            provider_type=c.provider_type,
            default_base_model=c.default_base_model,
            price_per_million_tokens=Decimal(c.price_per_million_tokens or 0),
            monthly_budget=Decimal(c.monthly_budget) if c.monthly_budget is not None else None,
            settings=ConnectionSettings.of(c),
        )
        for c in session.scalars(select(ProviderConnection))
    }


def model_usage(session: Session) -> dict[int, ModelUsage]:
    """Every model with the connection and base model it compiles with today."""
    conns = connection_facts(session)
    rows = session.execute(
        select(
            AIModel.id,
            AIModel.name,
            AIModel.kind,
            AIModel.parent_id,
            AIModel.connection_id,
            AIModel.base_model,
        )
    ).all()
    by_id = {r.id: r for r in rows}

    def effective_connection(model_id: int) -> int | None:
        seen: set[int] = set()
        current: int | None = model_id
        while current is not None and current in by_id and current not in seen:
            seen.add(current)
            if by_id[current].connection_id is not None:
                return int(by_id[current].connection_id)
            current = by_id[current].parent_id
        return None

    known = catalogue_rows(session)
    result: dict[int, ModelUsage] = {}
    for r in rows:
        conn_id = effective_connection(r.id)
        conn = conns.get(conn_id) if conn_id is not None else None
        base_model = r.base_model or (conn.default_base_model if conn else None)
        facts = known.get((conn.provider_type.value, base_model or "")) if conn else None
        result[r.id] = ModelUsage(
            model_id=r.id,
            model_name=r.name,
            kind=r.kind,
            connection=conn,
            base_model=base_model,
            training_price=effective_price(conn, facts),
            hosting_price_per_hour=(conn.settings.hosting_price_per_hour if conn else None)
            or (facts.hosting_price_per_hour if facts else None),
        )
    return result


def effective_price(connection: ConnectionFacts | None, facts: BaseModelRow | None) -> Decimal:
    """What 1M trained tokens cost: the connection's price where an admin set one (a
    negotiated rate), else the catalogue's for the base model."""
    if connection is not None and connection.price_per_million_tokens > 0:
        return connection.price_per_million_tokens
    if facts is not None and facts.training_price_per_million is not None:
        return Decimal(facts.training_price_per_million)
    return Decimal(0)


def training_price(
    session: Session, connection: ConnectionFacts | None, base_model: str | None
) -> Decimal:
    facts = (
        catalogue_rows(session).get((connection.provider_type.value, base_model or ""))
        if connection
        else None
    )
    return effective_price(connection, facts)


def billed_moment() -> ColumnElement[Any]:
    return func.coalesce(Compilation.finished_at, Compilation.created_at)


def spend_columns() -> tuple[ColumnElement[Any], ...]:
    """Sums that price a group of compilations: the provider's actual cost where the engine
    recorded it; else the trained tokens (priced at the connection's rate); else, for a
    compilation that trained, its estimate. Nothing else is billed."""
    no_actual = Compilation.actual_cost.is_(None)
    return (
        func.sum(Compilation.actual_cost).label("actual"),
        func.sum(case((no_actual, Compilation.trained_tokens), else_=None)).label("tokens"),
        func.sum(
            case(
                (
                    and_(
                        no_actual,
                        Compilation.trained_tokens.is_(None),
                        Compilation.status == CompilationStatus.SUCCEEDED,
                    ),
                    Compilation.cost_estimate,
                ),
                else_=None,
            )
        ).label("estimate"),
    )


def priced(usage: ModelUsage | None, actual: Any, tokens: Any, estimate: Any) -> Decimal:
    price = usage.training_price if usage else Decimal(0)
    total = Decimal(str(actual or 0)) + Decimal(str(estimate or 0))
    total += Decimal(int(tokens or 0)) * price / 1_000_000
    return total.quantize(Decimal("0.0001"))


def spend_by_connection(session: Session, since: datetime, until: datetime) -> dict[int, Decimal]:
    """What each connection's compilations billed in [since, until) cost, and its LLM
    judge's evaluation runs then."""
    usage = model_usage(session)
    moment = billed_moment()
    rows = session.execute(
        select(Compilation.model_id, *spend_columns())
        .where(and_(moment >= since, moment < until))
        .group_by(Compilation.model_id)
    )
    totals: dict[int, Decimal] = {}
    for model_id, actual, tokens, estimate in rows:
        found = usage.get(model_id)
        if found is not None and found.connection is not None:
            key = found.connection.id
            totals[key] = totals.get(key, Decimal(0)) + priced(found, actual, tokens, estimate)
    for key, cost in judge_spend(session, since, until).items():
        totals[key] = totals.get(key, Decimal(0)) + cost
    return totals


def judge_spend(session: Session, since: datetime, until: datetime) -> dict[int, Decimal]:
    """What the LLM judge of evaluation runs in [since, until) cost, per judge connection."""
    rows = session.execute(
        select(EvaluationRun.judge_connection_id, func.sum(EvaluationRun.judge_cost))
        .where(
            EvaluationRun.judge_connection_id.is_not(None),
            EvaluationRun.judge_cost.is_not(None),
            EvaluationRun.created_at >= since,
            EvaluationRun.created_at < until,
        )
        .group_by(EvaluationRun.judge_connection_id)
    )
    return {key: Decimal(str(cost or 0)) for key, cost in rows if key is not None}


def month_start(moment: datetime) -> datetime:
    moment = as_utc(moment) or moment
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(start: datetime) -> datetime:
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )

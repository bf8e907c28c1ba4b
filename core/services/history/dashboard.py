"""The managers' dashboard: compilations per week, success rate, duration, cost against
budgets, training-data growth and validation scores.

Every figure is a DataFrame, so that each chart can also be downloaded as CSV. Counting and
grouping happen in the database (weeks and months are cut there, per dialect); only medians,
which SQLite cannot compute, are taken in pandas over a narrow column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Float, and_, case, cast, func, literal_column, null, select
from sqlalchemy.orm import Session

from core.domain import CompilationStatus, ConversationStatus, QAType, utcnow
from core.models import (
    QA,
    AIModel,
    Compilation,
    EvaluationRun,
    ModelVersion,
    TrainingConversation,
)
from core.permissions import Actor, Permission, requires
from core.services.catalog.usage import (
    billed_moment,
    connection_facts,
    model_usage,
    month_start,
    priced,
    spend_columns,
)
from core.uow import UnitOfWork

DEFAULT_WEEKS = 26
DEFAULT_MONTHS = 12
# Compilations that ran to an end that says something about quality: skipped ones did not
# run, and cancelling is a person's choice rather than a failure.
_DECIDED = (CompilationStatus.SUCCEEDED, CompilationStatus.FAILED)


@dataclass(frozen=True)
class DashboardSummary:
    weeks: int
    total: int
    by_status: dict[str, int]
    success_rate: float | None
    median_duration_seconds: float | None


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _week(session: Session, column: Any) -> ColumnElement[Any]:
    """The Monday (UTC) of the week a timestamp falls in."""
    if _dialect(session) == "postgresql":
        return func.date_trunc("week", func.timezone("UTC", column))
    return func.date(column, "-6 days", "weekday 1")


def _month(session: Session, column: Any) -> ColumnElement[Any]:
    if _dialect(session) == "postgresql":
        return func.date_trunc("month", func.timezone("UTC", column))
    return func.strftime("%Y-%m-01", column)


def _duration_seconds(session: Session) -> ColumnElement[Any]:
    if _dialect(session) == "postgresql":
        return func.extract("epoch", Compilation.finished_at - Compilation.started_at)
    return (
        func.julianday(Compilation.finished_at) - func.julianday(Compilation.started_at)
    ) * literal_column("86400.0")


def _week_start(moment: datetime) -> datetime:
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _window(weeks: int) -> datetime:
    return _week_start(utcnow()) - timedelta(weeks=max(1, weeks) - 1)


def _as_day(values: pd.Series) -> pd.Series:
    """Week or month keys as dates, whatever type the dialect returned them as."""
    # Thousands of rows share a few dozen keys: each distinct one is converted once.
    keys = pd.Series(values.unique())
    days = pd.to_datetime(keys.astype(str).str.slice(0, 10)).dt.date
    return values.map(dict(zip(keys, days, strict=True)))


@requires(Permission.READ)
def compilations_per_week(
    uow: UnitOfWork, actor: Actor, weeks: int = DEFAULT_WEEKS
) -> pd.DataFrame:
    """week, status, compilations: how many were requested each week, by how they ended."""
    with uow:
        s = uow.session
        week = _week(s, Compilation.created_at).label("week")
        rows = s.execute(
            select(week, Compilation.status, func.count(Compilation.id))
            .where(Compilation.created_at >= _window(weeks))
            .group_by(week, Compilation.status)
        ).all()
    frame = pd.DataFrame(
        [(w, st.value, n) for w, st, n in rows], columns=["week", "status", "compilations"]
    )
    if not frame.empty:
        frame["week"] = _as_day(frame["week"])
    return frame.sort_values(["week", "status"]).reset_index(drop=True)


def _median_seconds(session: Session, since: datetime, *, by_week: bool) -> dict[Any, float]:
    """The median duration of the successful runs since a moment, per week (keyed by the
    dialect's week value) or overall (keyed None). PostgreSQL computes it; SQLite has no
    median, so it hands over the one narrow column and pandas takes it."""
    seconds = cast(_duration_seconds(session), Float)
    keys = [_week(session, Compilation.created_at).label("week")] if by_week else []
    query = select(*keys).where(
        Compilation.created_at >= since,
        Compilation.status == CompilationStatus.SUCCEEDED,
        Compilation.started_at.is_not(None),
        Compilation.finished_at.is_not(None),
    )
    if _dialect(session) == "postgresql":
        rows = session.execute(
            query.add_columns(func.percentile_cont(0.5).within_group(seconds)).group_by(*keys)
        ).all()
        return {(r[0] if by_week else None): float(r[-1]) for r in rows if r[-1] is not None}
    rows = session.execute(query.add_columns(seconds)).all()
    frame = pd.DataFrame(
        [(r[0] if by_week else None, r[-1]) for r in rows], columns=["key", "seconds"]
    )
    if frame.empty:
        return {}
    medians = frame.groupby("key", dropna=False)["seconds"].median().dropna()
    return {(k if by_week else None): float(v) for k, v in medians.items()}


@requires(Permission.READ)
def weekly_outcomes(uow: UnitOfWork, actor: Actor, weeks: int = DEFAULT_WEEKS) -> pd.DataFrame:
    """week, succeeded, failed, success_rate, median_minutes (of the successful runs)."""
    since = _window(weeks)
    with uow:
        s = uow.session
        week = _week(s, Compilation.created_at).label("week")
        counted = s.execute(
            select(week, Compilation.status, func.count(Compilation.id))
            .where(Compilation.created_at >= since, Compilation.status.in_(list(_DECIDED)))
            .group_by(week, Compilation.status)
        ).all()
        medians = _median_seconds(s, since, by_week=True)
    columns = ["week", "succeeded", "failed", "success_rate", "median_minutes"]
    if not counted:
        return pd.DataFrame(columns=columns)
    raw = pd.DataFrame([(w, st.value, n) for w, st, n in counted], columns=["week", "status", "n"])
    raw["median"] = raw["week"].map(lambda w: medians.get(w, float("nan")) / 60)
    raw["week"] = _as_day(raw["week"])
    frame = raw.pivot_table(index="week", columns="status", values="n", aggfunc="sum")
    frame = frame.reindex(columns=[s.value for s in _DECIDED], fill_value=0).fillna(0).astype(int)
    frame["success_rate"] = frame["succeeded"] / (frame["succeeded"] + frame["failed"])
    frame["median_minutes"] = raw.groupby("week")["median"].first()
    return frame.reset_index()[columns]


@requires(Permission.READ)
def dashboard_summary(
    uow: UnitOfWork, actor: Actor, weeks: int = DEFAULT_WEEKS
) -> DashboardSummary:
    """Headline figures over the same window as the charts."""
    since = _window(weeks)
    with uow:
        s = uow.session
        by_status = {
            st.value: n
            for st, n in s.execute(
                select(Compilation.status, func.count(Compilation.id))
                .where(Compilation.created_at >= since)
                .group_by(Compilation.status)
            )
        }
        median = _median_seconds(s, since, by_week=False).get(None)
    decided = sum(by_status.get(s.value, 0) for s in _DECIDED)
    return DashboardSummary(
        weeks=weeks,
        total=sum(by_status.values()),
        by_status=by_status,
        success_rate=by_status.get(CompilationStatus.SUCCEEDED.value, 0) / decided
        if decided
        else None,
        median_duration_seconds=median,
    )


def _judge_cost_per_month(session: Session, start: datetime) -> list[dict[str, Any]]:
    """What the LLM judge cost per month and judge connection (evaluation runs)."""
    month = _month(session, EvaluationRun.created_at).label("month")
    connections = connection_facts(session)
    rows = session.execute(
        select(month, EvaluationRun.judge_connection_id, func.sum(EvaluationRun.judge_cost))
        .where(EvaluationRun.created_at >= start, EvaluationRun.judge_cost.is_not(None))
        .group_by(month, EvaluationRun.judge_connection_id)
    ).all()
    records = []
    for month_key, connection_id, cost in rows:
        found = connections.get(connection_id) if connection_id is not None else None
        if found is None:
            continue
        budget = found.monthly_budget
        records.append(
            {
                "month": month_key,
                "connection": found.name,
                "cost": float(cost or 0),
                "budget": float(budget) if budget is not None else None,
            }
        )
    return records


@requires(Permission.VIEW_CONNECTIONS)
def cost_per_month(uow: UnitOfWork, actor: Actor, months: int = DEFAULT_MONTHS) -> pd.DataFrame:
    """month, connection, cost, budget: what each connection's compilations (and its LLM
    judge's evaluation runs) cost per month (UTC), beside its monthly budget (empty where it
    has none). A month in which a connection
    compiled has a row even when nothing was billed (failed, cancelled, skipped): "0 of the
    budget so far" is what a manager wants to see at the start of a month."""
    start = month_start(utcnow())
    for _ in range(max(1, months) - 1):
        start = month_start(start - timedelta(days=1))
    with uow:
        s = uow.session
        usage = model_usage(s)
        moment = billed_moment()
        month = _month(s, moment).label("month")
        rows = s.execute(
            select(month, Compilation.model_id, *spend_columns())
            .where(moment >= start)
            .group_by(month, Compilation.model_id)
        ).all()
        records = _judge_cost_per_month(s, start)
    columns = ["month", "connection", "cost", "budget", "share_of_budget"]
    for month_key, model_id, actual, tokens, estimate in rows:
        found = usage.get(model_id)
        if found is None or found.connection is None:
            continue
        records.append(
            {
                "month": month_key,
                "connection": found.connection.name,
                "cost": float(priced(found, actual, tokens, estimate)),
                "budget": float(found.connection.monthly_budget)
                if found.connection.monthly_budget is not None
                else None,
            }
        )
    if not records:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(records)
    frame["month"] = _as_day(frame["month"])
    frame = (
        frame.groupby(["month", "connection"], as_index=False)
        .agg(cost=("cost", "sum"), budget=("budget", "first"))
        .sort_values(["month", "connection"])
    )
    frame["cost"] = frame["cost"].round(4)
    frame["share_of_budget"] = frame["cost"] / frame["budget"]
    return frame.reset_index(drop=True)[columns]


def _week_or_before(session: Session, column: Any, since: datetime) -> ColumnElement[Any]:
    """The week of a moment in the window; NULL for one before it (it counts towards the
    window's first week), so that years of history group into a few rows."""
    return case((column < since, null()), else_=_week(session, column))


def _changes(rows: Iterable[tuple[Any, Any, int]], since: date) -> pd.DataFrame:
    """model_id, week, change from (model id, week or NULL, change) rows."""
    frame = pd.DataFrame(
        [(m, since if w is None else w, n) for m, w, n in rows],
        columns=["model_id", "week", "change"],
    )
    if not frame.empty:
        frame["week"] = _as_day(frame["week"])
    return frame


@requires(Permission.READ)
def training_data_growth(uow: UnitOfWork, actor: Actor, weeks: int = DEFAULT_WEEKS) -> pd.DataFrame:
    """week, model, series, count: how many active training Q&As and ready conversations
    each model had at the end of each week."""
    window = _window(weeks)
    since = window.date()
    with uow:
        s = uow.session
        names = dict(s.execute(select(AIModel.id, AIModel.name)).all())
        # One pass over the training Q&As (an index covers it): when each was added and,
        # for a deactivated one, when it went.
        went = and_(QA.is_active.is_(False), QA.deactivated_at.is_not(None))
        added = _week_or_before(s, QA.added_at, window).label("added")
        gone_week = case((went, _week_or_before(s, QA.deactivated_at, window)), else_=null())
        went_flag = case((went, 1), else_=0).label("went")
        qa_rows = s.execute(
            select(QA.model_id, added, went_flag, gone_week.label("gone"), func.count())
            .where(QA.qa_type == QAType.TRAINING)
            .group_by(QA.model_id, added, went_flag, gone_week)
        ).all()
        conv_week = _week_or_before(s, TrainingConversation.created_at, window)
        ready = _changes(
            s.execute(
                select(TrainingConversation.model_id, conv_week, func.count())
                .where(TrainingConversation.status == ConversationStatus.READY)
                .group_by(TrainingConversation.model_id, conv_week)
            ).all(),
            since,
        )
    added_rows = _changes([(m, a, n) for m, a, _, _, n in qa_rows], since)
    gone = _changes([(m, g, -n) for m, _, w, g, n in qa_rows if w], since)
    weeks_index = pd.date_range(since, _week_start(utcnow()).date(), freq="7D").date
    parts: list[pd.DataFrame] = []
    for series, frames in (("Training Q&As", [added_rows, gone]), ("Ready conversations", [ready])):
        frames = [f for f in frames if not f.empty]
        if not frames:
            continue
        changes = pd.concat(frames, ignore_index=True)
        table = changes.pivot_table(
            index="week", columns="model_id", values="change", aggfunc="sum", fill_value=0
        )
        table = table.reindex(weeks_index, fill_value=0).cumsum()
        long = table.reset_index(names="week").melt(
            id_vars="week", var_name="model_id", value_name="count"
        )
        long["series"] = series
        parts.append(long)
    columns = ["week", "model", "series", "count"]
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True)
    frame["model"] = frame["model_id"].map(names).fillna("(deleted)")
    frame["count"] = frame["count"].astype(int)
    return frame.sort_values(["series", "model", "week"]).reset_index(drop=True)[columns]


@requires(Permission.READ)
def validation_scores(uow: UnitOfWork, actor: Actor) -> pd.DataFrame:
    """model, version, score, created_at, active: each model's validation score per version."""
    with uow:
        rows = uow.session.execute(
            select(
                AIModel.name,
                ModelVersion.number,
                ModelVersion.validation_score,
                ModelVersion.created_at,
                (AIModel.active_version_id == ModelVersion.id).label("active"),
            )
            .join(AIModel, AIModel.id == ModelVersion.model_id)
            .where(ModelVersion.validation_score.is_not(None))
            .order_by(AIModel.name, ModelVersion.number)
        ).all()
    frame = pd.DataFrame(
        [(m, n, float(sc or 0), c, bool(a)) for m, n, sc, c, a in rows],
        columns=["model", "version", "score", "created_at", "active"],
    )
    return frame

"""The managers' dashboard aggregates, on SQLite and PostgreSQL, over a seeded history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from core.domain import Role
from core.errors import PermissionDenied
from core.models import AIModel, Compilation
from core.permissions import Actor
from core.services import history
from core.uow import UnitOfWork
from tests.history_seed import SeededHistory, seed_history

# When each seeded compilation was requested, before "now", and how it ended.
SEEDED = [
    (timedelta(days=20), "succeeded", 12 * 60 - 5),
    (timedelta(days=3), "succeeded", 30 * 60 - 5),
    (timedelta(days=2), "failed", None),
    (timedelta(days=1, hours=12), "cancelled", None),
    (timedelta(days=1), "skipped", None),
    (timedelta(hours=20), "succeeded", 2),
    (timedelta(minutes=10), "training", None),
]


@pytest.fixture
def seeded(new_uow: Callable[[], UnitOfWork]) -> SeededHistory:
    return seed_history(new_uow())


def _monday(moment: datetime) -> date:
    day = moment.date()
    return day - timedelta(days=day.weekday())


def _manager(seeded: SeededHistory) -> Actor:
    return Actor(seeded.manager_id, "manager@history.example", Role.MANAGER)


def test_compilations_per_week_by_status(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    frame = history.compilations_per_week(new_uow(), _manager(seeded))
    expected = Counter((_monday(seeded.now - ago), status) for ago, status, _ in SEEDED)
    got = {(r.week, r.status): r.compilations for r in frame.itertuples()}
    assert got == dict(expected)
    assert list(frame.columns) == ["week", "status", "compilations"]


def test_weekly_success_rate_and_median_duration(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    frame = history.weekly_outcomes(new_uow(), _manager(seeded))
    by_week = {r["week"]: r for r in frame.to_dict("records")}
    decided = [(seeded.now - ago, s, d) for ago, s, d in SEEDED if s in ("succeeded", "failed")]
    for week in {_monday(t) for t, _, _ in decided}:
        rows = [(s, d) for t, s, d in decided if _monday(t) == week]
        ok = [d for s, d in rows if s == "succeeded"]
        assert by_week[week]["succeeded"] == len(ok)
        assert by_week[week]["failed"] == len(rows) - len(ok)
        assert by_week[week]["success_rate"] == pytest.approx(len(ok) / len(rows))
        if ok:
            assert by_week[week]["median_minutes"] == pytest.approx(
                pd.Series(ok).median() / 60, abs=0.01
            )


def test_summary_over_the_window(new_uow: Callable[[], UnitOfWork], seeded: SeededHistory) -> None:
    result = history.dashboard_summary(new_uow(), _manager(seeded))
    assert result.total == 7
    assert result.by_status == {
        "succeeded": 3,
        "failed": 1,
        "cancelled": 1,
        "skipped": 1,
        "training": 1,
    }
    # Skipped and cancelled ones say nothing about quality: 3 of 4.
    assert result.success_rate == pytest.approx(0.75)
    assert result.median_duration_seconds == pytest.approx(12 * 60 - 5, abs=1)


def test_cost_per_month_against_the_budget(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    frame = history.cost_per_month(new_uow(), _manager(seeded))
    # Every month in which the connection compiled has a row, also one whose compilations
    # cost nothing (failed, cancelled, skipped): near a month's start the seeded history
    # spans two months. v1: actual 0.018; v2: no actual cost, 12,600 trained tokens at
    # 3.00 per 1M = 0.0378.
    expected: dict[tuple[date, str], float] = dict.fromkeys(
        ((moment.date().replace(day=1), "OpenAI") for moment in _billed_moments(new_uow())),
        0.0,
    )
    v1_month = (seeded.now - timedelta(days=20, minutes=-12)).date().replace(day=1)
    v2_month = (seeded.now - timedelta(days=3, minutes=-30)).date().replace(day=1)
    expected[(v1_month, "OpenAI")] += 0.018
    expected[(v2_month, "OpenAI")] += 0.0378
    openai = frame[frame["connection"] == "OpenAI"]
    assert {(r.month, r.connection): r.cost for r in openai.itertuples()} == pytest.approx(expected)
    assert set(openai["budget"]) == {10.0}
    assert (openai["share_of_budget"] == openai["cost"] / 10.0).all()
    local = frame[frame["connection"] == "Local (offline)"]
    assert local["cost"].sum() == 0 and local["budget"].isna().all()


def _billed_moments(uow: UnitOfWork) -> list[datetime]:
    """When each compilation on the OpenAI connection counts as billed: those of Company and
    of its child Sales, which has no connection of its own and uses its parent's."""
    with uow:
        return [
            c.finished_at or c.created_at
            for c in uow.session.scalars(
                select(Compilation)
                .join(AIModel, AIModel.id == Compilation.model_id)
                .where(AIModel.name.in_(("Company", "Sales")))
            )
        ]


def test_costs_are_for_roles_that_see_connections(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    trainer = Actor(seeded.trainer_id, "trainer@history.example", Role.TRAINER)
    with pytest.raises(PermissionDenied):
        history.cost_per_month(new_uow(), trainer)


def test_training_data_growth_per_model(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    frame = history.training_data_growth(new_uow(), _manager(seeded))
    last_week = frame["week"].max()
    assert last_week == _monday(seeded.now)
    final = frame[frame["week"] == last_week].set_index(["series", "model"])["count"]
    # Q&As alternate between the two models; the retired one was added and deactivated;
    # validation Q&As are not training data.
    assert final[("Training Q&As", "Company")] == 12
    assert final[("Training Q&As", "Sales")] == 9
    assert final[("Ready conversations", "Sales")] == 1
    company = frame[(frame["series"] == "Training Q&As") & (frame["model"] == "Company")]
    assert company["count"].is_monotonic_increasing
    assert company["count"].iloc[0] == 0
    assert len(company) == history.DEFAULT_WEEKS


def test_training_data_before_the_window_counts_towards_its_first_week(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    full = history.training_data_growth(new_uow(), _manager(seeded))
    short = history.training_data_growth(new_uow(), _manager(seeded), weeks=3)
    assert len(short[short["model"] == "Company"]) == 3
    key = ["series", "model", "week"]
    merged = short.merge(full, on=key, suffixes=("_short", "_full"))
    assert len(merged) == len(short)
    # The seeded Q&As go back six weeks: the short window starts from the same level.
    assert (merged["count_short"] == merged["count_full"]).all()
    assert short[short["week"] == short["week"].min()]["count"].sum() > 0


def test_validation_score_per_model_over_versions(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    frame = history.validation_scores(new_uow(), _manager(seeded))
    assert frame[["model", "version", "score", "active"]].values.tolist() == [
        ["Company", 1, 0.7, False],
        ["Company", 2, 0.85, True],
    ]


def test_an_empty_database_gives_empty_frames_with_columns(
    new_uow: Callable[[], UnitOfWork], manager: Actor
) -> None:
    for fn in (
        history.compilations_per_week,
        history.weekly_outcomes,
        history.cost_per_month,
        history.training_data_growth,
        history.validation_scores,
    ):
        frame = fn(new_uow(), manager)
        assert frame.empty and len(frame.columns) >= 3, fn.__name__
    empty = history.dashboard_summary(new_uow(), manager)
    assert (empty.total, empty.success_rate, empty.median_duration_seconds) == (0, None, None)

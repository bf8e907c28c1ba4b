"""Hosting hours are split at UTC month boundaries, whatever the local clocks do."""

from __future__ import annotations

from datetime import UTC, datetime

from core.services.history.hosting import hours_per_month


def test_hours_are_split_at_the_month_boundary() -> None:
    split = list(
        hours_per_month(datetime(2027, 1, 31, 22, tzinfo=UTC), datetime(2027, 2, 1, 3, tzinfo=UTC))
    )
    assert split == [
        (datetime(2027, 1, 1, tzinfo=UTC), 2.0),
        (datetime(2027, 2, 1, tzinfo=UTC), 3.0),
    ]


def test_a_whole_month_across_a_daylight_saving_change_is_every_hour_of_it() -> None:
    # March 2027 has 31 * 24 hours in UTC, although Europe's clocks go forward in it.
    split = dict(
        hours_per_month(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC))
    )
    assert split == {datetime(2027, 3, 1, tzinfo=UTC): 31 * 24}


def test_a_deployment_removed_at_once_costs_nothing() -> None:
    moment = datetime(2027, 5, 5, 12, tzinfo=UTC)
    assert list(hours_per_month(moment, moment)) == []

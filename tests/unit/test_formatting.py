"""Times on the pages: in the user's time zone where the browser tells it, UTC otherwise,
always naming the zone; across a daylight-saving change too."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from ui import formatting


def test_without_a_browser_zone_times_are_utc_and_say_so() -> None:
    assert formatting.user_zone() is UTC
    assert formatting.when(datetime(2027, 1, 1, 0, 30, tzinfo=UTC)) == "2027-01-01 00:30 UTC"
    # SQLite hands stored moments back without a zone; they are UTC.
    assert formatting.when(datetime(2027, 1, 1, 0, 30)) == "2027-01-01 00:30 UTC"
    assert formatting.when(None) == "—"


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (datetime(2027, 3, 28, 0, 30, tzinfo=UTC), "2027-03-28 01:30 CET"),
        (datetime(2027, 3, 28, 1, 30, tzinfo=UTC), "2027-03-28 03:30 CEST"),
        (datetime(2027, 12, 31, 23, 30, tzinfo=UTC), "2028-01-01 00:30 CET"),
    ],
)
def test_in_the_users_zone_across_a_dst_change_and_a_new_year(
    moment: datetime, shown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formatting, "user_zone", lambda: ZoneInfo("Europe/Berlin"))
    assert formatting.when(moment) == shown


def test_a_day_is_the_users_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formatting, "user_zone", lambda: ZoneInfo("Europe/Berlin"))
    assert formatting.day(datetime(2027, 12, 31, 23, 30, tzinfo=UTC)) == "2028-01-01"
    assert formatting.day(date(2027, 1, 6)) == "2027-01-06"


def test_a_grid_column_names_the_zone_once(monkeypatch: pytest.MonkeyPatch) -> None:
    assert formatting.zone_label() == "UTC"
    monkeypatch.setattr(formatting, "user_zone", lambda: ZoneInfo("Europe/Berlin"))
    assert formatting.zone_label() == "Europe/Berlin"
    assert formatting.local_time(datetime(2027, 3, 28, 1, 30, tzinfo=UTC)) == "2027-03-28 03:30"

"""How times, durations and amounts read on the pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from core import config
from core.domain import CompilationStatus, as_utc

# A colour and a Material icon beside the word: emoji rendered as empty boxes where the
# browser's font lacked them, and the word is what carries the meaning.
STATUS_BADGES = {
    CompilationStatus.QUEUED: ("gray", "schedule"),
    CompilationStatus.VALIDATING: ("blue", "fact_check"),
    CompilationStatus.UPLOADING: ("blue", "upload"),
    CompilationStatus.TRAINING: ("orange", "model_training"),
    CompilationStatus.SUCCEEDED: ("green", "check_circle"),
    CompilationStatus.FAILED: ("red", "error"),
    CompilationStatus.CANCELLED: ("gray", "block"),
    CompilationStatus.SKIPPED: ("violet", "skip_next"),
}


def user_zone() -> tzinfo:
    """The time zone of the user's browser where Streamlit knows it, else UTC."""
    try:
        name = st.context.timezone
    except Exception:  # outside a script run (a plain function call in a test)
        name = None
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def zone_label() -> str:
    """The name of the zone times are shown in (for column headers)."""
    zone = user_zone()
    return str(getattr(zone, "key", None) or "UTC")


def local_time(moment: datetime | None) -> str:
    """A moment in the user's zone without naming it (where a header names the zone)."""
    if moment is None:
        return ""
    return f"{as_utc(moment).astimezone(user_zone()):%Y-%m-%d %H:%M}"


def when(moment: datetime | None) -> str:
    """A moment in the user's time zone, naming the zone (stored moments are UTC)."""
    if moment is None:
        return "—"
    local = as_utc(moment).astimezone(user_zone())
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


def day(moment: datetime | date | None) -> str:
    """The date of a moment in the user's time zone (a plain date stays as it is)."""
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        moment = as_utc(moment).astimezone(user_zone())
    return f"{moment:%Y-%m-%d}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if 0 < seconds < 1:
        return "under 1 s"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 checkpoint``, ``2 checkpoints``, ``1,000 entries`` (with ``many`` for irregulars)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def currency() -> str:
    return config.currency()


def money(amount: Decimal | float | None, *, missing: str = "—") -> str:
    """An amount with its currency: cents, or four decimals under one unit (a small training
    run), so that a real cost never reads as 0.00."""
    if amount is None:
        return missing
    value = Decimal(str(amount))
    places = 4 if value and abs(value) < 1 else 2
    return f"{value:,.{places}f} {config.currency()}"


def status_label(status: CompilationStatus) -> str:
    """The status as a word, for tables and pickers (which show no Markdown)."""
    return CompilationStatus(status).value


def status_badge(status: CompilationStatus) -> str:
    """The status as a coloured badge with an icon and the word, for Markdown."""
    colour, icon = STATUS_BADGES.get(CompilationStatus(status), ("gray", "help"))
    return f":{colour}-badge[:material/{icon}: {CompilationStatus(status).value}]"

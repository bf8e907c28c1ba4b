"""How times, durations and amounts read on the pages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from core.domain import CompilationStatus

STATUS_ICONS = {
    CompilationStatus.QUEUED: "⏳",
    CompilationStatus.VALIDATING: "🔎",
    CompilationStatus.UPLOADING: "⬆️",
    CompilationStatus.TRAINING: "🏋️",
    CompilationStatus.SUCCEEDED: "✅",
    CompilationStatus.FAILED: "❌",
    CompilationStatus.CANCELLED: "🚫",
    CompilationStatus.SKIPPED: "⏭️",
}


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def money(amount: Decimal | float | None) -> str:
    return "—" if amount is None else f"{Decimal(str(amount)):,.4f}"


def status_label(status: CompilationStatus) -> str:
    return f"{STATUS_ICONS.get(status, '')} {status.value}".strip()

"""The tasks the background worker runs each round (see ``core.worker``).

Each engine that needs background work registers a task here."""

from __future__ import annotations

from core.services import compilation_engine, deprecation, notifications
from core.worker import register_task

register_task(compilation_engine.run_next)
register_task(notifications.budget_check_task)
register_task(deprecation.refresh_shutdown_dates_task)

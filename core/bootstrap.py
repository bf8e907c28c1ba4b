"""The composition root: where the database, the units of work and the worker's tasks are
put together. Entry points (the app, the command line, ``python -m core.worker``) start
here; nothing below imports this module.

The worker's tasks are listed once, in ``WORKER_TASKS``, in the order each round runs them.
"""

from __future__ import annotations

from collections.abc import Callable

from core import db
from core.services import accounts, catalog, compilation
from core.uow import UnitOfWork
from core.worker import Task, Worker, worker_id

WORKER_TASKS: tuple[Task, ...] = (
    compilation.run_next,
    compilation.deployments_task,
    catalog.budget_check_task,
    catalog.refresh_shutdown_dates_task,
    # Last, and its own task: a slow or failing mail server or webhook never holds up a
    # compilation's step.
    accounts.notification_delivery_task,
)


def uow_factory(url: str | None = None, *, upgrade: bool = False) -> Callable[[], UnitOfWork]:
    """Units of work on the configured database (``DATABASE_URL``), or on ``url``;
    ``upgrade`` first brings the schema to the newest revision."""
    engine = db.get_engine(url)
    if upgrade:
        db.upgrade(engine)
    factory = db.session_factory(engine)
    return lambda: UnitOfWork(factory)


def worker(
    uows: Callable[[], UnitOfWork], *, idle_seconds: float = 1.0, name: str | None = None
) -> Worker:
    """A worker that runs every task of ``WORKER_TASKS``."""
    return Worker(uows, WORKER_TASKS, idle_seconds=idle_seconds, name=name)


def start_embedded_worker(uows: Callable[[], UnitOfWork]) -> Worker:
    """The single-machine default: one worker thread inside the app process."""
    embedded = worker(uows, name=f"embedded:{worker_id()}")
    embedded.start_thread()
    return embedded

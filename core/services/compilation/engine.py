"""The compilation worker: claims queued compilations and moves each one step at a time.

Every step starts from what the database says and persists its result before the next one
begins, so any worker may take the next step, and a worker that dies (or a restart of the
app) loses nothing: its claim lapses when its lease ends and another worker resumes.

* Claim: one atomic conditional UPDATE of a claimable row (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL; SQLite serialises writers with ``BEGIN IMMEDIATE``) sets the worker's name
  and a lease; a heartbeat thread extends the lease while the step runs, and every write
  of the step first checks that the claim is still ours.
* Job creation is the one step that must not be repeated blindly: the API has no
  idempotency key. Before calling it the worker records that it is about to ("creating");
  after any doubt (a timeout, a dropped connection, a crash) it looks the job up by the
  compilation id in its metadata, and creates it again only when, after a grace period,
  no such job exists. A resumed or retried worker never creates a second job.
* A running job is read with a growing delay (the provider's first interval, doubled up to
  its maximum); its events, status and metrics are stored as they come.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, true, update
from sqlalchemy.exc import OperationalError

from core.domain import ACTIVE_COMPILATION_STATUSES, CompilationStatus, ProviderType, utcnow
from core.errors import DatabaseBusy
from core.models import AIModel, Compilation, ProviderConnection
from core.permissions import public
from core.services.compilation.deploy import DEPLOYING, follow_deployment
from core.services.compilation.follow import follow
from core.services.compilation.prepare import prepare
from core.services.compilation.start import upload_and_start
from core.services.compilation.step import EngineSettings, LeaseLost, Step, Stop
from core.uow import UnitOfWork

logger = logging.getLogger("arbiter.compilations")


# --- claiming -------------------------------------------------------------------------------


def _claimable(now: Any) -> Any:
    return and_(
        Compilation.status.in_(ACTIVE_COMPILATION_STATUSES),
        or_(Compilation.lease_until.is_(None), Compilation.lease_until < now),
        or_(Compilation.next_poll_at.is_(None), Compilation.next_poll_at <= now),
    )


def _trains_here(training: str) -> Any:
    """Compilations whose training runs on the worker's machine: open-weights ones."""
    on_open_weights = Compilation.model_id.in_(
        select(AIModel.id)
        .join(ProviderConnection, AIModel.connection_id == ProviderConnection.id)
        .where(ProviderConnection.provider_type == ProviderType.OPEN_WEIGHTS)
    )
    if training == "only":
        return on_open_weights
    if training == "none":
        return ~on_open_weights
    return true()


def _claim(
    uow: UnitOfWork,
    worker: str,
    lease_seconds: float,
    compilation_id: int | None = None,
    training: str = "any",
) -> int | None:
    now = utcnow()
    condition = and_(_claimable(now), _trains_here(training))
    if compilation_id is not None:
        condition = and_(condition, Compilation.id == compilation_id)
    candidate = (
        select(Compilation.id)
        .where(condition)
        .order_by(func.coalesce(Compilation.next_poll_at, Compilation.created_at), Compilation.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    with uow:
        claimed = uow.session.scalar(
            update(Compilation)
            .where(Compilation.id == candidate, condition)
            .values(
                claimed_by=worker,
                lease_until=now + timedelta(seconds=lease_seconds),
                heartbeat_at=now,
                attempts=Compilation.attempts + 1,
            )
            .returning(Compilation.id)
        )
        uow.commit()
        return int(claimed) if claimed is not None else None


class _Heartbeat:
    def __init__(self, uow: UnitOfWork, compilation_id: int, worker: str, lease: float) -> None:
        self.factory = uow.factory
        self.compilation_id = compilation_id
        self.worker = worker
        self.lease = lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{compilation_id}")

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.lease / 3):
            try:
                beat = UnitOfWork(self.factory)
                with beat:
                    now = utcnow()
                    beat.session.execute(
                        update(Compilation)
                        .where(
                            Compilation.id == self.compilation_id,
                            Compilation.claimed_by == self.worker,
                        )
                        .values(lease_until=now + timedelta(seconds=self.lease), heartbeat_at=now)
                    )
                    beat.commit()
            except Exception:
                logger.warning("heartbeat of compilation %s failed", self.compilation_id)


@public
def run_next(
    uow: UnitOfWork,
    worker: str,
    settings: EngineSettings | None = None,
    compilation_id: int | None = None,
) -> bool:
    """Claim one compilation that is due and take its next step; False if none was due."""
    settings = settings or EngineSettings.from_env()
    claimed = _claim(uow, worker, settings.lease_seconds, compilation_id, settings.training)
    if claimed is None:
        return False
    step = Step(uow, claimed, worker, settings)
    with _Heartbeat(uow, claimed, worker, settings.lease_seconds):
        try:
            take_next_step(step)
        except (Stop, LeaseLost):
            pass
        except (OperationalError, DatabaseBusy):
            logger.exception("database trouble in compilation %s; retrying", claimed)
            step.release_quietly(settings.retry_seconds)
        except Exception as exc:
            logger.exception("compilation %s failed unexpectedly", claimed)
            step.fail_quietly(f"Unexpected error in the worker: {type(exc).__name__}: {exc}")
    return True


def take_next_step(step: Step) -> None:
    """The step that the compilation's status calls for: prepare (build, validate, price),
    upload and start the provider's job, or follow the job to its end."""
    with step.uow:
        compilation = step.load()
        status = compilation.status
        at_provider = (
            compilation.provider_job_id is not None or compilation.provider_status == "creating"
        )
        deploying = compilation.provider_status == DEPLOYING
        if compilation.cancel_requested and not at_provider:
            step.end_here(
                compilation,
                CompilationStatus.CANCELLED,
                reason="Cancelled before it reached the provider",
            )
    if status in (CompilationStatus.QUEUED, CompilationStatus.VALIDATING):
        prepare(step)
    elif status == CompilationStatus.UPLOADING:
        upload_and_start(step)
    elif status == CompilationStatus.TRAINING and deploying:
        follow_deployment(step)
    elif status == CompilationStatus.TRAINING:
        follow(step)


@public
def drain(
    uow: UnitOfWork,
    worker: str,
    *,
    settings: EngineSettings | None = None,
    compilation_id: int | None = None,
    idle_timeout: float = 0.0,
) -> int:
    """Run steps until nothing is due (waiting up to ``idle_timeout`` for work that is
    scheduled, e.g. a job being followed); returns how many steps ran. For the command
    line, the demo and tests."""
    steps = 0
    deadline = time.monotonic() + idle_timeout
    while True:
        if run_next(uow, worker, settings, compilation_id):
            steps += 1
            deadline = time.monotonic() + idle_timeout
            continue
        if not _pending(uow, compilation_id) or time.monotonic() >= deadline:
            return steps
        time.sleep(0.05)


def _pending(uow: UnitOfWork, compilation_id: int | None) -> bool:
    with uow:
        query = select(func.count()).where(Compilation.status.in_(ACTIVE_COMPILATION_STATUSES))
        if compilation_id is not None:
            query = query.where(Compilation.id == compilation_id)
        return bool(uow.session.scalar(query))

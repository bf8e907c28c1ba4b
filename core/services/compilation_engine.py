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

import gzip
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import OperationalError

from core.domain import ACTIVE_COMPILATION_STATUSES, CompilationStatus, Role, utcnow
from core.errors import ProviderError, ProviderRateLimited, ProviderUnavailable
from core.models import AIModel, Compilation, CompilationEvent, ModelVersion
from core.permissions import public
from core.providers.base import (
    JOB_FINISHED,
    ChatTurn,
    Hyperparameters,
    Job,
    JobEvent,
    JobRequest,
    Provider,
)
from core.providers.registry import provider_for
from core.services import _training_data as data
from core.services._common import notify_role
from core.services._compilation_records import (
    MANIFEST,
    METRICS,
    TRAINING_FILE,
    VALIDATION,
    Analysis,
    activate,
    analyse,
    finish,
    log,
    model_link,
    read_asset,
    refusal,
    store_asset,
)
from core.services._usage import connections
from core.training.cost import cost_of
from core.training.scoring import mean, token_f1
from core.uow import UnitOfWork

logger = logging.getLogger("arbiter.compilations")


@dataclass(frozen=True)
class EngineSettings:
    lease_seconds: float = 60.0
    # After a job creation whose outcome is unknown, wait this long before creating again
    # (a request the provider received may still be processed after our timeout).
    doubt_seconds: float = 60.0
    retry_seconds: float = 5.0  # first wait after the provider was unavailable (doubles)
    max_provider_errors: int = 10  # consecutive; then the compilation fails
    poll_seconds: float | None = None  # overrides the provider's own first poll interval

    @classmethod
    def from_env(cls) -> EngineSettings:
        def number(name: str, default: float) -> float:
            return float(os.environ.get(name) or default)

        poll = os.environ.get("ARBITER_POLL_SECONDS")
        return cls(
            lease_seconds=number("ARBITER_LEASE_SECONDS", cls.lease_seconds),
            doubt_seconds=number("ARBITER_JOB_DOUBT_SECONDS", cls.doubt_seconds),
            retry_seconds=number("ARBITER_RETRY_SECONDS", cls.retry_seconds),
            max_provider_errors=int(number("ARBITER_MAX_PROVIDER_ERRORS", 10)),
            poll_seconds=float(poll) if poll else None,
        )


class LeaseLost(Exception):
    """Another worker holds the compilation now: drop this step's results."""


class _Stop(Exception):
    """The step ended the compilation or scheduled its next round; nothing more to do."""


# --- claiming -------------------------------------------------------------------------------


def _claimable(now: Any) -> Any:
    return and_(
        Compilation.status.in_(ACTIVE_COMPILATION_STATUSES),
        or_(Compilation.lease_until.is_(None), Compilation.lease_until < now),
        or_(Compilation.next_poll_at.is_(None), Compilation.next_poll_at <= now),
    )


def _claim(
    uow: UnitOfWork, worker: str, lease_seconds: float, compilation_id: int | None = None
) -> int | None:
    now = utcnow()
    condition = _claimable(now)
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
    claimed = _claim(uow, worker, settings.lease_seconds, compilation_id)
    if claimed is None:
        return False
    step = _Step(uow, claimed, worker, settings)
    with _Heartbeat(uow, claimed, worker, settings.lease_seconds):
        try:
            step.run()
        except (_Stop, LeaseLost):
            pass
        except OperationalError:
            logger.exception("database trouble in compilation %s; retrying", claimed)
            step.release_quietly(settings.retry_seconds)
        except Exception as exc:
            logger.exception("compilation %s failed unexpectedly", claimed)
            step.fail_quietly(f"Unexpected error in the worker: {type(exc).__name__}: {exc}")
    return True


# --- the steps ----------------------------------------------------------------------------


class _Step:
    """One step of one claimed compilation.

    Discipline: provider calls happen outside database transactions (so a slow provider
    never holds a database lock), and every transaction that writes starts by checking the
    claim (``_load``). ``_end_here`` and ``_release_here`` commit and stop the step; they
    are called with a transaction open, ``end`` and ``provider_trouble`` without.
    """

    def __init__(
        self, uow: UnitOfWork, compilation_id: int, worker: str, settings: EngineSettings
    ) -> None:
        self.uow = uow
        self.id = compilation_id
        self.worker = worker
        self.settings = settings
        self._provider: Provider | None = None

    # -- transactions ------------------------------------------------------------------

    def _load(self) -> Compilation:
        # One statement locks the row and reads it fresh (steps load it several times).
        compilation = self.uow.session.scalar(
            select(Compilation)
            .where(Compilation.id == self.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if compilation is None or compilation.claimed_by != self.worker:
            raise LeaseLost(self.id)
        return compilation

    @staticmethod
    def release(compilation: Compilation, delay: float | None = None) -> None:
        compilation.claimed_by = None
        compilation.lease_until = None
        compilation.next_poll_at = utcnow() + timedelta(seconds=delay) if delay else None

    @staticmethod
    def stats(compilation: Compilation, **changes: Any) -> dict[str, Any]:
        merged = dict(compilation.dataset_stats or {})
        merged.update(changes)
        compilation.dataset_stats = merged
        return merged

    def _end_here(
        self,
        compilation: Compilation,
        status: CompilationStatus,
        *,
        error: str | None = None,
        reason: str | None = None,
    ) -> NoReturn:
        finish(self.uow.session, compilation, status, error=error, reason=reason)
        self.uow.commit()
        raise _Stop

    def _release_here(self, compilation: Compilation, delay: float | None = None) -> NoReturn:
        self.release(compilation, delay)
        self.uow.commit()
        raise _Stop

    def end(
        self, status: CompilationStatus, *, error: str | None = None, reason: str | None = None
    ) -> NoReturn:
        with self.uow:
            self._end_here(self._load(), status, error=error, reason=reason)

    def release_quietly(self, delay: float) -> None:
        try:
            with self.uow:
                self._release_here(self._load(), delay)
        except _Stop:
            pass
        except Exception:
            logger.exception("could not release compilation %s", self.id)

    def fail_quietly(self, error: str) -> None:
        try:
            self.end(CompilationStatus.FAILED, error=error)
        except _Stop:
            pass
        except Exception:
            logger.exception("could not record the failure of compilation %s", self.id)

    # -- provider ----------------------------------------------------------------------

    def _provider_here(self, compilation: Compilation) -> Provider:
        """The compilation's provider (built once per step); ends it if there is none."""
        if self._provider is None:
            conn_id = (compilation.dataset_stats or {}).get("connection_id")
            found = connections(self.uow.session).get(conn_id) if conn_id else None
            if found is None:
                self._end_here(
                    compilation,
                    CompilationStatus.FAILED,
                    error="The model's provider connection no longer exists.",
                )
            try:
                self._provider = provider_for(found.settings)
            except ProviderError as exc:
                self._end_here(compilation, CompilationStatus.FAILED, error=exc.message)
        return self._provider

    def provider_trouble(self, exc: ProviderError) -> NoReturn:
        """Retry later when the provider is unavailable; fail on anything else."""
        if not isinstance(exc, ProviderUnavailable):
            self.end(CompilationStatus.FAILED, error=exc.message)
        with self.uow:
            compilation = self._load()
            errors = int((compilation.dataset_stats or {}).get("provider_errors", 0)) + 1
            if errors >= self.settings.max_provider_errors:
                self._end_here(
                    compilation,
                    CompilationStatus.FAILED,
                    error=f"The provider stayed unavailable ({errors} attempts): {exc.message}",
                )
            delay = self.settings.retry_seconds * 2 ** (errors - 1)
            if isinstance(exc, ProviderRateLimited) and exc.retry_after:
                delay = max(delay, exc.retry_after)
            self.stats(compilation, provider_errors=errors)
            log(
                self.uow.session,
                compilation,
                f"{exc.message} Trying again in {delay:g} s.",
                level="warning",
            )
            self._release_here(compilation, delay)

    # -- dispatch ----------------------------------------------------------------------

    def run(self) -> None:
        with self.uow:
            compilation = self._load()
            status = compilation.status
            at_provider = (
                compilation.provider_job_id is not None or compilation.provider_status == "creating"
            )
            if compilation.cancel_requested and not at_provider:
                self._end_here(
                    compilation,
                    CompilationStatus.CANCELLED,
                    reason="Cancelled before it reached the provider",
                )
        if status in (CompilationStatus.QUEUED, CompilationStatus.VALIDATING):
            self.prepare()
        elif status == CompilationStatus.UPLOADING:
            self.upload_and_start()
        elif status == CompilationStatus.TRAINING:
            self.follow()

    def prepare(self) -> None:
        with self.uow:
            compilation = self._load()
            compilation.status = CompilationStatus.VALIDATING
            compilation.started_at = compilation.started_at or utcnow()
            log(
                self.uow.session,
                compilation,
                "Building and validating the training set",
                data_={"worker": self.worker},
            )
            self.uow.commit()
            model_id = compilation.model_id
        found = analyse(self.uow, model_id)
        with self.uow:
            compilation = self._load()
            session = self.uow.session
            self._record_analysis(compilation, found)
            model = session.get(AIModel, model_id)
            refused = refusal(model, found.inputs) if model else "The model was deleted."
            report = found.report
            if refused:
                self._end_here(compilation, CompilationStatus.FAILED, error=refused)
            if report.errors:
                first = "; ".join(str(f) for f in report.findings if f.severity == "error")
                self._end_here(
                    compilation,
                    CompilationStatus.FAILED,
                    error=f"The training set has {report.errors:,} error(s), listed with their "
                    f"records in the findings. {first[:1500]}",
                )
            if found.unchanged and not compilation.forced:
                self._end_here(
                    compilation,
                    CompilationStatus.SKIPPED,
                    reason="Nothing changed since the active version (same training file and "
                    "configuration): compile only when there are meaningful changes, or force "
                    "it.",
                )
            if found.training_set.size == 0:
                compilation.config_only = True
                log(
                    session,
                    compilation,
                    "No training data: a configuration-only version (base model and system "
                    "message, no fine-tuning job)",
                )
                self.uow.commit()
            elif found.budget.would_exceed and not compilation.budget_override:
                message = (
                    f"Refused: compiling would pass the connection's monthly budget "
                    f"({found.budget.describe()}). An admin may override the budget."
                )
                notify_role(session, [Role.ADMIN.value], "budget", message, model_link(model_id))
                self._end_here(compilation, CompilationStatus.FAILED, error=message)
            else:
                store_asset(
                    session,
                    compilation.id,
                    TRAINING_FILE,
                    "training.jsonl.gz",
                    "application/gzip",
                    gzip.compress(found.training_set.content, compresslevel=6),
                )
                compilation.status = CompilationStatus.UPLOADING
                self._release_here(compilation)
        self.complete(found.inputs.base_model or "")

    def _record_analysis(self, compilation: Compilation, found: Analysis) -> None:
        session = self.uow.session
        report, training_set, estimate = found.report, found.training_set, found.estimate
        connection = found.inputs.connection
        compilation.dataset_hash = training_set.sha256
        compilation.config_hash = found.inputs.config_hash
        compilation.example_count = training_set.size
        compilation.token_count = report.total_tokens
        compilation.billed_tokens_estimate = estimate.billed_tokens
        compilation.cost_estimate = estimate.cost
        compilation.base_model = found.inputs.base_model
        compilation.validation_report = report.as_json()
        compilation.diff_summary = found.diff.as_json() if found.diff else None
        self.stats(
            compilation,
            fingerprint=found.fingerprint,
            connection_id=connection.id if connection else None,
            provider_type=connection.provider_type.value if connection else None,
            duplicates_removed=training_set.duplicates_removed,
            epochs=estimate.epochs,
            epochs_auto=estimate.epochs_auto,
            tokens_per_epoch=estimate.tokens_per_epoch,
            sources=data.sources_named(found.inputs.sources),
            per_source=data.per_source(found.inputs.sources, training_set),
        )
        store_asset(
            session,
            compilation.id,
            MANIFEST,
            "manifest.json.gz",
            "application/gzip",
            gzip.compress(json.dumps(training_set.manifest()).encode("utf-8")),
        )
        diff = f"; against the active version: {found.diff.describe()}" if found.diff else ""
        log(
            session,
            compilation,
            f"Training set: {training_set.size:,} examples from "
            f"{data.sources_named(found.inputs.sources)}, {report.total_tokens:,} tokens, "
            f"{report.errors:,} errors, {report.warnings:,} warnings{diff}. Estimate: "
            f"{estimate.describe()}. Hash {training_set.sha256[:12]}.",
        )

    def upload_and_start(self) -> None:
        with self.uow:
            compilation = self._load()
            provider = self._provider_here(compilation)
            metadata = {"compilation_id": str(compilation.id)}
            doubt = compilation.provider_status == "creating"
            attempted = float((compilation.dataset_stats or {}).get("create_attempted_at", 0))
            file_id = compilation.provider_file_id
            content = None if file_id else read_asset(self.uow.session, self.id, TRAINING_FILE)
        if doubt:
            self._resolve_doubt(provider, metadata, attempted)
        if file_id is None:
            assert content is not None
            try:
                file_id = provider.upload_training_file(
                    f"compilation-{self.id}.jsonl", gzip.decompress(content)
                )
            except ProviderError as exc:
                self.provider_trouble(exc)
            with self.uow:
                compilation = self._load()
                compilation.provider_file_id = file_id
                log(self.uow.session, compilation, f"Uploaded the training file as {file_id}")
                self.uow.commit()
        self._create_job(file_id, provider, metadata)

    def _resolve_doubt(
        self, provider: Provider, metadata: dict[str, str], attempted: float
    ) -> None:
        """A job creation was attempted and its outcome is unknown: find the job, or wait
        out the grace period before creating it again."""
        try:
            job = provider.find_job(metadata)
        except ProviderError as exc:
            self.provider_trouble(exc)
        with self.uow:
            compilation = self._load()
            if job is not None:
                self._started(compilation, job.id, job.status, "Found the job created earlier")
            wait = attempted + self.settings.doubt_seconds - utcnow().timestamp()
            if wait > 0:
                self._release_here(compilation, wait)
            log(self.uow.session, compilation, "No job was created by the earlier attempt")
            self.uow.commit()

    def _started(self, compilation: Compilation, job_id: str, status: str, how: str) -> NoReturn:
        compilation.provider_job_id = job_id
        compilation.provider_status = status
        compilation.status = CompilationStatus.TRAINING
        self.stats(compilation, provider_errors=0)
        log(self.uow.session, compilation, f"{how}: {job_id} ({status})")
        self._release_here(compilation)

    def _create_job(self, file_id: str, provider: Provider, metadata: dict[str, str]) -> None:
        with self.uow:
            compilation = self._load()
            model = self.uow.session.get(AIModel, compilation.model_id)
            assert model is not None
            request = JobRequest(
                training_file_id=file_id,
                base_model=compilation.base_model or "",
                suffix=_suffix(model.name),
                hyperparameters=Hyperparameters(
                    model.n_epochs, model.batch_size, model.learning_rate_multiplier
                ),
                metadata=metadata,
            )
            # Persisted before the call: from here on, a crash or a lost answer means doubt.
            compilation.provider_status = "creating"
            self.stats(compilation, create_attempted_at=utcnow().timestamp())
            self.uow.commit()
        how = "Started the fine-tuning job"
        try:
            job = provider.create_job(request)
        except ProviderRateLimited as exc:
            # Refused before it was processed: no job exists.
            with self.uow:
                self._load().provider_status = None
                self.uow.commit()
            self.provider_trouble(exc)
        except ProviderUnavailable as exc:
            found = self._find_quietly(provider, metadata)
            if found is None:
                self.provider_trouble(exc)
            job = found
            how = f"{exc.message} The job was created all the same; found it by its metadata"
        except ProviderError as exc:
            self.end(CompilationStatus.FAILED, error=exc.message)
        with self.uow:
            self._started(self._load(), job.id, job.status, how)

    @staticmethod
    def _find_quietly(provider: Provider, metadata: dict[str, str]) -> Job | None:
        try:
            return provider.find_job(metadata)
        except ProviderError:
            return None

    def follow(self) -> None:
        with self.uow:
            compilation = self._load()
            provider = self._provider_here(compilation)
            job_id = compilation.provider_job_id
            assert job_id is not None
            cancel = compilation.cancel_requested
            since = self.uow.session.scalar(
                select(CompilationEvent.provider_event_id)
                .where(
                    CompilationEvent.compilation_id == self.id,
                    CompilationEvent.provider_event_id.is_not(None),
                )
                .order_by(CompilationEvent.id.desc())
                .limit(1)
            )
            delay = float((compilation.dataset_stats or {}).get("poll_delay", 0))
            finished_before = compilation.provider_status in JOB_FINISHED
        try:
            if cancel and not finished_before:
                job = provider.cancel_job(job_id)
            else:
                job = provider.get_job(job_id)
            events = provider.list_events(job_id, since)
        except ProviderError as exc:
            self.provider_trouble(exc)
        with self.uow:
            compilation = self._load()
            self._store_events(events)
            compilation.provider_status = job.status
            compilation.estimated_finish_at = job.estimated_finish
            self.stats(compilation, provider_errors=0)
            if job.status == "failed":
                code = f" ({job.error_code})" if job.error_code else ""
                self._end_here(
                    compilation,
                    CompilationStatus.FAILED,
                    error=f"The provider's fine-tuning job {job.id} failed{code}: "
                    f"{job.error or 'no reason given'}",
                )
            if job.status == "cancelled":
                self._end_here(
                    compilation,
                    CompilationStatus.CANCELLED,
                    reason=f"The job {job.id} was cancelled",
                )
            if job.status != "succeeded":
                first = self.settings.poll_seconds or provider.poll_seconds
                delay = min(provider.max_poll_seconds, delay * 2) if delay else first
                self.stats(compilation, poll_delay=delay)
                self._release_here(compilation, delay)
            compilation.provider_model = job.fine_tuned_model
            compilation.trained_tokens = job.trained_tokens
            if job.trained_tokens is not None:
                conn = connections(self.uow.session).get(
                    (compilation.dataset_stats or {}).get("connection_id") or 0
                )
                compilation.actual_cost = cost_of(job.trained_tokens, data.price(conn))
            log(
                self.uow.session,
                compilation,
                f"The provider finished training: {job.fine_tuned_model}",
            )
            self.uow.commit()
        self._store_checkpoints(provider, job_id)
        self.complete(job.fine_tuned_model or "")

    def _store_events(self, events: list[JobEvent]) -> None:
        session = self.uow.session
        known = set(
            session.scalars(
                select(CompilationEvent.provider_event_id).where(
                    CompilationEvent.compilation_id == self.id,
                    CompilationEvent.provider_event_id.is_not(None),
                )
            )
        )
        for event in events:
            if event.id in known:
                continue
            known.add(event.id)
            session.add(
                CompilationEvent(
                    compilation_id=self.id,
                    created_at=event.created_at,
                    level=event.level,
                    event_type=event.event_type,
                    message=event.message,
                    data=dict(event.data) if event.data else None,
                    provider_event_id=event.id,
                )
            )

    def _store_checkpoints(self, provider: Provider, job_id: str) -> None:
        try:
            checkpoints = provider.list_checkpoints(job_id)
        except ProviderError:
            logger.warning("could not read the checkpoints of job %s", job_id)
            return
        payload = [
            {"step": c.step, "metrics": dict(c.metrics), "model": c.model} for c in checkpoints
        ]
        with self.uow:
            compilation = self._load()
            store_asset(
                self.uow.session,
                self.id,
                METRICS,
                "metrics.json",
                "application/json",
                json.dumps(payload).encode("utf-8"),
            )
            if checkpoints:
                last = checkpoints[-1].metrics
                facts = ", ".join(f"{k} {v:.4g}" for k, v in sorted(last.items()) if k != "step")
                log(self.uow.session, compilation, f"{len(checkpoints)} checkpoints; last: {facts}")
            self.uow.commit()

    def complete(self, provider_model: str) -> None:
        """Ask the validation Q&As, create the version and activate it (unless held back)."""
        with self.uow:
            compilation = self._load()
            provider = self._provider_here(compilation)
            model = self.uow.session.get(AIModel, compilation.model_id)
            assert model is not None
            inputs = data.model_inputs(self.uow.session, model)
            questions = data.validation_qas(self.uow.session, inputs)
        results: list[dict[str, Any]] = []
        try:
            for qa in questions:
                turns = [ChatTurn("user", qa.question)]
                if inputs.system_message:
                    turns.insert(0, ChatTurn("system", inputs.system_message))
                answer = "".join(d.text for d in provider.chat(provider_model, turns))
                results.append(
                    {
                        "qa_id": qa.id,
                        "model_id": qa.model_id,
                        "question": qa.question,
                        "expected": qa.answer,
                        "answer": answer,
                        "f1": round(token_f1(answer, qa.answer), 4),
                    }
                )
        except ProviderError as exc:
            self.provider_trouble(exc)
        score = mean(r["f1"] for r in results)
        with self.uow:
            compilation = self._load()
            self._new_version(compilation, provider_model, inputs.system_message, results, score)

    def _new_version(
        self,
        compilation: Compilation,
        provider_model: str,
        system_message: str,
        results: list[dict[str, Any]],
        score: float | None,
    ) -> NoReturn:
        session = self.uow.session
        model = session.get(AIModel, compilation.model_id)
        assert model is not None
        store_asset(
            session,
            self.id,
            VALIDATION,
            "validation.json",
            "application/json",
            json.dumps(results, ensure_ascii=False).encode("utf-8"),
        )
        if score is None:
            log(session, compilation, "No validation Q&As: the version has no score")
        else:
            log(
                session,
                compilation,
                f"Validation: {len(results)} Q&As asked, mean token-overlap F1 {score:.3f}",
                data_={"validation_score": score, "questions": len(results)},
            )
        previous = (
            session.get(ModelVersion, model.active_version_id) if model.active_version_id else None
        )
        highest = session.scalar(
            select(func.max(ModelVersion.number)).where(ModelVersion.model_id == model.id)
        )
        number = (highest or 0) + 1
        version = ModelVersion(
            model_id=model.id,
            compilation_id=compilation.id,
            number=number,
            provider_model_id=provider_model,
            base_model=compilation.base_model,
            system_message=system_message,
            dataset_hash=compilation.dataset_hash,
            config_hash=compilation.config_hash,
            config_only=compilation.config_only,
            validation_score=score,
        )
        session.add(version)
        session.flush()
        compilation.version_id = version.id
        compilation.validation_score = score
        compilation.provider_model = provider_model
        if (
            model.activation_gate
            and previous is not None
            and previous.validation_score is not None
            and score is not None
            and score < previous.validation_score
        ):
            reason = (
                f"Version v{number} is held back: its validation score {score:.3f} is lower "
                f"than the active v{previous.number}'s {previous.validation_score:.3f}. An "
                "admin can activate it on the Versions tab."
            )
            self.stats(compilation, held_back=True)
            notify_role(session, [Role.ADMIN.value], "compilation", reason, model_link(model.id))
        else:
            activate(session, model, version, previous)
            scored = f" (validation score {score:.3f})" if score is not None else ""
            reason = f"Version v{number} is active{scored}."
        self._end_here(compilation, CompilationStatus.SUCCEEDED, reason=reason)


def _suffix(name: str) -> str:
    """A provider suffix from the model name: lower-case letters, digits and dashes."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return (cleaned or "arbiter")[:40]


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

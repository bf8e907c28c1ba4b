"""Step 3, follow: read the running job with a growing delay, store its events and metrics as
they come, pass a cancel request on, and on success store the checkpoints and finish.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

from core.domain import CompilationStatus
from core.errors import ProviderError
from core.models import CompilationEvent
from core.providers.base import JOB_FINISHED, JobEvent, Provider
from core.services.catalog.usage import connection_facts, training_price
from core.services.compilation import preference
from core.services.compilation.deploy import needs_deployment, start_deployment
from core.services.compilation.finish import complete
from core.services.compilation.records import METRICS, log, store_asset
from core.services.compilation.step import Step
from core.training.cost import cost_of

logger = logging.getLogger("arbiter.compilations")


def follow(step: Step) -> None:
    with step.uow:
        compilation = step.load()
        provider = step.provider_here(compilation)
        job_id = compilation.provider_job_id
        assert job_id is not None
        cancel = compilation.cancel_requested
        since = step.uow.session.scalar(
            select(CompilationEvent.provider_event_id)
            .where(
                CompilationEvent.compilation_id == step.id,
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
        step.provider_trouble(exc)
    with step.uow:
        compilation = step.load()
        store_events(step, events)
        compilation.provider_status = job.status
        compilation.estimated_finish_at = job.estimated_finish
        if job.status != "succeeded":
            # Kept once it succeeded: outages of the validation chat that follows then add up
            # to the bound, instead of starting again at every re-read of the finished job.
            step.stats(compilation, provider_errors=0)
        if job.status == "failed":
            code = f" ({job.error_code})" if job.error_code else ""
            step.end_here(
                compilation,
                CompilationStatus.FAILED,
                error=f"The provider's fine-tuning job {job.id} failed{code}: "
                f"{job.error or 'no reason given'}",
            )
        if job.status == "cancelled":
            step.end_here(
                compilation,
                CompilationStatus.CANCELLED,
                reason=f"The job {job.id} was cancelled",
            )
        if job.status != "succeeded":
            first = step.settings.poll_seconds or provider.poll_seconds
            delay = min(provider.max_poll_seconds, delay * 2) if delay else first
            step.stats(compilation, poll_delay=delay)
            step.release_here(compilation, delay)
        compilation.provider_model = job.fine_tuned_model
        compilation.trained_tokens = job.trained_tokens
        if job.trained_tokens is not None:
            conn = connection_facts(step.uow.session).get(
                (compilation.dataset_stats or {}).get("connection_id") or 0
            )
            price = training_price(step.uow.session, conn, compilation.base_model)
            compilation.actual_cost = cost_of(job.trained_tokens, price)
        # Supervised then DPO: the supervised job's end starts the DPO stage (and stops here).
        preference.after_job(step, compilation, job)
        log(
            step.uow.session,
            compilation,
            f"The provider finished training: {job.fine_tuned_model}",
        )
        step.uow.commit()
    store_checkpoints(step, provider, job_id)
    if needs_deployment(provider):
        start_deployment(step, provider, job.fine_tuned_model or "")
    else:
        complete(step, job.fine_tuned_model or "")


def store_events(step: Step, events: list[JobEvent]) -> None:
    session = step.uow.session
    known = set(
        session.scalars(
            select(CompilationEvent.provider_event_id).where(
                CompilationEvent.compilation_id == step.id,
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
                compilation_id=step.id,
                created_at=event.created_at,
                level=event.level,
                event_type=event.event_type,
                message=event.message,
                data=dict(event.data) if event.data else None,
                provider_event_id=event.id,
            )
        )


def store_checkpoints(step: Step, provider: Provider, job_id: str) -> None:
    try:
        checkpoints = provider.list_checkpoints(job_id)
    except ProviderError:
        logger.warning("could not read the checkpoints of job %s", job_id)
        return
    payload = [{"step": c.step, "metrics": dict(c.metrics), "model": c.model} for c in checkpoints]
    with step.uow:
        compilation = step.load()
        store_asset(
            step.uow.session,
            step.id,
            METRICS,
            "metrics.json",
            "application/json",
            json.dumps(payload).encode("utf-8"),
        )
        if checkpoints:
            last = checkpoints[-1].metrics
            facts = ", ".join(f"{k} {v:.4g}" for k, v in sorted(last.items()) if k != "step")
            log(
                step.uow.session,
                compilation,
                f"{len(checkpoints)} checkpoint{'' if len(checkpoints) == 1 else 's'}; last: {facts}",
            )
        step.uow.commit()

"""Step 2, upload and start: upload the training file and create the provider's job, exactly
once. Job creation has no idempotency key, so the attempt is recorded first and, after any
doubt (a timeout, a crash), the job is looked up by the compilation id in its metadata and
created again only when none exists after a grace period.
"""

from __future__ import annotations

import gzip
import re
from typing import NoReturn

from core.domain import CompilationStatus, utcnow
from core.errors import ProviderError, ProviderRateLimited, ProviderUnavailable
from core.models import AIModel, Compilation
from core.providers.base import Hyperparameters, Job, JobRequest, Provider
from core.services.compilation import preference
from core.services.compilation.records import TRAINING_FILE, log, read_asset
from core.services.compilation.step import Step


def upload_and_start(step: Step) -> None:
    with step.uow:
        compilation = step.load()
        provider = step.provider_here(compilation)
        dpo = preference.in_dpo_stage(compilation)
        # The DPO job's metadata differs, so that finding one job never finds the other.
        metadata = {"compilation_id": str(compilation.id), **({"stage": "dpo"} if dpo else {})}
        doubt = compilation.provider_status == "creating"
        attempted = float((compilation.dataset_stats or {}).get("create_attempted_at", 0))
        file_id = compilation.provider_file_id
        kind = preference.PREFERENCE_FILE if dpo else TRAINING_FILE
        content = None if file_id else read_asset(step.uow.session, step.id, kind)
    if doubt:
        resolve_doubt(step, provider, metadata, attempted)
    if file_id is None:
        assert content is not None
        try:
            file_id = provider.upload_training_file(
                f"compilation-{step.id}{'-preference' if dpo else ''}.jsonl",
                gzip.decompress(content),
            )
        except ProviderError as exc:
            step.provider_trouble(exc)
        with step.uow:
            compilation = step.load()
            compilation.provider_file_id = file_id
            what = "the preference file" if dpo else "the training file"
            log(step.uow.session, compilation, f"Uploaded {what} as {file_id}")
            step.uow.commit()
    create_job(step, file_id, provider, metadata)


def resolve_doubt(
    step: Step, provider: Provider, metadata: dict[str, str], attempted: float
) -> None:
    """A job creation was attempted and its outcome is unknown: find the job, or wait
    out the grace period before creating it again."""
    try:
        job = provider.find_job(metadata)
    except ProviderError as exc:
        step.provider_trouble(exc)
    with step.uow:
        compilation = step.load()
        if job is not None:
            started(step, compilation, job.id, job.status, "Found the job created earlier")
        wait = attempted + step.settings.doubt_seconds - utcnow().timestamp()
        if wait > 0:
            step.release_here(compilation, wait)
        log(step.uow.session, compilation, "No job was created by the earlier attempt")
        step.uow.commit()


def started(step: Step, compilation: Compilation, job_id: str, status: str, how: str) -> NoReturn:
    compilation.provider_job_id = job_id
    compilation.provider_status = status
    compilation.status = CompilationStatus.TRAINING
    step.stats(compilation, provider_errors=0)
    log(step.uow.session, compilation, f"{how}: {job_id} ({status})")
    step.release_here(compilation)


def create_job(step: Step, file_id: str, provider: Provider, metadata: dict[str, str]) -> None:
    with step.uow:
        compilation = step.load()
        model = step.uow.session.get(AIModel, compilation.model_id)
        assert model is not None
        dpo = preference.in_dpo_stage(compilation)
        request = JobRequest(
            training_file_id=file_id,
            base_model=preference.dpo_base(compilation),
            suffix=job_suffix(model.name),
            hyperparameters=Hyperparameters(
                model.n_epochs, model.batch_size, model.learning_rate_multiplier
            ),
            metadata=metadata,
            method="dpo" if dpo else "supervised",
        )
        # Persisted before the call: from here on, a crash or a lost answer means doubt.
        compilation.provider_status = "creating"
        step.stats(compilation, create_attempted_at=utcnow().timestamp())
        step.uow.commit()
    how = "Started the preference (DPO) job" if dpo else "Started the fine-tuning job"
    try:
        job = provider.create_job(request)
    except ProviderRateLimited as exc:
        # Refused before it was processed: no job exists.
        with step.uow:
            step.load().provider_status = None
            step.uow.commit()
        step.provider_trouble(exc)
    except ProviderUnavailable as exc:
        found = find_quietly(provider, metadata)
        if found is None:
            step.provider_trouble(exc)
        job = found
        how = f"{exc.message} The job was created all the same; found it by its metadata"
    except ProviderError as exc:
        step.end(CompilationStatus.FAILED, error=exc.message)
    with step.uow:
        started(step, step.load(), job.id, job.status, how)


def find_quietly(provider: Provider, metadata: dict[str, str]) -> Job | None:
    try:
        return provider.find_job(metadata)
    except ProviderError:
        return None


def job_suffix(name: str) -> str:
    """A provider suffix from the model name: lower-case letters, digits and dashes."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return (cleaned or "arbiter")[:40]

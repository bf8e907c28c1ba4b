"""What the compilation use cases and the worker share: analysing a model's training set,
the assets and the build log of a compilation, ending one, activating a version."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.domain import (
    CompilationStatus,
    ModelKind,
    as_utc,
    utcnow,
)
from core.models import AIModel, Compilation, CompilationAsset, CompilationEvent, ModelVersion
from core.services.accounts.notifications import notify
from core.services.catalog import training_data
from core.services.catalog.base_model_facts import base_model_refusal
from core.services.catalog.budgets import Budget, spent_this_month
from core.services.shared import get_or_404
from core.training.builder import TrainingSet
from core.training.bulk import bulk
from core.training.cost import Estimate, estimate
from core.training.diff import TrainingSetDiff, diff_manifests
from core.training.findings import Report
from core.training.leakage import leakage_findings
from core.training.validator import example_token_limit, validate
from core.uow import UnitOfWork

TRAINING_FILE = "training_file"
MANIFEST = "manifest"
VALIDATION = "validation_report"
METRICS = "metrics"


def store_asset(
    session: Session, compilation_id: int, kind: str, filename: str, media_type: str, raw: bytes
) -> None:
    existing = session.scalar(
        select(CompilationAsset).where(
            CompilationAsset.compilation_id == compilation_id, CompilationAsset.kind == kind
        )
    )
    if existing is not None:
        session.delete(existing)
        session.flush()
    session.add(
        CompilationAsset(
            compilation_id=compilation_id,
            kind=kind,
            filename=filename,
            media_type=media_type,
            size_bytes=len(raw),
            sha256=hashlib.sha256(raw).hexdigest(),
            content=raw,
        )
    )


def read_asset(session: Session, compilation_id: int, kind: str) -> bytes | None:
    raw = session.scalar(
        select(CompilationAsset.content).where(
            CompilationAsset.compilation_id == compilation_id, CompilationAsset.kind == kind
        )
    )
    return bytes(raw) if raw is not None else None


def read_json_asset(session: Session, compilation_id: int, kind: str) -> Any:
    raw = read_asset(session, compilation_id, kind)
    return json.loads(gzip.decompress(raw)) if raw is not None else None


def active_version(session: Session, model: AIModel) -> ModelVersion | None:
    if model.active_version_id is None:
        return None
    return session.get(ModelVersion, model.active_version_id)


def active_manifest(session: Session, version: ModelVersion | None) -> list[Any] | None:
    if version is None or version.compilation_id is None:
        return None
    found = read_json_asset(session, version.compilation_id, MANIFEST)
    return found if isinstance(found, list) else None


@dataclass(frozen=True)
class Analysis:
    """The training set of a model as it stands, checked and priced."""

    inputs: training_data.ModelInputs
    training_set: TrainingSet
    report: Report
    estimate: Estimate
    budget: Budget
    diff: TrainingSetDiff | None
    unchanged: bool
    config_changed: bool
    fingerprint: str
    refusal: str | None


@bulk
def analyse(
    uow: UnitOfWork, model_id: int, target: training_data.MoveTarget | None = None
) -> Analysis:
    """Read in one short transaction, then check and price outside it (no database lock is
    held while 100,000 examples are validated)."""
    with uow:
        session = uow.session
        model = get_or_404(session, AIModel, model_id, "Model")
        inputs = training_data.model_inputs(session, model, target)
        training_set = training_data.load_training_set(session, inputs)
        spent = spent_this_month(session, inputs.connection)
        version = active_version(session, model)
        manifest = active_manifest(session, version)
        fingerprint = training_data.fingerprints(session, [model.id])[model.id]
        refused = refusal(model, inputs)
        version_hashes = (version.dataset_hash, version.config_hash) if version else None
        validation = training_data.validation_qas(session, inputs)
    facts = inputs.base_model_facts
    limit = (facts.example_token_limit if facts else None) or example_token_limit(inputs.base_model)
    report = validate(
        training_set.examples, base_model=inputs.base_model, token_limit=limit, allow_empty=True
    )
    names = {mid: name for mid, name, _ in inputs.sources}
    for finding in leakage_findings(training_set.examples, validation, names):
        report.add(finding)
    priced = estimate(
        report.example_tokens,
        n_epochs=inputs.n_epochs,
        token_limit=limit,
        price_per_million=inputs.training_price,
    )
    budget = Budget(
        inputs.connection.monthly_budget if inputs.connection else None, spent, priced.cost
    )
    diff = (
        diff_manifests(manifest, [(e.digest, e.sources) for e in training_set.examples])
        if manifest is not None
        else None
    )
    return Analysis(
        inputs=inputs,
        training_set=training_set,
        report=report,
        estimate=priced,
        budget=budget,
        diff=diff,
        unchanged=version_hashes == (training_set.sha256, inputs.config_hash),
        config_changed=version_hashes is not None and version_hashes[1] != inputs.config_hash,
        fingerprint=fingerprint,
        refusal=refused or (training_refusal(inputs) if training_set.size else None),
    )


def refusal(model: AIModel, inputs: training_data.ModelInputs | None = None) -> str | None:
    if model.kind == ModelKind.ASSISTANT:
        return (
            f"{model.name} is a build assistant: it answers with its base model and system "
            "message and is not fine-tuned. Only arbiters are compiled."
        )
    if inputs is not None and inputs.connection is None:
        return f"{model.name} has no provider connection (neither its own nor a parent's)."
    if inputs is not None and not inputs.base_model:
        return f"{model.name} has no base model, and its connection names no default one."
    if inputs is not None and inputs.connection is not None:
        return base_model_refusal(
            inputs.connection.provider_type, inputs.base_model, inputs.base_model_facts
        )
    return None


def line(message: str) -> str:
    return f"{utcnow():%Y-%m-%d %H:%M:%S}Z  {message}\n"


def log(
    session: Session,
    compilation: Compilation,
    message: str,
    *,
    level: str = "info",
    data_: dict[str, Any] | None = None,
) -> None:
    """A step of our own: in the build log and as a status event."""
    compilation.build_log = (compilation.build_log or "") + line(message)
    session.add(
        CompilationEvent(
            compilation_id=compilation.id,
            level=level,
            event_type="status",
            message=message,
            data=data_,
        )
    )


def finish(
    session: Session,
    compilation: Compilation,
    status: CompilationStatus,
    *,
    error: str | None = None,
    reason: str | None = None,
) -> None:
    """End a compilation and tell its requester; the active version is untouched unless
    the caller made a new one."""
    compilation.status = status
    compilation.finished_at = utcnow()
    compilation.claimed_by = None
    compilation.lease_until = None
    compilation.next_poll_at = None
    if error is not None:
        compilation.error = error
    if reason is not None:
        compilation.reason = reason
    model = session.get(AIModel, compilation.model_id)
    name = model.name if model else f"model #{compilation.model_id}"
    outcome = {
        CompilationStatus.SUCCEEDED: "succeeded",
        CompilationStatus.FAILED: "failed",
        CompilationStatus.CANCELLED: "was cancelled",
        CompilationStatus.SKIPPED: "was skipped",
    }[status]
    detail = error or reason or ""
    log(
        session,
        compilation,
        f"Compilation {outcome}" + (f": {detail}" if detail else ""),
        level="error" if status == CompilationStatus.FAILED else "info",
    )
    text = f"Compilation #{compilation.id} of {name} {outcome}." + (f" {detail}" if detail else "")
    notify(
        session,
        compilation.requested_by_id,
        "compilation",
        text[:2000],
        f"pages/compilations.py?compilation={compilation.id}",
    )


def model_link(model_id: int) -> str:
    return f"pages/models.py?model={model_id}"


def activate(
    session: Session, model: AIModel, version: ModelVersion, previous: ModelVersion | None
) -> None:
    """Make a version the active one. A model that does not follow the latest version keeps
    answering with the version it had (pinned now, if nothing was pinned yet).

    A Core UPDATE, so that the model's row version (edit-conflict detection for people
    editing its settings) does not move when the worker activates a version."""
    values: dict[str, Any] = {"active_version_id": version.id}
    if not model.auto_update_to_latest and model.pinned_version_id is None and previous:
        values["pinned_version_id"] = previous.id
    session.execute(update(AIModel).where(AIModel.id == model.id).values(**values))
    session.expire(model)


@dataclass(frozen=True)
class EventView:
    id: int
    created_at: datetime
    level: str
    event_type: str
    message: str
    data: dict[str, Any] | None


def event_view(e: CompilationEvent) -> EventView:
    return EventView(
        id=e.id,
        created_at=as_utc(e.created_at) or e.created_at,
        level=e.level,
        event_type=e.event_type,
        message=e.message,
        data=e.data,
    )


def training_refusal(inputs: training_data.ModelInputs, today: date | None = None) -> str | None:
    """Why no fine-tuning job may be started for this model today (a configuration-only
    version needs none): the provider takes no new jobs on its base model any more."""
    facts = inputs.base_model_facts
    today = today or utcnow().date()
    if facts is None or facts.fine_tuning_ends is None or today <= facts.fine_tuning_ends:
        return None
    provider = inputs.connection.provider_type.value if inputs.connection else "the provider"
    return (
        f"{provider} takes no new fine-tuning jobs on {inputs.base_model} since "
        f"{facts.fine_tuning_ends.isoformat()}, so {inputs.model_name} cannot be compiled on "
        "this connection. Move the model to another connection (Models → Settings → Move to "
        "another connection, or python -m core move-model), see its pre-flight there and "
        "compile: the active version keeps answering until the new one succeeds."
    )

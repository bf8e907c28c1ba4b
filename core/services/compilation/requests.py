"""Compilations: pre-flight, request, cancel and follow (the work itself is done by the
worker, see ``compilation_engine``).

A compilation turns a model's system message, Q&As and training conversations (with its
hierarchy) into a new model version: ``queued → validating → uploading → training →
succeeded | failed | cancelled``, or ``skipped`` when nothing changed since the active
version. One runs per model at a time (a partial unique index enforces it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.domain import (
    ACTIVE_COMPILATION_STATUSES,
    CompilationStatus,
    ProviderType,
    Role,
    as_utc,
    utcnow,
)
from core.errors import (
    AlreadyRunning,
    BudgetExceeded,
    Conflict,
    PermissionDenied,
    Problem,
    ValidationFailed,
)
from core.models import AIModel, Compilation, CompilationEvent, ModelVersion
from core.permissions import Actor, Permission, requires
from core.providers.registry import preference_refusal, provider_for
from core.services.accounts.notifications import notify_role
from core.services.catalog import training_data
from core.services.catalog.budgets import Budget
from core.services.catalog.usage import ConnectionFacts
from core.services.compilation import preference as dpo
from core.services.compilation.preference import PreferenceCheck
from core.services.compilation.records import (
    EventView,
    active_manifest,
    analyse,
    finish,
    line,
    model_link,
    refusal,
    training_refusal,
)
from core.services.shared import get_or_404, user_names
from core.training.builder import SourceRef
from core.training.cost import Estimate
from core.training.diff import TrainingSetDiff
from core.training.findings import Finding
from core.training.preference import preference_jsonl
from core.uow import UnitOfWork


@dataclass(frozen=True)
class Preflight:
    """Everything a compilation would do, computed without starting anything."""

    model_id: int
    model_name: str
    provider_type: ProviderType | None
    base_model: str | None
    sources: str
    example_count: int
    total_tokens: int
    duplicates_removed: int
    estimate: Estimate
    budget: Budget
    findings: list[Finding]
    errors: int
    warnings: int
    finding_counts: list[tuple[str, str, int]]
    diff: TrainingSetDiff | None  # None when there is no active version to compare with
    dataset_hash: str
    config_hash: str
    config_changed: bool
    unchanged: bool  # same training file and configuration as the active version
    config_only: bool  # no training data: a version with the base model and system message
    refusal: str | None  # why compiling is refused outright, if it is
    seconds: float
    # Supervised then DPO: the preference pairs checked (None: supervised only).
    preference: PreferenceCheck | None = None
    # Where training runs on this machine (open-weights): how long it would take at the
    # speed measured in its last training; None before the first, or at a cloud provider.
    training_seconds: float | None = None

    @property
    def outcome(self) -> str:
        if self.refusal:
            return self.refusal
        if self.errors:
            return f"would fail: {self.errors:,} errors in the training set"
        if self.preference is not None and self.preference.refusal:
            return f"would fail: {self.preference.refusal}"
        if self.preference is not None:
            return f"ready to compile, supervised then DPO: {self.preference.describe()}"
        if self.unchanged:
            return "would be skipped: nothing changed since the active version (force to rebuild)"
        if self.config_only:
            return "would create a configuration-only version (no training data)"
        if self.budget.would_exceed:
            return "would be refused: it would pass the monthly budget (an admin may override)"
        return "ready to compile"


@dataclass(frozen=True)
class CompilationView:
    id: int
    model_id: int
    model_name: str
    status: CompilationStatus
    requested_by: str | None
    forced: bool
    budget_override: bool
    config_only: bool
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    example_count: int | None
    token_count: int | None
    billed_tokens_estimate: int | None
    cost_estimate: Decimal | None
    trained_tokens: int | None
    actual_cost: Decimal | None
    base_model: str | None
    dataset_hash: str | None
    provider_file_id: str | None
    provider_job_id: str | None
    provider_status: str | None
    provider_model: str | None
    estimated_finish_at: datetime | None
    error: str | None
    reason: str | None
    build_log: str
    validation_score: float | None
    version_id: int | None
    version_number: int | None
    version_active: bool
    findings: list[Finding] = field(default_factory=list)
    diff: TrainingSetDiff | None = None

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE_COMPILATION_STATUSES


# --- use cases ----------------------------------------------------------------------------


@requires(Permission.COMPILE)
def preflight(
    uow: UnitOfWork,
    actor: Actor,
    model_id: int,
    target: training_data.MoveTarget | None = None,
    *,
    preference: bool = False,
) -> Preflight:
    """What compiling the model would do now: examples, tokens, cost, findings and the
    difference against the active version; with ``target``, on another connection and base
    model (token limits and prices differ), to decide a move; with ``preference``, the
    preference pairs a DPO stage after the supervised job would train on (how many, their
    findings, its cost). Starts nothing, writes nothing."""
    started = time.perf_counter()
    found = analyse(uow, model_id, target)
    checked = dpo.check(found, dpo.load_pairs(uow, model_id)) if preference else None
    report = found.report
    connection = found.inputs.connection
    return Preflight(
        model_id=model_id,
        model_name=found.inputs.model_name,
        provider_type=connection.provider_type if connection else None,
        base_model=found.inputs.base_model,
        sources=training_data.sources_named(found.inputs.sources),
        example_count=found.training_set.size,
        total_tokens=report.total_tokens,
        duplicates_removed=found.training_set.duplicates_removed,
        estimate=found.estimate,
        budget=found.budget,
        findings=report.findings,
        errors=report.errors,
        warnings=report.warnings,
        finding_counts=[(s, c, n) for (s, c), n in sorted(report.counts.items())],
        diff=found.diff,
        dataset_hash=found.training_set.sha256,
        config_hash=found.inputs.config_hash,
        config_changed=found.config_changed,
        unchanged=found.unchanged,
        config_only=found.training_set.size == 0,
        refusal=found.refusal,
        seconds=time.perf_counter() - started,
        preference=checked,
        training_seconds=_training_time(connection, found.estimate),
    )


def _training_time(connection: ConnectionFacts | None, estimate: Estimate) -> float | None:
    if connection is None or connection.provider_type != ProviderType.OPEN_WEIGHTS:
        return None
    estimator = getattr(provider_for(connection.settings), "estimate_seconds", None)
    return estimator(estimate.tokens_per_epoch, estimate.epochs) if estimator else None


@requires(Permission.COMPILE)
def request_compilation(
    uow: UnitOfWork,
    actor: Actor,
    model_id: int,
    *,
    force: bool = False,
    override_budget: bool = False,
    preference: bool = False,
) -> CompilationView:
    """Queue a compilation for the worker. Refused for assistants, while another one of the
    model runs, and when it would pass the connection's monthly budget (unless an admin
    overrides it). With ``preference``, supervised then DPO on the Train AI corrections;
    refused at once on a provider that cannot train on preference pairs."""
    if override_budget and not actor.can(Permission.OVERRIDE_BUDGET):
        raise PermissionDenied("Only an admin may override the monthly budget.")
    with uow:
        session = uow.session
        model = get_or_404(session, AIModel, model_id, "Model")
        inputs = training_data.model_inputs(session, model)
        refused = refusal(model, inputs) or (_no_dpo(inputs) if preference else None)
        if refused:
            raise ValidationFailed(refused, [Problem("model", refused)])
        _refuse_if_running(session, model)
    if training_refusal(inputs) is not None:
        # Past the provider's last day for new jobs: refused now, unless the model has no
        # training data (a configuration-only version starts no job).
        cut_off = analyse(uow, model_id).refusal
        if cut_off:
            raise ValidationFailed(cut_off, [Problem("model", cut_off)])
    connection = inputs.connection
    if (
        connection is not None
        and connection.monthly_budget is not None
        and inputs.training_price > 0
        and not override_budget
    ):
        # Priced outside the transaction that queues: no lock is held while it runs.
        found = analyse(uow, model_id)
        if found.budget.would_exceed and not (found.unchanged and not force):
            message = (
                f"Compiling {inputs.model_name} would pass the monthly budget of the "
                f"connection {connection.name}: {found.budget.describe()}. An admin may "
                "override it."
            )
            with uow:
                notify_role(
                    uow.session, [Role.ADMIN.value], "budget", message, model_link(model_id)
                )
                uow.commit()
            raise BudgetExceeded(message)
    with uow:
        session = uow.session
        model = get_or_404(session, AIModel, model_id, "Model")
        _refuse_if_running(session, model)
        compilation = Compilation(
            model_id=model.id,
            requested_by_id=actor.user_id,
            status=CompilationStatus.QUEUED,
            forced=force,
            budget_override=override_budget,
            base_model=inputs.base_model,
            dataset_stats={"preference": True} if preference else None,
            build_log=line(
                f"Requested by {actor.display_name or actor.email}"
                + (" (forced)" if force else "")
                + (" with the monthly budget overridden" if override_budget else "")
                + (", supervised then preference training (DPO)" if preference else "")
            ),
        )
        session.add(compilation)
        try:
            session.flush()
        except IntegrityError as exc:
            raise AlreadyRunning(
                f"A compilation of {model.name} is already running; wait for it or cancel it."
            ) from exc
        uow.commit()
        return _view(session, compilation)


def _no_dpo(inputs: training_data.ModelInputs) -> str | None:
    connection = inputs.connection
    return preference_refusal(connection.provider_type if connection else None)


def _refuse_if_running(session: Session, model: AIModel) -> None:
    running = session.scalar(
        select(Compilation).where(
            Compilation.model_id == model.id,
            Compilation.status.in_(ACTIVE_COMPILATION_STATUSES),
        )
    )
    if running is not None:
        raise AlreadyRunning(
            f"A compilation of {model.name} is already running (#{running.id}, "
            f"{running.status.value}); wait for it to finish or cancel it."
        )


@requires(Permission.COMPILE)
def cancel_compilation(uow: UnitOfWork, actor: Actor, compilation_id: int) -> CompilationView:
    """Ask to stop a compilation. One that has not reached the provider stops at once; one
    that has is cancelled at the provider by the worker on its next step."""
    with uow:
        session = uow.session
        compilation = get_or_404(session, Compilation, compilation_id, "Compilation")
        if compilation.status not in ACTIVE_COMPILATION_STATUSES:
            raise Conflict(
                f"Compilation #{compilation.id} has already ended ({compilation.status.value})."
            )
        who = actor.display_name or actor.email
        compilation.cancel_requested = True
        compilation.next_poll_at = None
        compilation.build_log += line(f"Cancel requested by {who}")
        now = utcnow()
        lease = compilation.lease_until
        idle = compilation.claimed_by is None or (lease is not None and as_utc(lease) < now)
        at_provider = compilation.provider_job_id is not None or compilation.provider_status in (
            "creating",
        )
        if idle and not at_provider:
            finish(session, compilation, CompilationStatus.CANCELLED, reason=f"Cancelled by {who}")
        uow.commit()
        return _view(session, compilation)


@requires(Permission.READ)
def get_compilation(uow: UnitOfWork, actor: Actor, compilation_id: int) -> CompilationView:
    with uow:
        compilation = get_or_404(uow.session, Compilation, compilation_id, "Compilation")
        return _view(uow.session, compilation, details=True)


@requires(Permission.READ)
def latest_compilation(uow: UnitOfWork, actor: Actor, model_id: int) -> CompilationView | None:
    """The model's running compilation, else its newest one."""
    with uow:
        compilation = uow.session.scalar(
            select(Compilation)
            .where(Compilation.model_id == model_id)
            .order_by(Compilation.id.desc())
            .limit(1)
        )
        return _view(uow.session, compilation, details=True) if compilation else None


@requires(Permission.READ)
def compilation_events(
    uow: UnitOfWork, actor: Actor, compilation_id: int, after_id: int = 0, limit: int = 500
) -> list[EventView]:
    with uow:
        rows = uow.session.scalars(
            select(CompilationEvent)
            .where(
                CompilationEvent.compilation_id == compilation_id, CompilationEvent.id > after_id
            )
            .order_by(CompilationEvent.id)
            .limit(limit)
        )
        return [
            EventView(e.id, e.created_at, e.level, e.event_type, e.message, e.data) for e in rows
        ]


@requires(Permission.READ)
def export_training_set(uow: UnitOfWork, actor: Actor, model_id: int, method: str = "sft") -> bytes:
    """The model's training set as it stands: ``sft``, provider-neutral chat JSONL (one
    ``{"messages": [...]}`` example per line; weights on assistant messages); ``dpo``, the
    preference pairs of its Train AI corrections as OpenAI's preference JSONL."""
    with uow:
        model = get_or_404(uow.session, AIModel, model_id, "Model")
        inputs = training_data.model_inputs(uow.session, model)
        if method == "dpo":
            pairs = training_data.preference_pairs(uow.session, inputs)
            if not pairs:
                raise Conflict(
                    f"{model.name} has no preference pairs yet: correct its answers in chat "
                    "with Train AI (the wrong answer is kept beside the correction)."
                )
            return preference_jsonl(pairs)
        return training_data.load_training_set(uow.session, inputs).content


@requires(Permission.READ)
def example_sources(uow: UnitOfWork, actor: Actor, version_id: int, line: int) -> list[SourceRef]:
    """The records a line of a version's training file came from (e.g. the example the
    local provider answered from)."""
    with uow:
        version = get_or_404(uow.session, ModelVersion, version_id, "Version")
        manifest = active_manifest(uow.session, version) or []
        if not 1 <= line <= len(manifest):
            return []
        return [SourceRef.from_json(s) for s in manifest[line - 1][1]]


def _view(session: Session, c: Compilation, *, details: bool = False) -> CompilationView:
    model = session.get(AIModel, c.model_id)
    names = user_names(session, [c.requested_by_id])
    version = session.get(ModelVersion, c.version_id) if c.version_id else None
    findings: list[Finding] = []
    if details and c.validation_report:
        findings = [Finding.from_json(f) for f in c.validation_report.get("findings", [])]
    diff = TrainingSetDiff.from_json(c.diff_summary) if details and c.diff_summary else None
    return CompilationView(
        id=c.id,
        model_id=c.model_id,
        model_name=model.name if model else "",
        status=c.status,
        requested_by=names.get(c.requested_by_id) if c.requested_by_id else None,
        forced=c.forced,
        budget_override=c.budget_override,
        config_only=c.config_only,
        cancel_requested=c.cancel_requested,
        created_at=c.created_at,
        started_at=c.started_at,
        finished_at=c.finished_at,
        example_count=c.example_count,
        token_count=c.token_count,
        billed_tokens_estimate=c.billed_tokens_estimate,
        cost_estimate=c.cost_estimate,
        trained_tokens=c.trained_tokens,
        actual_cost=c.actual_cost,
        base_model=c.base_model,
        dataset_hash=c.dataset_hash,
        provider_file_id=c.provider_file_id,
        provider_job_id=c.provider_job_id,
        provider_status=c.provider_status,
        provider_model=c.provider_model,
        estimated_finish_at=c.estimated_finish_at,
        error=c.error,
        reason=c.reason,
        build_log=c.build_log or "",
        validation_score=c.validation_score,
        version_id=c.version_id,
        version_number=version.number if version else None,
        version_active=model is not None
        and version is not None
        and model.active_version_id == version.id,
        findings=findings,
        diff=diff,
    )

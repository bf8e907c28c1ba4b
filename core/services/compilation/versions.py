"""Model versions: list them, roll back or activate one (admins, with a reason, audited,
and everyone who trains the model is told), pin the one chat answers with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update

from core.domain import Role
from core.errors import Conflict, NotFound, Problem, ValidationFailed
from core.models import AIModel, Compilation, ModelVersion
from core.permissions import Actor, Permission, requires
from core.services.accounts.audit import record_audit
from core.services.accounts.notifications import notify_role
from core.services.compilation.deployments import redeploy_before_activation
from core.services.compilation.records import activate, model_link
from core.services.shared import get_or_404
from core.uow import UnitOfWork

REASON_MAX = 1_000


@dataclass(frozen=True)
class VersionView:
    id: int
    model_id: int
    number: int
    compilation_id: int | None
    provider_model_id: str
    base_model: str | None
    dataset_hash: str | None
    config_only: bool
    validation_score: float | None
    example_count: int | None
    created_at: datetime
    is_active: bool
    is_pinned: bool
    # Held back by the activation gate and not activated since.
    held_back: bool
    validation_error: str | None = None
    deployment_name: str | None = None
    # "ready", "creating", "failed", "manual" (to be named), "removed"; None: none needed
    deployment_state: str | None = None
    hosting_price_per_hour: Decimal | None = None
    activates_when_deployed: bool = False


@dataclass(frozen=True)
class AnsweringVersion:
    """What chat answers with: the pinned version when the model does not follow the
    latest one, else the active version."""

    model_id: int
    version_id: int
    number: int
    provider_model_id: str
    system_message: str
    pinned: bool


def _views(uow: UnitOfWork, model: AIModel) -> list[VersionView]:
    rows = uow.session.execute(
        select(ModelVersion, Compilation.example_count, Compilation.dataset_stats)
        .outerjoin(Compilation, Compilation.id == ModelVersion.compilation_id)
        .where(ModelVersion.model_id == model.id)
        .order_by(ModelVersion.number.desc())
    ).all()
    active = next((v for v, _, _ in rows if v.id == model.active_version_id), None)
    return [
        VersionView(
            id=v.id,
            model_id=v.model_id,
            number=v.number,
            compilation_id=v.compilation_id,
            provider_model_id=v.provider_model_id,
            base_model=v.base_model,
            dataset_hash=v.dataset_hash,
            config_only=v.config_only,
            validation_score=v.validation_score,
            example_count=examples,
            created_at=v.created_at,
            is_active=v.id == model.active_version_id,
            is_pinned=v.id == model.pinned_version_id,
            held_back=bool((stats or {}).get("held_back"))
            and v.id != model.active_version_id
            and (active is None or v.number > active.number),
            validation_error=v.validation_error,
            deployment_name=v.deployment_name,
            deployment_state=v.deployment_state,
            hosting_price_per_hour=v.hosting_price_per_hour,
            activates_when_deployed=v.activate_when_deployed,
        )
        for v, examples, stats in rows
    ]


@requires(Permission.READ)
def list_versions(uow: UnitOfWork, actor: Actor, model_id: int) -> list[VersionView]:
    """Newest first, the active one marked."""
    with uow:
        return _views(uow, get_or_404(uow.session, AIModel, model_id, "Model"))


def _switch(
    uow: UnitOfWork, actor: Actor, version_id: int, reason: str, action: str
) -> VersionView:
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(
            "Say why: the reason is kept in the audit trail.",
            [Problem("reason", "must not be empty")],
        )
    if len(reason) > REASON_MAX:
        raise ValidationFailed(
            "The reason is too long.", [Problem("reason", f"at most {REASON_MAX} characters")]
        )
    # A version whose deployment was removed is deployed again first; the worker activates
    # it once the deployment is ready (minutes), so nothing answers from a missing one.
    pending = redeploy_before_activation(uow, version_id)
    with uow:
        session = uow.session
        version = get_or_404(session, ModelVersion, version_id, "Version")
        model = get_or_404(session, AIModel, version.model_id, "Model")
        if model.active_version_id == version.id:
            raise Conflict(f"v{version.number} is already the active version of {model.name}.")
        previous = session.get(ModelVersion, model.active_version_id or 0)
        before = {"active_version": previous.number if previous else None}
        if not pending:
            activate(session, model, version, previous)
        compilation = session.get(Compilation, version.compilation_id or 0)
        if compilation is not None and (compilation.dataset_stats or {}).get("held_back"):
            compilation.dataset_stats = {**(compilation.dataset_stats or {}), "held_back": False}
        verb = "rolled back" if action == "rollback" else "activated"
        summary = f"{verb} {model.name} to v{version.number}" + (
            f" (from v{previous.number})" if previous else ""
        )
        if pending:
            summary += " once its deployment, asked for again, is ready"
        record_audit(
            session,
            actor,
            action,
            "version",
            version.id,
            f"{summary}: {reason}",
            before=before,
            after={"active_version": version.number, "reason": reason},
        )
        who = actor.display_name or actor.email
        notify_role(
            session,
            [Role.ADMIN.value, Role.TRAINER.value],
            action,
            f"{who} {summary}. Reason: {reason}",
            model_link(model.id),
        )
        uow.commit()
        return next(v for v in _views(uow, model) if v.id == version.id)


@requires(Permission.MANAGE_VERSIONS)
def rollback(uow: UnitOfWork, actor: Actor, version_id: int, reason: str) -> VersionView:
    """Make an earlier version the active one again."""
    with uow:
        version = get_or_404(uow.session, ModelVersion, version_id, "Version")
        model = get_or_404(uow.session, AIModel, version.model_id, "Model")
        active = uow.session.get(ModelVersion, model.active_version_id or 0)
        if active is not None and version.number > active.number:
            raise Conflict(
                f"v{version.number} is newer than the active v{active.number}: activate it "
                "instead of rolling back."
            )
    return _switch(uow, actor, version_id, reason, "rollback")


@requires(Permission.MANAGE_VERSIONS)
def activate_version(uow: UnitOfWork, actor: Actor, version_id: int, reason: str) -> VersionView:
    """Make any version the active one, e.g. one held back by the activation gate."""
    return _switch(uow, actor, version_id, reason, "activate")


@requires(Permission.MANAGE_MODELS)
def pin_version(
    uow: UnitOfWork, actor: Actor, model_id: int, version_id: int | None
) -> VersionView | None:
    """The version chat answers with while the model does not follow the latest version
    (None: answer with the active version)."""
    with uow:
        session = uow.session
        model = get_or_404(session, AIModel, model_id, "Model")
        version = None
        if version_id is not None:
            version = get_or_404(session, ModelVersion, version_id, "Version")
            if version.model_id != model.id:
                raise NotFound(f"Version #{version_id} is not a version of {model.name}.")
        old = session.get(ModelVersion, model.pinned_version_id or 0)
        session.execute(
            update(AIModel).where(AIModel.id == model.id).values(pinned_version_id=version_id)
        )
        record_audit(
            session,
            actor,
            "pin",
            "version",
            version_id,
            f"pinned {model.name} to v{version.number}" if version else f"unpinned {model.name}",
            before={"pinned_version": old.number if old else None},
            after={"pinned_version": version.number if version else None},
        )
        uow.commit()
        session.refresh(model)
        return next((v for v in _views(uow, model) if v.id == version_id), None)


@requires(Permission.READ)
def answering_version(uow: UnitOfWork, actor: Actor, model_id: int) -> AnsweringVersion | None:
    """The version chat answers with (None: the model has no version yet)."""
    with uow:
        model = get_or_404(uow.session, AIModel, model_id, "Model")
        pinned = not model.auto_update_to_latest and model.pinned_version_id is not None
        chosen = model.pinned_version_id if pinned else model.active_version_id
        version = uow.session.get(ModelVersion, chosen or 0)
        if version is None:
            return None
        return AnsweringVersion(
            model_id=model.id,
            version_id=version.id,
            number=version.number,
            provider_model_id=version.provider_model_id,
            system_message=version.system_message,
            pinned=pinned,
        )
